package rbac

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/testcluster"
)

// The oracle test's vocabulary: small on purpose, so that random rules and
// random questions collide often.
var (
	oracleNamespaces = []string{"n0", "n1", "n2", "n3", "n4", "n5"}
	oracleVerbs      = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection", "impersonate", "bind", "escalate", "use"}
	oracleGroups     = []string{"", "apps", "batch", "rbac.authorization.k8s.io", "example.com"}
	oracleResources  = []string{"pods", "pods/exec", "pods/log", "secrets", "configmaps", "deployments", "deployments/scale", "jobs", "roles", "widgets", "widgets/status", "nodes", "namespaces"}
	oracleStars      = []string{"*", "*/status", "*/scale", "*/exec"}
	oracleNames      = []string{"a", "b", "c"}
	oracleURLs       = []string{"/healthz", "/metrics", "/logs", "/logs/kube", "/api", "/api/v1", "/version"}
	oracleURLRules   = []string{"/healthz", "/metrics", "/logs/*", "/api/*", "*", "/version", "/logs"}
	oracleUsers      = 20
	oracleGroupCount = 10
	oracleAccounts   = 5
)

type oracleWorld struct {
	clusterRoles []*rbacv1.ClusterRole
	roles        []*rbacv1.Role
	crbs         []*rbacv1.ClusterRoleBinding
	rbs          []*rbacv1.RoleBinding
}

func pick[T any](r *rand.Rand, s []T) T { return s[r.IntN(len(s))] }

func pickSome[T comparable](r *rand.Rand, s []T, max int) []T {
	n := 1 + r.IntN(max)
	var out []T
	for range n {
		v := pick(r, s)
		if !slices.Contains(out, v) {
			out = append(out, v)
		}
	}
	return out
}

func randomRule(r *rand.Rand, nonResource bool) rbacv1.PolicyRule {
	rule := rbacv1.PolicyRule{Verbs: pickSome(r, oracleVerbs, 3)}
	if r.IntN(12) == 0 {
		rule.Verbs = append(rule.Verbs, "*")
	}
	if nonResource {
		rule.NonResourceURLs = pickSome(r, oracleURLRules, 2)
		return rule
	}
	rule.APIGroups = pickSome(r, oracleGroups, 2)
	if r.IntN(10) == 0 {
		rule.APIGroups = []string{"*"}
	}
	rule.Resources = pickSome(r, oracleResources, 3)
	if r.IntN(6) == 0 {
		rule.Resources = append(rule.Resources, pick(r, oracleStars))
	}
	if r.IntN(4) == 0 {
		rule.ResourceNames = pickSome(r, oracleNames, 2)
	}
	return rule
}

func randomSubjects(r *rand.Rand) []rbacv1.Subject {
	var out []rbacv1.Subject
	for range 1 + r.IntN(3) {
		switch r.IntN(10) {
		case 0, 1, 2, 3:
			out = append(out, rbacv1.Subject{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("u%d", r.IntN(oracleUsers))})
		case 4, 5, 6:
			out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: fmt.Sprintf("g%d", r.IntN(oracleGroupCount))})
		case 7:
			out = append(out, rbacv1.Subject{Kind: rbacv1.GroupKind, APIGroup: rbacv1.GroupName, Name: pick(r, []string{"system:authenticated", "system:serviceaccounts", "system:serviceaccounts:n1", "system:unauthenticated"})})
		default:
			out = append(out, rbacv1.Subject{Kind: rbacv1.ServiceAccountKind, Name: fmt.Sprintf("sa%d", r.IntN(oracleAccounts)), Namespace: pick(r, oracleNamespaces)})
		}
	}
	return out
}

// generateWorld builds a random RBAC world: ClusterRoles (some feeding
// aggregated ones, some aggregated ones feeding others), Roles, and
// bindings to users, groups, implicit groups and service accounts, some
// to roles that do not exist.
func generateWorld(r *rand.Rand) *oracleWorld {
	w := &oracleWorld{}
	for i := range 130 {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("cr%d", i), Labels: map[string]string{}}}
		for range 1 + r.IntN(3) {
			cr.Rules = append(cr.Rules, randomRule(r, r.IntN(5) == 0))
		}
		if r.IntN(3) == 0 {
			cr.Labels["agg"] = fmt.Sprintf("a%d", r.IntN(8))
		}
		if r.IntN(6) == 0 {
			cr.Labels["tier"] = pick(r, []string{"x", "y"})
		}
		w.clusterRoles = append(w.clusterRoles, cr)
	}
	for i := range 12 {
		cr := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("agg%d", i), Labels: map[string]string{}}}
		sel := metav1.LabelSelector{MatchLabels: map[string]string{"agg": fmt.Sprintf("a%d", i%8)}}
		if i%4 == 3 {
			sel = metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "tier", Operator: metav1.LabelSelectorOpIn, Values: []string{"x"}}}}
		}
		cr.AggregationRule = &rbacv1.AggregationRule{ClusterRoleSelectors: []metav1.LabelSelector{sel}}
		if i < 4 {
			// Nested: these feed agg8..agg11's selectors too.
			cr.Labels["tier"] = "x"
		}
		w.clusterRoles = append(w.clusterRoles, cr)
	}
	for i := range 100 {
		role := &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("r%d", i), Namespace: pick(r, oracleNamespaces)}}
		for range 1 + r.IntN(3) {
			role.Rules = append(role.Rules, randomRule(r, false))
		}
		w.roles = append(w.roles, role)
	}
	roleNames := func(ns string) []string {
		var out []string
		for _, role := range w.roles {
			if role.Namespace == ns {
				out = append(out, role.Name)
			}
		}
		return out
	}
	clusterRoleName := func() string {
		switch r.IntN(20) {
		case 0:
			return "missing-cluster-role"
		case 1:
			return pick(r, []string{"view", "edit", "admin"})
		}
		return w.clusterRoles[r.IntN(len(w.clusterRoles))].Name
	}
	for i := range 120 {
		w.crbs = append(w.crbs, &rbacv1.ClusterRoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("crb%d", i)},
			RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoleName()},
			Subjects:   randomSubjects(r),
		})
	}
	for i := range 220 {
		ns := pick(r, oracleNamespaces)
		ref := rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: clusterRoleName()}
		if names := roleNames(ns); r.IntN(2) == 0 && len(names) > 0 {
			ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: pick(r, names)}
		} else if r.IntN(25) == 0 {
			ref = rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "Role", Name: "missing-role"}
		}
		subjects := randomSubjects(r)
		for j := range subjects {
			if subjects[j].Kind == rbacv1.ServiceAccountKind && r.IntN(3) == 0 {
				subjects[j].Namespace = "" // defaults to the binding's namespace
			}
		}
		w.rbs = append(w.rbs, &rbacv1.RoleBinding{ObjectMeta: metav1.ObjectMeta{Name: fmt.Sprintf("rb%d", i), Namespace: ns}, RoleRef: ref, Subjects: subjects})
	}
	return w
}

func (w *oracleWorld) apply(ctx context.Context, t *testing.T, c kubernetes.Interface) {
	t.Helper()
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	for _, ns := range oracleNamespaces {
		_, err := c.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{})
		must(err)
	}
	for _, cr := range w.clusterRoles {
		_, err := c.RbacV1().ClusterRoles().Create(ctx, cr, metav1.CreateOptions{})
		must(err)
	}
	for _, role := range w.roles {
		_, err := c.RbacV1().Roles(role.Namespace).Create(ctx, role, metav1.CreateOptions{})
		must(err)
	}
	for _, b := range w.crbs {
		_, err := c.RbacV1().ClusterRoleBindings().Create(ctx, b, metav1.CreateOptions{})
		must(err)
	}
	for _, b := range w.rbs {
		_, err := c.RbacV1().RoleBindings(b.Namespace).Create(ctx, b, metav1.CreateOptions{})
		must(err)
	}
}

// aggregateOnServer does what the aggregation controller would (the test
// control plane runs no controller manager): each aggregated ClusterRole
// gets the union of the rules of the ClusterRoles its selectors match,
// selected by the API server itself, until nothing changes.
func aggregateOnServer(ctx context.Context, t *testing.T, c kubernetes.Interface) {
	t.Helper()
	for round := 0; ; round++ {
		if round > 10 {
			t.Fatal("aggregation does not converge")
		}
		all, err := c.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
		if err != nil {
			t.Fatal(err)
		}
		changed := false
		for _, cr := range all.Items {
			if cr.AggregationRule == nil {
				continue
			}
			var rules []rbacv1.PolicyRule
			for _, sel := range cr.AggregationRule.ClusterRoleSelectors {
				matched, err := c.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: metav1.FormatLabelSelector(&sel)})
				if err != nil {
					t.Fatal(err)
				}
				for _, m := range matched.Items {
					if m.Name == cr.Name {
						continue
					}
					for _, rule := range m.Rules {
						if !slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return equalRule(x, rule) }) {
							rules = append(rules, rule)
						}
					}
				}
			}
			if len(rules) == len(cr.Rules) && !slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool {
				return !slices.ContainsFunc(cr.Rules, func(y rbacv1.PolicyRule) bool { return equalRule(x, y) })
			}) {
				continue
			}
			cr.Rules = rules
			if _, err := c.RbacV1().ClusterRoles().Update(ctx, &cr, metav1.UpdateOptions{}); err != nil {
				t.Fatal(err)
			}
			changed = true
		}
		if !changed {
			return
		}
	}
}

// readBack lists every RBAC object from the server as source objects.
func readBack(ctx context.Context, t *testing.T, c kubernetes.Interface) []*source.Object {
	t.Helper()
	var objs []*source.Object
	add := func(kind string, items any) {
		list, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&map[string]any{"items": items})
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range list["items"].([]any) {
			body := it.(map[string]any)
			body["apiVersion"], body["kind"] = "rbac.authorization.k8s.io/v1", kind
			objs = append(objs, source.NewObject(body, source.Position{File: "cluster"}, -1))
		}
	}
	crs, err := c.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	add("ClusterRole", crs.Items)
	rs, _ := c.RbacV1().Roles("").List(ctx, metav1.ListOptions{})
	add("Role", rs.Items)
	crbs, _ := c.RbacV1().ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	add("ClusterRoleBinding", crbs.Items)
	rbs, _ := c.RbacV1().RoleBindings("").List(ctx, metav1.ListOptions{})
	add("RoleBinding", rbs.Items)
	return objs
}

type question struct {
	id  Identity
	req Request
}

func randomIdentity(r *rand.Rand) Identity {
	switch r.IntN(10) {
	case 0, 1, 2:
		s := Subject{Kind: rbacv1.ServiceAccountKind, Namespace: pick(r, oracleNamespaces), Name: fmt.Sprintf("sa%d", r.IntN(oracleAccounts))}
		return IdentityOf(s)
	case 3:
		return IdentityOf(Subject{Kind: rbacv1.UserKind, Name: UserAnonymous})
	default:
		id := IdentityOf(Subject{Kind: rbacv1.UserKind, Name: fmt.Sprintf("u%d", r.IntN(oracleUsers))})
		for range r.IntN(3) {
			id.Groups = append(id.Groups, fmt.Sprintf("g%d", r.IntN(oracleGroupCount)))
		}
		return id
	}
}

func randomQuestion(r *rand.Rand) question {
	q := question{id: randomIdentity(r)}
	if r.IntN(8) == 0 {
		q.req = Request{Verb: pick(r, []string{"get", "post", "put", "delete"}), Path: pick(r, oracleURLs)}
		return q
	}
	res, sub, _ := strings.Cut(pick(r, oracleResources), "/")
	q.req = Request{Verb: pick(r, oracleVerbs), APIGroup: pick(r, oracleGroups), Resource: res, Subresource: sub}
	if r.IntN(2) == 0 {
		q.req.Name = pick(r, append(oracleNames, "z"))
	}
	if r.IntN(5) != 0 {
		q.req.Namespace = pick(r, append(oracleNamespaces, "elsewhere"))
	}
	return q
}

func (q question) review() *authzv1.SubjectAccessReview {
	sar := &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{User: q.id.Name, Groups: q.id.Groups}}
	if q.req.IsResource() {
		sar.Spec.ResourceAttributes = &authzv1.ResourceAttributes{
			Namespace: q.req.Namespace, Verb: q.req.Verb, Group: q.req.APIGroup, Resource: q.req.Resource,
			Subresource: q.req.Subresource, Name: q.req.Name,
		}
	} else {
		sar.Spec.NonResourceAttributes = &authzv1.NonResourceAttributes{Path: q.req.Path, Verb: q.req.Verb}
	}
	return sar
}

// TestOracleAgainstAPIServer generates a random RBAC world, applies it to
// a real kube-apiserver, and asks both the server (SubjectAccessReview)
// and the engine (Allowed, and membership in WhoCan) the same random
// questions. Every answer must agree.
func TestOracleAgainstAPIServer(t *testing.T) {
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("KUBEHARDEN_ORACLE_SEED"); s != "" {
		var err error
		if seed, err = strconv.ParseUint(s, 10, 64); err != nil {
			t.Fatalf("KUBEHARDEN_ORACLE_SEED: %v", err)
		}
	}
	t.Logf("seed %d (set KUBEHARDEN_ORACLE_SEED to repeat)", seed)
	r := rand.New(rand.NewPCG(seed, 0x6b68))
	c := testcluster.Start(t, testcluster.Options{})
	cfg := rest.CopyConfig(c.Admin)
	cfg.QPS, cfg.Burst = 2000, 2000
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	gen := generateWorld(r)
	gen.apply(ctx, t, client)
	aggregateOnServer(ctx, t, client)
	objs := readBack(ctx, t, client)
	w := Build(objs, Options{})
	t.Logf("world: %d ClusterRoles (%d generated, 12 aggregated), %d Roles, %d ClusterRoleBindings, %d RoleBindings (including the server's bootstrap objects)",
		len(gen.clusterRoles)+len(defaults().ClusterRoles), len(gen.clusterRoles), len(gen.roles), len(gen.crbs), len(gen.rbs))
	waitForAuthorizerCache(ctx, t, client, gen)

	const questions = 12000
	var asked, disagree atomic.Int64
	var allowedCount atomic.Int64
	var mu sync.Mutex
	var failures []string
	work := make(chan question)
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			for q := range work {
				resp, err := client.AuthorizationV1().SubjectAccessReviews().Create(ctx, q.review(), metav1.CreateOptions{})
				if err != nil {
					mu.Lock()
					failures = append(failures, fmt.Sprintf("SAR %v: %v", q.req, err))
					mu.Unlock()
					continue
				}
				asked.Add(1)
				want := resp.Status.Allowed
				if want {
					allowedCount.Add(1)
				}
				got, _ := w.Allowed(q.id, q.req)
				allows := w.AccessOf(q.id).Allows(q.req)
				whoCan := slices.ContainsFunc(w.WhoCan(q.req, false), func(a Answer) bool { return a.Subject.Matches(q.id) })
				if got != want || allows != want || whoCan != want {
					disagree.Add(1)
					mu.Lock()
					if len(failures) < 20 {
						failures = append(failures, fmt.Sprintf("%s %v asks %s: server %v, Allowed %v, Access.Allows %v, WhoCan %v (%s)", q.id.Name, q.id.Groups, q.req, want, got, allows, whoCan, resp.Status.Reason))
					}
					mu.Unlock()
				}
			}
		})
	}
	start := time.Now()
	for range questions {
		work <- randomQuestion(r)
	}
	close(work)
	wg.Wait()
	t.Logf("%d questions in %v: %d allowed by the server, %d disagreements", asked.Load(), time.Since(start).Round(time.Millisecond), allowedCount.Load(), disagree.Load())
	for _, f := range failures {
		t.Error(f)
	}
	if asked.Load() < 10000 {
		t.Errorf("only %d questions answered", asked.Load())
	}
	if allowedCount.Load() < asked.Load()/20 {
		t.Errorf("only %d of %d questions allowed: the world is too sparse to prove much", allowedCount.Load(), asked.Load())
	}
}

// waitForAuthorizerCache waits until the server's RBAC authorizer (which
// reads through informers) sees the last objects written: the last
// binding's first grant must be allowed.
func waitForAuthorizerCache(ctx context.Context, t *testing.T, c kubernetes.Interface, gen *oracleWorld) {
	t.Helper()
	sentinel := &rbacv1.ClusterRoleBinding{
		ObjectMeta: metav1.ObjectMeta{Name: "zz-sentinel"},
		RoleRef:    rbacv1.RoleRef{APIGroup: rbacv1.GroupName, Kind: "ClusterRole", Name: "zz-sentinel"},
		Subjects:   []rbacv1.Subject{{Kind: rbacv1.UserKind, APIGroup: rbacv1.GroupName, Name: "zz-sentinel"}},
	}
	role := &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "zz-sentinel"}, Rules: []rbacv1.PolicyRule{{Verbs: []string{"get"}, NonResourceURLs: []string{"/zz-sentinel"}}}}
	if _, err := c.RbacV1().ClusterRoles().Create(ctx, role, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.RbacV1().ClusterRoleBindings().Create(ctx, sentinel, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		resp, err := c.AuthorizationV1().SubjectAccessReviews().Create(ctx, &authzv1.SubjectAccessReview{Spec: authzv1.SubjectAccessReviewSpec{
			User: "zz-sentinel", NonResourceAttributes: &authzv1.NonResourceAttributes{Path: "/zz-sentinel", Verb: "get"},
		}}, metav1.CreateOptions{})
		if err == nil && resp.Status.Allowed {
			time.Sleep(500 * time.Millisecond) // writes before the sentinel are in the same watch streams
			return
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Fatal("the API server's RBAC cache never saw the sentinel binding")
}

// TestRBACToolDisagreementsWithServer applies the rbac-tool fixtures where
// kubeharden and rbac-tool disagree to the real API server and asks it.
func TestRBACToolDisagreementsWithServer(t *testing.T) {
	dir := corpusDir(t, "rbac-tool")
	c := testcluster.Start(t, testcluster.Options{})
	client := c.Client(t)
	ctx := t.Context()
	if _, err := client.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "test"}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	var objs []*source.Object
	for _, f := range []string{"testdata/whocan/nonresourceurl-reader.yaml", "testdata/whocan/gatewat-api-operator.yaml"} {
		_, o := loadWorld(t, filepath.Join(dir, f))
		objs = append(objs, o...)
	}
	for _, o := range objs {
		var err error
		switch o.Kind() {
		case "ClusterRole":
			var v rbacv1.ClusterRole
			if err = runtime.DefaultUnstructuredConverter.FromUnstructured(o.Body(), &v); err == nil {
				_, err = client.RbacV1().ClusterRoles().Create(ctx, &v, metav1.CreateOptions{})
			}
		case "RoleBinding":
			var v rbacv1.RoleBinding
			if err = runtime.DefaultUnstructuredConverter.FromUnstructured(o.Body(), &v); err == nil {
				_, err = client.RbacV1().RoleBindings(v.Namespace).Create(ctx, &v, metav1.CreateOptions{})
			}
		}
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
	w := Build(objs, Options{})
	// The authorizer's informers see new bindings a moment later: the
	// positive control (asked first) waits for them.
	ask := func(q question, wait bool) bool {
		t.Helper()
		var resp *authzv1.SubjectAccessReview
		var err error
		attempts := 1
		if wait {
			attempts = 100
		}
		for range attempts {
			resp, err = client.AuthorizationV1().SubjectAccessReviews().Create(ctx, q.review(), metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if resp.Status.Allowed {
				break
			}
			time.Sleep(100 * time.Millisecond)
		}
		if got, _ := w.Allowed(q.id, q.req); got != resp.Status.Allowed {
			t.Errorf("%s: kubeharden %v, server %v", q.req, got, resp.Status.Allowed)
		}
		return resp.Status.Allowed
	}
	gw := IdentityOf(Subject{Kind: "User", Name: "gateway-network-operator-user"})
	if !ask(question{gw, Request{Verb: "create", APIGroup: "gateway.networking.k8s.io", Resource: "gateways", Namespace: "test"}}, true) {
		t.Error("positive control: the gateway operator may create gateways in test")
	}
	if ask(question{gw, Request{Verb: "get", APIGroup: "gateway.networking.k8s.io", Resource: "gateways", Namespace: "test"}}, false) {
		t.Error("the server allows get gateways: rbac-tool was right")
	}
	reader := IdentityOf(Subject{Kind: "User", Name: "test-nonresourceurl-reader"})
	if ask(question{reader, Request{Verb: "get", Path: "/test-reader"}}, false) {
		t.Error("the server allows /test-reader through a RoleBinding: rbac-tool was right")
	}
}

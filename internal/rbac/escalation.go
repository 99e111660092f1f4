package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeharden/kubeharden/internal/source"
)

// Technique is one known way to turn a permission into more power; every
// edge of the escalation graph is one.
type Technique struct {
	ID          string `json:"id"`
	Title       string `json:"title"`
	Description string `json:"description"`
}

// The techniques, in the order docs/rbac.md documents them.
var (
	TechAllPermissions = Technique{"all-permissions", "holds every permission",
		"Every verb on every resource of every API group cluster-wide (what cluster-admin grants)."}
	TechCreateWorkload = Technique{"create-workload", "create or modify pods and workload controllers",
		"Creating a pod (directly, or through a Deployment, DaemonSet, StatefulSet, ReplicaSet, ReplicationController, Job or CronJob, or by updating one's pod template) may name any service account of the namespace; the pod's containers get its token."}
	TechExecIntoPod = Technique{"exec-into-pod", "exec, attach or debug running pods",
		"pods/exec, pods/attach or pods/ephemeralcontainers (kubectl debug) on a running pod gives a shell with the token of the pod's service account."}
	TechReadTokenSecrets = Technique{"read-token-secrets", "read legacy service-account token Secrets",
		"get/list/watch on Secrets of a namespace reads its long-lived kubernetes.io/service-account-token Secrets, each a token of its service account."}
	TechMintTokenSecret = Technique{"mint-token-secret", "create and read Secrets",
		"Creating a Secret of type kubernetes.io/service-account-token annotated with a service account's name makes the token controller fill it with that account's token; reading it back needs get on Secrets."}
	TechTokenRequest = Technique{"token-request", "create service-account tokens",
		"create on serviceaccounts/token issues a token for the service account (the TokenRequest API)."}
	TechImpersonate = Technique{"impersonate", "impersonate users, groups or service accounts",
		"The impersonate verb lets every request act as the named user, group or service account; impersonating the group system:masters (with any user) is cluster-admin."}
	TechBindRole = Technique{"bind-role", "bind roles it does not hold",
		"The bind verb on a role lets a subject create bindings to it even when it lacks its permissions; with create on (cluster)rolebindings that grants the role to itself. RBAC write access without bind or escalate is not an escalation: the API server refuses bindings and role updates that grant more than the writer holds."}
	TechEscalateRole = Technique{"escalate-role", "add permissions to roles",
		"The escalate verb on roles lets a subject that may update them add permissions it does not hold, to a role it is bound to."}
	TechNodeProxy = Technique{"node-proxy", "call the kubelet API through nodes/proxy",
		"nodes/proxy reaches every kubelet's API, whose exec and run endpoints give a shell in any pod on any node, control-plane pods included (their credentials open the whole cluster)."}
	TechMutatingWebhook = Technique{"mutating-webhook", "write mutating admission webhooks",
		"A mutating webhook configuration sends every matching object to a server of the writer's choice, which may rewrite it: inject containers, service accounts or privileges into any pod."}
	TechSignCertificate = Technique{"sign-client-certificate", "approve client certificates",
		"Creating a CertificateSigningRequest for the kubernetes.io/kube-apiserver-client signer and approving it yields a client certificate for any user and groups, system:masters included."}
	TechNamespaceAdmin = Technique{"namespace-admin", "everything in a namespace",
		"Holding every permission in a namespace includes creating pods there, so any service account of the namespace."}
)

// Techniques lists every technique the graph knows.
func Techniques() []Technique {
	return []Technique{TechAllPermissions, TechCreateWorkload, TechExecIntoPod, TechReadTokenSecrets, TechMintTokenSecret,
		TechTokenRequest, TechImpersonate, TechBindRole, TechEscalateRole, TechNodeProxy, TechMutatingWebhook, TechSignCertificate, TechNamespaceAdmin}
}

// NodeKind says what a graph node stands for.
type NodeKind string

const (
	// NodeSubject is a user, group or service account.
	NodeSubject NodeKind = "Subject"
	// NodeNamespaceAccounts is "any service account of a namespace".
	NodeNamespaceAccounts NodeKind = "AnyServiceAccountIn"
	// NodeNamespaceAdmin is "every permission in a namespace".
	NodeNamespaceAdmin NodeKind = "NamespaceAdmin"
	// NodeClusterAdmin is cluster-admin-equivalent power.
	NodeClusterAdmin NodeKind = "ClusterAdminEquivalent"
)

// Node is a vertex of the escalation graph.
type Node struct {
	Kind      NodeKind `json:"kind"`
	Subject   *Subject `json:"subject,omitempty"`
	Namespace string   `json:"namespace,omitempty"`
}

func (n Node) String() string {
	switch n.Kind {
	case NodeSubject:
		return n.Subject.String()
	case NodeNamespaceAccounts:
		return "any service account in " + n.Namespace
	case NodeNamespaceAdmin:
		return "every permission in namespace " + n.Namespace
	}
	return "cluster-admin-equivalent"
}

// Edge is one step: from a node, using a technique (allowed by grants),
// to a node.
type Edge struct {
	From      Node      `json:"from"`
	To        Node      `json:"to"`
	Technique Technique `json:"technique"`
	// Detail says what exactly the step uses ("create pods in ci").
	Detail string  `json:"detail"`
	Grants []Grant `json:"grants,omitempty"`
}

// Path is a sequence of edges from a subject to cluster-admin-equivalent
// power.
type Path struct {
	Edges []Edge `json:"steps"`
}

// Graph is the escalation graph of a world, computed once.
type Graph struct {
	w     *World
	edges map[Node][]Edge
	// dist is each node's number of steps to cluster-admin-equivalent
	// power; nodes that cannot reach it are absent.
	dist     map[Node]int
	subjects []Subject
	byValue  map[Subject]Node
}

var clusterAdmin = Node{Kind: NodeClusterAdmin}

// Key helpers: Node holds a pointer, so map keys compare by identity. The
// graph interns subject nodes so equal subjects share one pointer.
type interner map[Subject]*Subject

func (in interner) node(s Subject) Node {
	p, ok := in[s]
	if !ok {
		p = &s
		in[s] = p
	}
	return Node{Kind: NodeSubject, Subject: p}
}

// Escalation builds the escalation graph: every subject named by a
// binding, every service account the input shows (ServiceAccount objects,
// pods' serviceAccountName, token Secrets) and every namespace's default
// service account, with the edges their permissions allow.
func (w *World) Escalation(objs []*source.Object) *Graph {
	facts := collectFacts(w, objs)
	subjects := make(map[Subject]bool, len(w.bindings))
	for _, b := range w.bindings {
		for _, s := range b.Subjects {
			if subj, ok := subjectOf(s, b.Namespace); ok {
				subjects[subj] = true
			}
		}
	}
	for ns, accounts := range facts.accounts {
		for _, name := range accounts {
			subjects[Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}] = true
		}
	}
	// Sized up front: at scale, growing these was most of what building
	// the graph allocated.
	g := &Graph{w: w, edges: make(map[Node][]Edge, len(subjects)+2*len(facts.accounts)), subjects: make([]Subject, 0, len(subjects))}
	in := make(interner, len(subjects))
	for s := range subjects {
		g.subjects = append(g.subjects, s)
	}
	slices.SortFunc(g.subjects, CompareSubjects)
	for _, s := range g.subjects {
		from := in.node(s)
		g.edges[from] = w.edgesOf(from, IdentityOf(s), facts, in)
	}
	for ns := range facts.accounts {
		from := Node{Kind: NodeNamespaceAccounts, Namespace: ns}
		edges := make([]Edge, 0, len(facts.accounts[ns]))
		for _, name := range facts.accounts[ns] {
			to := in.node(Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name})
			edges = append(edges, Edge{From: from, To: to, Technique: TechCreateWorkload, Detail: "run a pod as " + to.String()})
		}
		if len(edges) > 0 {
			g.edges[from] = edges
		}
		admin := Node{Kind: NodeNamespaceAdmin, Namespace: ns}
		g.edges[admin] = []Edge{{From: admin, To: from, Technique: TechNamespaceAdmin, Detail: "create pods in " + ns}}
	}
	g.byValue = make(map[Subject]Node, len(in))
	for s, p := range in {
		g.byValue[s] = Node{Kind: NodeSubject, Subject: p}
	}
	g.distances()
	return g
}

// facts are what the graph needs besides RBAC: which service accounts
// exist in each namespace, which ones pods run as, which have token
// Secrets.
type escalationFacts struct {
	// users and groups are those bindings name; namespaces every
	// namespace with service accounts.
	users, groups []Subject
	namespaces    []string
	accounts      map[string][]string            // namespace -> service accounts
	podAccounts   map[string][]string            // namespace -> service accounts of pods
	tokenSecrets  map[string]map[string][]string // namespace -> secret name -> service account
}

func collectFacts(w *World, objs []*source.Object) *escalationFacts {
	f := &escalationFacts{accounts: map[string][]string{}, podAccounts: map[string][]string{}, tokenSecrets: map[string]map[string][]string{}}
	add := func(m map[string][]string, ns, name string) {
		if ns != "" && name != "" && !slices.Contains(m[ns], name) {
			m[ns] = append(m[ns], name)
		}
	}
	for ns := range w.namespaces {
		add(f.accounts, ns, "default")
	}
	for k := range w.serviceAccounts {
		add(f.accounts, k[0], k[1])
	}
	for _, b := range w.bindings {
		for _, s := range b.Subjects {
			if subj, ok := subjectOf(s, b.Namespace); ok && subj.Kind == rbacv1.ServiceAccountKind {
				add(f.accounts, subj.Namespace, "default")
			}
		}
	}
	for _, o := range objs {
		switch {
		case o.Kind() == "Secret" && o.Group() == "":
			if t, _ := o.Field("type").(string); t == string(corev1.SecretTypeServiceAccountToken) {
				sa := o.Annotations()[corev1.ServiceAccountNameKey]
				if sa != "" {
					ns := o.Namespace()
					if f.tokenSecrets[ns] == nil {
						f.tokenSecrets[ns] = map[string][]string{}
					}
					f.tokenSecrets[ns][o.Name()] = append(f.tokenSecrets[ns][o.Name()], sa)
					add(f.accounts, ns, sa)
				}
			}
		default:
			if sa, ok := podServiceAccount(o); ok {
				add(f.podAccounts, o.Namespace(), sa)
				add(f.accounts, o.Namespace(), sa)
			}
		}
	}
	for _, m := range []map[string][]string{f.accounts, f.podAccounts} {
		for ns := range m {
			slices.Sort(m[ns])
		}
	}
	f.namespaces = sortedKeys(f.accounts)
	for _, s := range w.knownUsersAndGroups() {
		if s.Kind == rbacv1.UserKind {
			f.users = append(f.users, s)
		} else {
			f.groups = append(f.groups, s)
		}
	}
	return f
}

// podServiceAccount returns the service account a workload's pods run
// as, for the built-in workload kinds.
func podServiceAccount(o *source.Object) (string, bool) {
	var spec map[string]any
	switch o.Group() + "/" + o.Kind() {
	case "/Pod":
		spec, _ = o.Field("spec").(map[string]any)
	case "apps/Deployment", "apps/StatefulSet", "apps/DaemonSet", "apps/ReplicaSet", "/ReplicationController", "batch/Job":
		spec = nested(o.Field("spec"), "template", "spec")
	case "batch/CronJob":
		spec = nested(o.Field("spec"), "jobTemplate", "spec", "template", "spec")
	default:
		return "", false
	}
	if spec == nil {
		return "", false
	}
	// Both fields are strings; a value of another type makes the pod spec
	// undecodable, and the pod is then taken to run as "default".
	name, ok := stringField(spec["serviceAccountName"])
	deprecated, ok2 := stringField(spec["serviceAccount"])
	switch {
	case !ok || !ok2:
		return "default", true
	case name != "":
		return name, true
	case deprecated != "":
		return deprecated, true
	}
	return "default", true
}

// stringField reads a string field of a decoded manifest: a string, or
// null for none; ok is false for any other value.
func stringField(v any) (s string, ok bool) {
	switch v := v.(type) {
	case nil:
		return "", true
	case string:
		return v, true
	}
	return "", false
}

func nested(v any, keys ...string) map[string]any {
	m, _ := v.(map[string]any)
	for _, k := range keys {
		m, _ = m[k].(map[string]any)
		if m == nil {
			return nil
		}
	}
	return m
}

// perms evaluates one identity's requests against only its own bindings.
type perms struct {
	w        *World
	bindings []*Binding
	// namespaces are the namespaces of its RoleBindings.
	namespaces []string
}

func (w *World) permsOf(id Identity) *perms {
	p := &perms{w: w}
	if slices.Contains(id.Groups, GroupMasters) {
		return nil
	}
	p.bindings = w.BindingsOf(id)
	for _, b := range p.bindings {
		if b.Kind == "RoleBinding" && !slices.Contains(p.namespaces, b.Namespace) {
			p.namespaces = append(p.namespaces, b.Namespace)
		}
	}
	slices.Sort(p.namespaces)
	return p
}

// allowed is World.Allowed restricted to the identity's bindings.
func (p *perms) allowed(req Request) []Grant {
	var grants []Grant
	for _, b := range p.bindings {
		if b.Role == nil || !p.w.appliesTo(b, req, false) {
			continue
		}
		for i := range b.Role.Rules {
			if RuleAllows(&b.Role.Rules[i], req) {
				grants = append(grants, grantOf(b, i))
			}
		}
	}
	return grants
}

// scopes returns where the identity is allowed req: "" when cluster-wide
// (then no namespace is listed), else each namespace of its RoleBindings
// where it is, with the grants.
func (p *perms) scopes(req Request) map[string][]Grant {
	req.Namespace = ""
	if g := p.allowed(req); len(g) > 0 {
		return map[string][]Grant{"": g}
	}
	var out map[string][]Grant // most subjects may do most things nowhere
	for _, ns := range p.namespaces {
		req.Namespace = ns
		if g := p.allowed(req); len(g) > 0 {
			if out == nil {
				out = map[string][]Grant{}
			}
			out[ns] = g
		}
	}
	return out
}

// allOf returns the grants for every request, or nil if one is missing.
func (p *perms) allOf(reqs ...Request) []Grant {
	var all []Grant
	for _, r := range reqs {
		g := p.allowed(r)
		if len(g) == 0 {
			return nil
		}
		all = append(all, g...)
	}
	return all
}

// workloadWrites are the requests that each let a subject run a pod of
// its choosing in a namespace.
var workloadWrites = func() []Request {
	reqs := []Request{{Verb: "create", Resource: "pods"}}
	for _, r := range []struct{ group, resource string }{
		{"apps", "deployments"}, {"apps", "statefulsets"}, {"apps", "daemonsets"}, {"apps", "replicasets"},
		{"", "replicationcontrollers"}, {"batch", "jobs"}, {"batch", "cronjobs"},
	} {
		for _, v := range []string{"create", "update", "patch"} {
			reqs = append(reqs, Request{Verb: v, APIGroup: r.group, Resource: r.resource})
		}
	}
	return reqs
}()

// edgesOf computes the techniques an identity can use.
func (w *World) edgesOf(from Node, id Identity, f *escalationFacts, in interner) []Edge {
	p := w.permsOf(id)
	if p == nil {
		return []Edge{{From: from, To: clusterAdmin, Technique: TechAllPermissions, Detail: "member of system:masters", Grants: []Grant{mastersGrant}}}
	}
	if len(p.bindings) == 0 {
		return nil
	}
	var edges []Edge
	edge := func(to Node, t Technique, detail string, grants []Grant) {
		edges = append(edges, Edge{From: from, To: to, Technique: t, Detail: detail, Grants: grants})
	}
	// Direct: everything, cluster-wide.
	if g := p.allowed(Request{Verb: "*", APIGroup: "*", Resource: "*"}); len(g) > 0 {
		edge(clusterAdmin, TechAllPermissions, "every verb on every resource cluster-wide", g)
		return edges // nothing shorter or more useful to say
	}
	// Namespace admin.
	adminIn := map[string]bool{}
	for _, ns := range p.namespaces {
		if g := p.allowed(Request{Verb: "*", APIGroup: "*", Resource: "*", Namespace: ns}); len(g) > 0 {
			adminIn[ns] = true
			edge(Node{Kind: NodeNamespaceAccounts, Namespace: ns}, TechNamespaceAdmin, "every permission in "+ns, g)
		}
	}
	namespaces := func(scopes map[string][]Grant) []string {
		if _, ok := scopes[""]; ok {
			return f.namespaces
		}
		return sortedKeys(scopes)
	}
	grantsIn := func(scopes map[string][]Grant, ns string) []Grant {
		if g, ok := scopes[""]; ok {
			return g
		}
		return scopes[ns]
	}
	// Workloads.
	seen := map[string]bool{}
	for _, req := range workloadWrites {
		sc := p.scopes(req)
		for _, ns := range namespaces(sc) {
			if seen[ns] || adminIn[ns] {
				continue
			}
			seen[ns] = true
			what := req.Verb + " " + req.Resource
			edge(Node{Kind: NodeNamespaceAccounts, Namespace: ns}, TechCreateWorkload, what+" in "+ns, grantsIn(sc, ns))
		}
	}
	// Exec into running pods.
	for _, q := range []Request{
		{Verb: "create", Resource: "pods", Subresource: "exec"},
		{Verb: "create", Resource: "pods", Subresource: "attach"},
		{Verb: "patch", Resource: "pods", Subresource: "ephemeralcontainers"},
		{Verb: "update", Resource: "pods", Subresource: "ephemeralcontainers"},
	} {
		sub := q.Subresource
		sc := p.scopes(q)
		for _, ns := range namespaces(sc) {
			if seen[ns] || adminIn[ns] {
				continue
			}
			for _, sa := range f.podAccounts[ns] {
				edge(in.node(Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}), TechExecIntoPod,
					fmt.Sprintf("%s pods/%s of pods running as serviceaccount:%s:%s", q.Verb, sub, ns, sa), grantsIn(sc, ns))
			}
		}
	}
	// Token secrets: read the existing ones, or mint one.
	if len(f.tokenSecrets) > 0 {
		readable := map[[2]string][]Grant{} // namespace, secret -> grants
		var verbOf = map[[2]string]string{}
		for _, v := range []string{"get", "list", "watch"} {
			req := Request{Verb: v, Resource: "secrets"}
			names, anyName := p.names(req)
			if !anyName && len(names) == 0 {
				continue
			}
			for _, ns := range p.candidateNamespaces(req, f) {
				for name := range f.tokenSecrets[ns] {
					key := [2]string{ns, name}
					if _, done := readable[key]; done || (!anyName && !slices.Contains(names, name)) {
						continue
					}
					q := Request{Verb: v, Resource: "secrets", Namespace: ns}
					if v == "get" {
						q.Name = name
					}
					if g := p.allowed(q); len(g) > 0 {
						readable[key], verbOf[key] = g, v
					}
				}
			}
		}
		keys := make([][2]string, 0, len(readable))
		for k := range readable {
			keys = append(keys, k)
		}
		slices.SortFunc(keys, func(a, b [2]string) int { return cmp.Or(cmp.Compare(a[0], b[0]), cmp.Compare(a[1], b[1])) })
		for _, k := range keys {
			ns, name := k[0], k[1]
			for _, sa := range f.tokenSecrets[ns][name] {
				edge(in.node(Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}), TechReadTokenSecrets,
					fmt.Sprintf("%s Secret %s/%s, a token of serviceaccount:%s:%s", verbOf[k], ns, name, ns, sa), readable[k])
			}
		}
	}
	mintCreate, mintGet := p.scopes(Request{Verb: "create", Resource: "secrets"}), p.scopes(Request{Verb: "get", Resource: "secrets"})
	for _, ns := range namespaces(mintCreate) {
		if seen[ns] || adminIn[ns] {
			continue
		}
		if g := grantsIn(mintGet, ns); len(g) > 0 {
			seen[ns] = true
			edge(Node{Kind: NodeNamespaceAccounts, Namespace: ns}, TechMintTokenSecret, "create and get Secrets in "+ns, append(grantsIn(mintCreate, ns), g...))
		}
	}
	// TokenRequest.
	tokens := p.scopes(Request{Verb: "create", Resource: "serviceaccounts", Subresource: "token"})
	for _, ns := range namespaces(tokens) {
		if !seen[ns] && !adminIn[ns] {
			edge(Node{Kind: NodeNamespaceAccounts, Namespace: ns}, TechTokenRequest, "create serviceaccounts/token in "+ns, grantsIn(tokens, ns))
			seen[ns] = true
		}
	}
	// TokenRequest for named service accounts only (the namespace-wide
	// grant is handled above).
	tokenReq := Request{Verb: "create", Resource: "serviceaccounts", Subresource: "token"}
	if names, _ := p.names(tokenReq); len(names) > 0 {
		for _, ns := range p.candidateNamespaces(tokenReq, f) {
			if seen[ns] || adminIn[ns] {
				continue
			}
			for _, name := range names {
				if !slices.Contains(f.accounts[ns], name) {
					continue
				}
				req := tokenReq
				req.Namespace, req.Name = ns, name
				if g := p.allowed(req); len(g) > 0 {
					edge(in.node(Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}), TechTokenRequest,
						fmt.Sprintf("create a token for serviceaccount:%s:%s", ns, name), g)
				}
			}
		}
	}
	// Impersonation.
	w.impersonationEdges(p, edge, f, in)
	// bind / escalate.
	if g := p.allOf(Request{Verb: "bind", APIGroup: rbacv1.GroupName, Resource: "clusterroles", Name: "cluster-admin"},
		Request{Verb: "create", APIGroup: rbacv1.GroupName, Resource: "clusterrolebindings"}); g != nil {
		edge(clusterAdmin, TechBindRole, "bind ClusterRole cluster-admin with a new ClusterRoleBinding", g)
	}
	if g := p.allOf(Request{Verb: "escalate", APIGroup: rbacv1.GroupName, Resource: "clusterroles"},
		Request{Verb: "update", APIGroup: rbacv1.GroupName, Resource: "clusterroles"}); g != nil {
		edge(clusterAdmin, TechEscalateRole, "add every permission to a ClusterRole it is bound to", g)
	} else {
		for _, b := range p.bindings {
			if b.Kind != "ClusterRoleBinding" || b.RoleRef.Kind != "ClusterRole" {
				continue
			}
			if g := p.allOf(Request{Verb: "escalate", APIGroup: rbacv1.GroupName, Resource: "clusterroles", Name: b.RoleRef.Name},
				Request{Verb: "update", APIGroup: rbacv1.GroupName, Resource: "clusterroles", Name: b.RoleRef.Name}); g != nil {
				edge(clusterAdmin, TechEscalateRole, "add every permission to ClusterRole "+b.RoleRef.Name+", bound to it by "+b.String(), g)
				break
			}
		}
	}
	for _, ns := range p.namespaces {
		if adminIn[ns] {
			continue
		}
		bind := p.allOf(Request{Verb: "bind", APIGroup: rbacv1.GroupName, Resource: "clusterroles", Name: "admin", Namespace: ns},
			Request{Verb: "create", APIGroup: rbacv1.GroupName, Resource: "rolebindings", Namespace: ns})
		if bind != nil {
			edge(Node{Kind: NodeNamespaceAdmin, Namespace: ns}, TechBindRole, "bind ClusterRole admin in "+ns, bind)
		}
	}
	// Kubelet API.
	for _, v := range []string{"get", "create"} {
		if g := p.allowed(Request{Verb: v, Resource: "nodes", Subresource: "proxy"}); len(g) > 0 {
			edge(clusterAdmin, TechNodeProxy, v+" nodes/proxy", g)
			break
		}
	}
	// Admission.
	for _, v := range []string{"create", "update", "patch"} {
		if g := p.allowed(Request{Verb: v, APIGroup: "admissionregistration.k8s.io", Resource: "mutatingwebhookconfigurations"}); len(g) > 0 {
			edge(clusterAdmin, TechMutatingWebhook, v+" mutatingwebhookconfigurations", g)
			break
		}
	}
	// Certificates.
	csr := p.allOf(Request{Verb: "create", APIGroup: "certificates.k8s.io", Resource: "certificatesigningrequests"},
		Request{Verb: "update", APIGroup: "certificates.k8s.io", Resource: "certificatesigningrequests", Subresource: "approval"})
	if csr != nil {
		for _, signer := range []string{"kubernetes.io/kube-apiserver-client", "kubernetes.io/*"} {
			if g := p.allowed(Request{Verb: "approve", APIGroup: "certificates.k8s.io", Resource: "signers", Name: signer}); len(g) > 0 {
				edge(clusterAdmin, TechSignCertificate, "create and approve a CertificateSigningRequest for kubernetes.io/kube-apiserver-client", append(csr, g...))
				break
			}
		}
	}
	return edges
}

// impersonationEdges adds the subjects the identity may impersonate.
func (w *World) impersonationEdges(p *perms, edge func(Node, Technique, string, []Grant), f *escalationFacts, in interner) {
	imp := func(resource, name, ns string) []Grant {
		return p.allowed(Request{Verb: "impersonate", Resource: resource, Name: name, Namespace: ns})
	}
	// Impersonating groups needs a user to impersonate as well: any one.
	groupNames, anyGroup := p.names(Request{Verb: "impersonate", Resource: "groups"})
	if (anyGroup || len(groupNames) > 0) && p.impersonatesSomeUser() {
		if g := imp("groups", GroupMasters, ""); len(g) > 0 {
			edge(clusterAdmin, TechImpersonate, "impersonate group system:masters", g)
		}
		for _, s := range f.groups {
			if anyGroup || slices.Contains(groupNames, s.Name) {
				if g := imp("groups", s.Name, ""); len(g) > 0 {
					edge(in.node(s), TechImpersonate, "impersonate "+s.String(), g)
				}
			}
		}
	}
	if userNames, anyUser := p.names(Request{Verb: "impersonate", Resource: "users"}); anyUser || len(userNames) > 0 {
		for _, s := range f.users {
			if anyUser || slices.Contains(userNames, s.Name) {
				if g := imp("users", s.Name, ""); len(g) > 0 {
					edge(in.node(s), TechImpersonate, "impersonate "+s.String(), g)
				}
			}
		}
	}
	saReq := Request{Verb: "impersonate", Resource: "serviceaccounts"}
	names, anyName := p.names(saReq)
	if !anyName && len(names) == 0 {
		return
	}
	for _, ns := range p.candidateNamespaces(saReq, f) {
		if anyName {
			req := saReq
			req.Namespace = ns
			if g := p.allowed(req); len(g) > 0 {
				edge(Node{Kind: NodeNamespaceAccounts, Namespace: ns}, TechImpersonate, "impersonate any service account in "+ns, g)
				continue
			}
		}
		for _, name := range f.accounts[ns] {
			if anyName || slices.Contains(names, name) {
				if g := imp("serviceaccounts", name, ns); len(g) > 0 {
					edge(in.node(Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: name}), TechImpersonate,
						fmt.Sprintf("impersonate serviceaccount:%s:%s", ns, name), g)
				}
			}
		}
	}
}

// names returns the resourceNames of the identity's rules that may allow
// req (whatever its name), and whether one of them allows every name. A
// rule that cannot allow req at all is skipped cheaply, so most subjects
// answer "none" without any further question.
func (p *perms) names(req Request) (names []string, any bool) {
	for _, b := range p.bindings {
		if b.Role == nil {
			continue
		}
		for i := range b.Role.Rules {
			r := &b.Role.Rules[i]
			if !mayAllow(r, req) {
				continue
			}
			if len(r.ResourceNames) == 0 {
				return nil, true
			}
			for _, n := range r.ResourceNames {
				if !slices.Contains(names, n) {
					names = append(names, n)
				}
			}
		}
	}
	return names, false
}

// candidateNamespaces are the namespaces where req may be allowed: every
// namespace when a ClusterRoleBinding may allow it, else those of the
// identity's RoleBindings.
func (p *perms) candidateNamespaces(req Request, f *escalationFacts) []string {
	for _, b := range p.bindings {
		if b.Kind != "ClusterRoleBinding" || b.Role == nil {
			continue
		}
		for i := range b.Role.Rules {
			if mayAllow(&b.Role.Rules[i], req) {
				return f.namespaces
			}
		}
	}
	return p.namespaces
}

// impersonatesSomeUser reports whether some rule lets the identity
// impersonate at least one user.
func (p *perms) impersonatesSomeUser() bool {
	for _, b := range p.bindings {
		if b.Role == nil || b.Kind != "ClusterRoleBinding" {
			continue
		}
		for _, r := range b.Role.Rules {
			verb := slices.Contains(r.Verbs, "impersonate") || slices.Contains(r.Verbs, rbacv1.VerbAll)
			group := slices.Contains(r.APIGroups, "") || slices.Contains(r.APIGroups, rbacv1.APIGroupAll)
			res := slices.Contains(r.Resources, "users") || slices.Contains(r.Resources, rbacv1.ResourceAll)
			if verb && group && res {
				return true
			}
		}
	}
	return false
}

// knownUsersAndGroups are the users and groups bindings name.
func (w *World) knownUsersAndGroups() []Subject {
	set := map[Subject]bool{}
	for _, b := range w.bindings {
		for _, s := range b.Subjects {
			if s.Kind == rbacv1.UserKind || s.Kind == rbacv1.GroupKind {
				set[Subject{Kind: s.Kind, Name: s.Name}] = true
			}
		}
	}
	out := make([]Subject, 0, len(set))
	for s := range set {
		out = append(out, s)
	}
	slices.SortFunc(out, CompareSubjects)
	return out
}

func sortedKeys[V any](m map[string]V) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// distances runs a breadth-first search backwards from
// cluster-admin-equivalent power.
func (g *Graph) distances() {
	reverse := map[Node][]Node{}
	for from, es := range g.edges {
		for _, e := range es {
			reverse[e.To] = append(reverse[e.To], from)
		}
	}
	g.dist = map[Node]int{clusterAdmin: 0}
	queue := []Node{clusterAdmin}
	for len(queue) > 0 {
		n := queue[0]
		queue = queue[1:]
		for _, prev := range reverse[n] {
			if _, ok := g.dist[prev]; !ok {
				g.dist[prev] = g.dist[n] + 1
				queue = append(queue, prev)
			}
		}
	}
}

// Subjects returns every subject of the graph, sorted.
func (g *Graph) Subjects() []Subject { return g.subjects }

// Paths returns the shortest paths from s to cluster-admin-equivalent
// power: one for each first step that leads there, shortest first. A
// subject the graph does not know (no binding names it) has none.
func (g *Graph) Paths(s Subject) []Path {
	start, ok := g.nodeOf(s)
	if !ok {
		return nil
	}
	if _, ok := g.dist[start]; !ok {
		return nil
	}
	var paths []Path
	seenFirst := map[string]bool{}
	for _, first := range g.edges[start] {
		if _, ok := g.dist[first.To]; !ok {
			continue
		}
		key := first.Technique.ID + "\x00" + first.To.String()
		if seenFirst[key] {
			continue
		}
		seenFirst[key] = true
		p := Path{Edges: []Edge{first}}
		for n := first.To; n != clusterAdmin; {
			next := g.nextHop(n)
			p.Edges = append(p.Edges, next)
			n = next.To
		}
		paths = append(paths, p)
	}
	slices.SortStableFunc(paths, func(a, b Path) int { return cmp.Compare(len(a.Edges), len(b.Edges)) })
	return paths
}

// nextHop is the first edge of n that gets one step closer.
func (g *Graph) nextHop(n Node) Edge {
	d := g.dist[n]
	for _, e := range g.edges[n] {
		if dd, ok := g.dist[e.To]; ok && dd == d-1 {
			return e
		}
	}
	panic("rbac: escalation graph distances are inconsistent at " + n.String())
}

// Reaches reports whether s can reach cluster-admin-equivalent power, and
// in how many steps.
func (g *Graph) Reaches(s Subject) (int, bool) {
	n, ok := g.nodeOf(s)
	if !ok {
		return 0, false
	}
	d, ok := g.dist[n]
	return d, ok
}

func (g *Graph) nodeOf(s Subject) (Node, bool) {
	n, ok := g.byValue[s]
	return n, ok
}

// Describe is the path in one line.
func (p Path) Describe() string {
	parts := make([]string, 0, len(p.Edges))
	for _, e := range p.Edges {
		parts = append(parts, e.Detail)
	}
	return strings.Join(parts, " → ")
}

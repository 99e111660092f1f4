package rbac

import (
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeharden/kubeharden/internal/source"
)

func world(t testing.TB, manifest string) (*World, []*source.Object) {
	t.Helper()
	res := source.ParseBytes("world.yaml", []byte(manifest))
	if len(res.Errors) > 0 {
		t.Fatalf("manifest: %v", res.Errors)
	}
	return Build(res.Objects, Options{}), res.Objects
}

func TestRuleAllows(t *testing.T) {
	rule := func(verbs, groups, resources, names []string) rbacv1.PolicyRule {
		return rbacv1.PolicyRule{Verbs: verbs, APIGroups: groups, Resources: resources, ResourceNames: names}
	}
	l := func(s ...string) []string { return s }
	cases := []struct {
		name string
		rule rbacv1.PolicyRule
		req  Request
		want bool
	}{
		{"exact", rule(l("get"), l(""), l("pods"), nil), Request{Verb: "get", Resource: "pods"}, true},
		{"other verb", rule(l("get"), l(""), l("pods"), nil), Request{Verb: "list", Resource: "pods"}, false},
		{"verb star", rule(l("*"), l(""), l("pods"), nil), Request{Verb: "escalate", Resource: "pods"}, true},
		{"other group", rule(l("get"), l("apps"), l("pods"), nil), Request{Verb: "get", Resource: "pods"}, false},
		{"group star", rule(l("get"), l("*"), l("deployments"), nil), Request{Verb: "get", APIGroup: "apps", Resource: "deployments"}, true},
		{"resource star covers subresources", rule(l("create"), l(""), l("*"), nil), Request{Verb: "create", Resource: "pods", Subresource: "exec"}, true},
		{"parent does not cover subresource", rule(l("create"), l(""), l("pods"), nil), Request{Verb: "create", Resource: "pods", Subresource: "exec"}, false},
		{"subresource", rule(l("create"), l(""), l("pods/exec"), nil), Request{Verb: "create", Resource: "pods", Subresource: "exec"}, true},
		{"subresource does not cover parent", rule(l("get"), l(""), l("pods/log"), nil), Request{Verb: "get", Resource: "pods"}, false},
		{"star slash subresource", rule(l("get"), l(""), l("*/status"), nil), Request{Verb: "get", Resource: "nodes", Subresource: "status"}, true},
		{"star slash other subresource", rule(l("get"), l(""), l("*/status"), nil), Request{Verb: "get", Resource: "nodes", Subresource: "proxy"}, false},
		{"name allowed", rule(l("get"), l(""), l("secrets"), l("a")), Request{Verb: "get", Resource: "secrets", Name: "a"}, true},
		{"name denied", rule(l("get"), l(""), l("secrets"), l("a")), Request{Verb: "get", Resource: "secrets", Name: "b"}, false},
		{"list with names", rule(l("list"), l(""), l("secrets"), l("a")), Request{Verb: "list", Resource: "secrets"}, false},
		{"no names covers named", rule(l("get"), l(""), l("secrets"), nil), Request{Verb: "get", Resource: "secrets", Name: "x"}, true},
		{"url exact", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/healthz")}, Request{Verb: "get", Path: "/healthz"}, true},
		{"url prefix", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/logs/*")}, Request{Verb: "get", Path: "/logs/a/b"}, true},
		{"url no prefix", rbacv1.PolicyRule{Verbs: l("get"), NonResourceURLs: l("/logs")}, Request{Verb: "get", Path: "/logs/a"}, false},
		{"url star", rbacv1.PolicyRule{Verbs: l("*"), NonResourceURLs: l("*")}, Request{Verb: "post", Path: "/anything"}, true},
		{"resource rule not url", rule(l("*"), l("*"), l("*"), nil), Request{Verb: "get", Path: "/healthz"}, false},
		{"url rule not resource", rbacv1.PolicyRule{Verbs: l("*"), NonResourceURLs: l("*")}, Request{Verb: "get", Resource: "pods"}, false},
	}
	for _, tc := range cases {
		if got := RuleAllows(&tc.rule, tc.req); got != tc.want {
			t.Errorf("%s: RuleAllows = %v, want %v", tc.name, got, tc.want)
		}
	}
}

func TestParseSubject(t *testing.T) {
	for in, want := range map[string]Subject{
		"user:alice":               {Kind: "User", Name: "alice"},
		"group:system:masters":     {Kind: "Group", Name: "system:masters"},
		"serviceaccount:ci:runner": {Kind: "ServiceAccount", Namespace: "ci", Name: "runner"},
		"sa:ci:runner":             {Kind: "ServiceAccount", Namespace: "ci", Name: "runner"},
		"user:system:anonymous":    {Kind: "User", Name: "system:anonymous"},
		"User:bob@example.com":     {Kind: "User", Name: "bob@example.com"},
	} {
		got, err := ParseSubject(in)
		if err != nil || got != want {
			t.Errorf("ParseSubject(%q) = %+v, %v", in, got, err)
		}
		if back, _ := ParseSubject(got.String()); back != got {
			t.Errorf("String of %+v does not parse back", got)
		}
	}
	for _, bad := range []string{"alice", "user:", "serviceaccount:ci", "serviceaccount::x", "pod:x"} {
		if _, err := ParseSubject(bad); err == nil {
			t.Errorf("ParseSubject(%q) accepted", bad)
		}
	}
	sa := IdentityOf(Subject{Kind: "User", Name: "system:serviceaccount:ci:runner"})
	if !slices.Contains(sa.Groups, "system:serviceaccounts:ci") {
		t.Errorf("a service account's user name gets its groups: %+v", sa)
	}
}

const sample = `
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: secret-reader, namespace: shop}
rules:
- {apiGroups: [""], resources: [secrets], verbs: [get, list]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: read, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: secret-reader}
subjects:
- {kind: User, name: alice}
- {kind: ServiceAccount, name: app}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring}
aggregationRule:
  clusterRoleSelectors:
  - matchLabels: {rbac.example.com/aggregate-to-monitoring: "true"}
rules: []
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: monitoring-pods, labels: {rbac.example.com/aggregate-to-monitoring: "true"}}
rules:
- {apiGroups: [""], resources: [pods], verbs: [get, list, watch]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: monitoring}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: monitoring}
subjects:
- {kind: Group, name: sre}
- {kind: ServiceAccount, name: no-namespace}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: dangling, namespace: shop}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: gone}
subjects: [{kind: User, name: carol}]
`

func names(answers []Answer) []string {
	var out []string
	for _, a := range answers {
		out = append(out, a.Subject.String())
	}
	return out
}

func TestWhoCan(t *testing.T) {
	w, _ := world(t, sample)
	cases := []struct {
		req  Request
		all  bool
		want []string
	}{
		{Request{Verb: "get", Resource: "secrets", Namespace: "shop"}, false, []string{"group:system:masters", "serviceaccount:shop:app", "user:alice"}},
		{Request{Verb: "get", Resource: "secrets", Namespace: "other"}, false, []string{"group:system:masters"}},
		{Request{Verb: "get", Resource: "secrets"}, true, []string{"group:system:masters", "serviceaccount:shop:app", "user:alice"}},
		{Request{Verb: "get", Resource: "secrets"}, false, []string{"group:system:masters"}},
		{Request{Verb: "watch", Resource: "secrets", Namespace: "shop"}, false, []string{"group:system:masters"}},
		{Request{Verb: "watch", Resource: "pods", Namespace: "any"}, false, []string{"group:sre", "group:system:masters"}},
	}
	for _, tc := range cases {
		got := names(w.WhoCan(tc.req, tc.all))
		if !slices.Equal(got, tc.want) {
			t.Errorf("who-can %v (all=%v) = %v, want %v", tc.req, tc.all, got, tc.want)
		}
	}
	a := w.WhoCan(Request{Verb: "list", Resource: "pods"}, false)
	i := slices.IndexFunc(a, func(a Answer) bool { return a.Subject.Name == "sre" })
	if i < 0 || a[i].Grants[0].Binding != "ClusterRoleBinding monitoring" || a[i].Grants[0].Role.Name != "monitoring" || a[i].Grants[0].Rule.Resources[0] != "pods" {
		t.Errorf("grant of the aggregated role not explained: %+v", a)
	}
	if len(w.Problems) != 1 || !strings.Contains(w.Problems[0].Message, "Role shop/gone, which does not exist") {
		t.Errorf("problems: %+v", w.Problems)
	}
}

func TestAllowedMirrorsAuthorizer(t *testing.T) {
	w, _ := world(t, sample)
	alice := IdentityOf(Subject{Kind: "User", Name: "alice"})
	if ok, _ := w.Allowed(alice, Request{Verb: "get", Resource: "secrets", Namespace: "shop"}); !ok {
		t.Error("alice may read secrets in shop")
	}
	if ok, _ := w.Allowed(alice, Request{Verb: "get", Resource: "secrets"}); ok {
		t.Error("a RoleBinding grants nothing cluster-wide")
	}
	sre := Identity{Name: "bob", Groups: []string{"sre"}}
	if ok, _ := w.Allowed(sre, Request{Verb: "list", Resource: "pods"}); !ok {
		t.Error("group membership grants the aggregated ClusterRole")
	}
	if ok, _ := w.Allowed(IdentityOf(Subject{Kind: "ServiceAccount", Namespace: "x", Name: "no-namespace"}), Request{Verb: "list", Resource: "pods"}); ok {
		t.Error("a ClusterRoleBinding's service account without namespace matches nobody")
	}
	if ok, g := w.Allowed(Identity{Name: "root", Groups: []string{"system:masters"}}, Request{Verb: "delete", Resource: "nodes"}); !ok || g[0].Note == "" {
		t.Error("system:masters is allowed everything")
	}
}

func TestAccessAllowsAgreesWithAllowed(t *testing.T) {
	w, _ := world(t, sample)
	ids := []Identity{
		IdentityOf(Subject{Kind: "User", Name: "alice"}),
		{Name: "bob", Groups: []string{"sre"}},
		IdentityOf(Subject{Kind: "ServiceAccount", Namespace: "shop", Name: "web"}),
		{Name: "root", Groups: []string{GroupMasters}},
		{Name: "nobody"},
	}
	allowed := 0
	for _, id := range ids {
		access := w.AccessOf(id)
		for _, verb := range []string{"get", "list", "create", "delete", "escalate"} {
			for _, res := range []string{"secrets", "pods", "pods/exec", "nodes", "clusterroles"} {
				for _, ns := range []string{"", "shop", "other"} {
					req := Request{Verb: verb, Resource: res, Namespace: ns}
					want, _ := w.Allowed(id, req)
					if got := access.Allows(req); got != want {
						t.Errorf("%s %v %s: Access.Allows %v, Allowed %v", id.Name, id.Groups, req, got, want)
					}
					if want {
						allowed++
					}
				}
			}
		}
	}
	if allowed == 0 {
		t.Fatal("no question was allowed: the comparison shows nothing")
	}
}

func TestAggregationConverges(t *testing.T) {
	w, _ := world(t, `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: top}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {level: top}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: middle, labels: {level: top}}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {level: middle}}]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: leaf, labels: {level: middle}}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [get]}]
`)
	top := w.Role(RoleRef{Kind: "ClusterRole", Name: "top"})
	if top == nil || len(top.Rules) != 1 || top.Rules[0].Resources[0] != "deployments" {
		t.Fatalf("nested aggregation: %+v", top)
	}
}

// TestSharedRoleDecoder: the world reads each role through the decoder it
// is given, once, and aggregation leaves what it returned as it was: the
// check engine hands the world the roles its checks read.
func TestSharedRoleDecoder(t *testing.T) {
	res := source.ParseBytes("world.yaml", []byte(`
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: top}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {level: top}}]}
rules: [{apiGroups: [""], resources: [pods], verbs: [list]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: leaf, labels: {level: top}}
rules: [{apiGroups: [apps], resources: [deployments], verbs: [get]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: local, namespace: shop}
aggregationRule: {clusterRoleSelectors: [{matchLabels: {level: top}}]}
rules: [{apiGroups: [""], resources: [secrets], verbs: [get]}]
`))
	calls := map[*source.Object]int{}
	decoded := map[*source.Object]*rbacv1.ClusterRole{}
	w := Build(res.Objects, Options{DecodeRole: func(o *source.Object) (*rbacv1.ClusterRole, error) {
		calls[o]++
		r, err := DecodeRole(o)
		decoded[o] = r
		return r, err
	}})
	for _, o := range res.Objects {
		if calls[o] != 1 {
			t.Errorf("%s decoded %d times, want once", o, calls[o])
		}
	}
	top := w.Role(RoleRef{Kind: "ClusterRole", Name: "top"})
	if top == nil || len(top.Rules) != 1 || top.Rules[0].Resources[0] != "deployments" {
		t.Fatalf("aggregated rules: %+v", top)
	}
	if own := top.OwnRules(); len(own) != 1 || own[0].Resources[0] != "pods" {
		t.Errorf("own rules of top: %+v", own)
	}
	if r := decoded[res.Objects[0]]; len(r.Rules) != 1 || r.Rules[0].Resources[0] != "pods" || r.AggregationRule == nil {
		t.Errorf("aggregation changed the decoded role: %+v", r)
	}
	// A Role cannot aggregate: the world ignores its aggregationRule and
	// keeps its own rules, and the decoded value keeps the rule it read.
	local := w.Role(RoleRef{Kind: "Role", Namespace: "shop", Name: "local"})
	if local == nil || len(local.Rules) != 1 || local.Rules[0].Resources[0] != "secrets" {
		t.Errorf("role: %+v", local)
	}
	if decoded[res.Objects[2]].AggregationRule == nil {
		t.Error("the world changed a decoded Role's aggregationRule")
	}
}

func TestCan(t *testing.T) {
	w, _ := world(t, sample)
	alice := Subject{Kind: "User", Name: "alice"}
	p := w.Can(alice, IdentityOf(alice), "shop")
	if len(p.Matrix) != 1 || p.Matrix[0].Resource != "secrets" || !slices.Equal(p.Matrix[0].Verbs, []string{"get", "list"}) {
		t.Errorf("alice in shop: %+v", p.Matrix)
	}
	if p := w.Can(alice, IdentityOf(alice), ""); len(p.Matrix) != 0 {
		t.Errorf("alice cluster-wide: %+v", p.Matrix)
	}
}

func TestParseResource(t *testing.T) {
	w, _ := world(t, sample+`---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: gw}
rules: [{apiGroups: [gateway.networking.k8s.io], resources: ["*"], verbs: [get]}]
`)
	cases := map[string]Request{
		"pods/exec":           {Resource: "pods", Subresource: "exec"},
		"deployments":         {Resource: "deployments", APIGroup: "apps"},
		"deploy":              {Resource: "deployments", APIGroup: "apps"},
		"pod":                 {Resource: "pods"},
		"widgets.example.com": {Resource: "widgets", APIGroup: "example.com"},
		"gateways":            {Resource: "gateways", APIGroup: "gateway.networking.k8s.io"},
		"/healthz":            {Path: "/healthz"},
	}
	for in, want := range cases {
		got, err := w.ParseResource(in)
		if err != nil || len(got) != 1 || got[0] != want {
			t.Errorf("ParseResource(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	plain, _ := world(t, sample)
	for _, bad := range []string{"frobnicators", ".apps", "pods.", "pods/exec/x", "/"[1:]} {
		if _, err := plain.ParseResource(bad); err == nil {
			t.Errorf("ParseResource(%q) accepted", bad)
		}
	}
}

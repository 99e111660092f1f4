package rbac

import (
	"cmp"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// StandardVerbs are the matrix columns of Can, in kubectl's order.
var StandardVerbs = []string{"get", "list", "watch", "create", "update", "patch", "delete", "deletecollection"}

// specialVerbs are the verbs beyond the standard ones that authorizers
// check, by the resource they apply to.
var specialVerbs = map[[2]string][]string{
	{"rbac.authorization.k8s.io", "roles"}:        {"bind", "escalate"},
	{"rbac.authorization.k8s.io", "clusterroles"}: {"bind", "escalate"},
	{"", "users"}:                           {"impersonate"},
	{"", "groups"}:                          {"impersonate"},
	{"", "serviceaccounts"}:                 {"impersonate"},
	{"authentication.k8s.io", "userextras"}: {"impersonate"},
	{"authentication.k8s.io", "uids"}:       {"impersonate"},
	{"certificates.k8s.io", "signers"}:      {"approve", "sign", "attest"},
	{"policy", "podsecuritypolicies"}:       {"use"},
}

// Row is one resource (or subresource) of a subject's permission matrix.
type Row struct {
	Group       string `json:"group"`
	Resource    string `json:"resource"`
	Subresource string `json:"subresource,omitempty"`
	// Verbs lists the allowed verbs: the standard ones, then special ones
	// (bind, escalate, impersonate, approve, sign, …).
	Verbs []string `json:"verbs"`
}

// Rule is one of a subject's effective rules with where it comes from.
type Rule struct {
	Rule  rbacv1.PolicyRule `json:"rule"`
	Grant Grant             `json:"grant"`
}

// Permissions is what one subject may do in one scope.
type Permissions struct {
	Subject Subject `json:"subject"`
	// Namespace is the namespace asked about, or "" for cluster-wide
	// (cluster-scoped resources and namespaced ones in every namespace).
	Namespace string `json:"namespace"`
	Matrix    []Row  `json:"matrix"`
	// NonResourceURLs maps allowed URLs (as rules name them) to verbs.
	NonResourceURLs map[string][]string `json:"nonResourceURLs,omitempty"`
	// Rules are the effective rules with their origin.
	Rules []Rule `json:"rules"`
	// Bindings are every binding that names the subject (or one of its
	// groups), in every namespace, as rbac-lookup lists them.
	Bindings []BindingRef `json:"bindings"`
	// Superuser is set for members of system:masters.
	Superuser bool `json:"superuser,omitempty"`
}

// BindingRef is one binding of a subject: where it applies, the role, and
// the subject of the binding that matched (the subject itself or a group).
type BindingRef struct {
	// Namespace is the RoleBinding's namespace; "" for cluster-wide.
	Namespace string  `json:"namespace"`
	Role      RoleRef `json:"role"`
	Binding   string  `json:"binding"`
	Via       Subject `json:"via"`
	// Missing is set when the role does not exist.
	Missing bool `json:"missing,omitempty"`
}

// Can computes a subject's permission matrix in namespace ns ("" for
// cluster-wide), like rakkess: every known resource and subresource with
// the verbs the subject is allowed, plus the rules behind them. Only rows
// with at least one allowed verb are returned.
func (w *World) Can(subj Subject, id Identity, ns string) Permissions {
	p := Permissions{Subject: subj, Namespace: ns, Superuser: slices.Contains(id.Groups, GroupMasters), Matrix: []Row{}}
	var rules []Rule
	p.Bindings = []BindingRef{}
	for _, b := range w.BindingsOf(id) {
		for _, s := range b.Subjects {
			if subj, ok := subjectOf(s, b.Namespace); ok && subj.Matches(id) {
				p.Bindings = append(p.Bindings, BindingRef{Namespace: b.Namespace, Role: b.RoleRef, Binding: b.String(), Via: subj, Missing: b.Role == nil})
				break
			}
		}
	}
	slices.SortFunc(p.Bindings, func(a, b BindingRef) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Binding, b.Binding))
	})
	for _, b := range w.BindingsOf(id) {
		if b.Role == nil || (b.Kind == "RoleBinding" && b.Namespace != ns) {
			continue
		}
		for i, r := range b.Role.Rules {
			rules = append(rules, Rule{Rule: r, Grant: grantOf(b, i)})
		}
	}
	slices.SortStableFunc(rules, func(a, b Rule) int { return compareGrants(a.Grant, b.Grant) })
	p.Rules = rules
	allowed := func(req Request) bool {
		if p.Superuser {
			return true
		}
		req.Namespace = ns
		for i := range rules {
			g := &rules[i]
			if g.Grant.Namespace != "" && !req.IsResource() {
				continue
			}
			if RuleAllows(&g.Rule, req) {
				return true
			}
		}
		return false
	}
	for _, res := range w.resourcesFor(rules) {
		if ns != "" && !res.Namespaced {
			continue
		}
		subs := append([]string{""}, res.Subresources...)
		for _, sub := range subs {
			row := Row{Group: res.Group, Resource: res.Resource, Subresource: sub}
			verbs := StandardVerbs
			if sub == "" {
				verbs = append(slices.Clip(verbs), specialVerbs[[2]string{res.Group, res.Resource}]...)
			}
			for _, v := range verbs {
				if allowed(Request{Verb: v, APIGroup: res.Group, Resource: res.Resource, Subresource: sub}) {
					row.Verbs = append(row.Verbs, v)
				}
			}
			if len(row.Verbs) > 0 {
				p.Matrix = append(p.Matrix, row)
			}
		}
	}
	if ns == "" {
		for _, r := range rules {
			if r.Grant.Namespace != "" {
				continue
			}
			for _, u := range r.Rule.NonResourceURLs {
				if p.NonResourceURLs == nil {
					p.NonResourceURLs = map[string][]string{}
				}
				for _, v := range r.Rule.Verbs {
					if !slices.Contains(p.NonResourceURLs[u], v) {
						p.NonResourceURLs[u] = append(p.NonResourceURLs[u], v)
					}
				}
			}
		}
	}
	return p
}

// resourcesFor is the catalogue plus any resource the rules name that the
// catalogue does not know (CRDs absent from the input).
func (w *World) resourcesFor(rules []Rule) []APIResource {
	all := w.resources.All()
	for _, r := range rules {
		for _, g := range r.Rule.APIGroups {
			for _, res := range r.Rule.Resources {
				name, sub, _ := cut(res)
				if g == rbacv1.APIGroupAll || name == rbacv1.ResourceAll {
					continue
				}
				i := slices.IndexFunc(all, func(a APIResource) bool { return a.Group == g && a.Resource == name })
				if i < 0 {
					all = append(all, APIResource{Group: g, Resource: name, Namespaced: true})
					i = len(all) - 1
				}
				if sub != "" && !slices.Contains(all[i].Subresources, sub) {
					all[i].Subresources = append(slices.Clip(all[i].Subresources), sub)
				}
			}
		}
	}
	slices.SortFunc(all, func(a, b APIResource) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Resource, b.Resource))
	})
	return all
}

func cut(res string) (string, string, bool) {
	for i := 0; i < len(res); i++ {
		if res[i] == '/' {
			return res[:i], res[i+1:], true
		}
	}
	return res, "", false
}

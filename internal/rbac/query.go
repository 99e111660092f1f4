package rbac

import (
	"cmp"
	"iter"
	"slices"

	rbacv1 "k8s.io/api/rbac/v1"
)

// Grant explains one permission: which binding, bound to which role, with
// which of the role's rules, in which scope.
type Grant struct {
	Binding string `json:"binding"`
	// Role is the bound role; empty for system:masters.
	Role      *RoleRef           `json:"role,omitempty"`
	RuleIndex int                `json:"ruleIndex"`
	Rule      *rbacv1.PolicyRule `json:"rule,omitempty"`
	// Namespace is where the grant applies: the RoleBinding's namespace,
	// or "" for every namespace and cluster-scoped resources.
	Namespace string `json:"namespace,omitempty"`
	// Note explains grants that are not RBAC rules (system:masters).
	Note string `json:"note,omitempty"`
}

// mastersGrant explains the privileged group, which the API server
// authorizes for every request before RBAC is consulted.
var mastersGrant = Grant{Binding: "(none)", RuleIndex: -1, Note: "members of system:masters are allowed every request before RBAC is consulted"}

// Answer is one subject with the grants that allow it the request.
type Answer struct {
	Subject Subject `json:"subject"`
	Grants  []Grant `json:"grants"`
}

// appliesTo reports whether b may grant req: a ClusterRoleBinding always,
// a RoleBinding only for requests in its namespace (resource requests in
// a namespace), as the authorizer's VisitRulesFor walks them. allNS lets a
// RoleBinding in any namespace count (who-can -A) for namespaced
// resources.
func (w *World) appliesTo(b *Binding, req Request, allNS bool) bool {
	if b.Kind == "ClusterRoleBinding" {
		return true
	}
	if !req.IsResource() {
		return false
	}
	if allNS && req.Namespace == "" {
		return w.resources.Namespaced(req.APIGroup, req.Resource)
	}
	return req.Namespace != "" && b.Namespace == req.Namespace
}

func grantOf(b *Binding, i int) Grant {
	ref := b.RoleRef
	return Grant{Binding: b.String(), Role: &ref, RuleIndex: i, Rule: &b.Role.Rules[i], Namespace: b.Namespace}
}

// Allowed answers a SubjectAccessReview: whether the identity may make
// the request, and every grant that allows it.
func (w *World) Allowed(id Identity, req Request) (bool, []Grant) {
	a := w.AccessOf(id)
	if a.masters {
		return true, []Grant{mastersGrant}
	}
	var grants []Grant
	for b, i := range a.rules(req) {
		grants = append(grants, grantOf(b, i))
	}
	return len(grants) > 0, grants
}

// Access is one identity's bindings, looked up once, for asking many
// questions of the same identity.
type Access struct {
	w        *World
	masters  bool
	bindings []*Binding
}

// AccessOf looks up the bindings of id.
func (w *World) AccessOf(id Identity) Access {
	if slices.Contains(id.Groups, GroupMasters) {
		return Access{w: w, masters: true}
	}
	return Access{w: w, bindings: w.BindingsOf(id)}
}

// Allows reports whether the identity may make req: Allowed's verdict,
// without collecting the grants.
func (a Access) Allows(req Request) bool {
	if a.masters {
		return true
	}
	for range a.rules(req) {
		return true
	}
	return false
}

// rules yields each binding of the identity and index of its role's rule
// that allow req (system:masters aside, which needs no rule).
func (a Access) rules(req Request) iter.Seq2[*Binding, int] {
	return func(yield func(*Binding, int) bool) {
		for _, b := range a.bindings {
			if b.Role == nil || !a.w.appliesTo(b, req, false) {
				continue
			}
			for i := range b.Role.Rules {
				if RuleAllows(&b.Role.Rules[i], req) && !yield(b, i) {
					return
				}
			}
		}
	}
}

// grantRef is one rule of one binding's role, the unit of the who-can
// index.
type grantRef struct {
	binding *Binding
	rule    int
}

// index maps (verb, resource) as rules name them ("*" included; "" resource
// for non-resource rules) to the rules that name them.
func (w *World) index() map[[2]string][]grantRef {
	w.grantIndexOnce.Do(func() {
		idx := map[[2]string][]grantRef{}
		for _, b := range w.bindings {
			if b.Role == nil {
				continue
			}
			for i, rule := range b.Role.Rules {
				resources := rule.Resources
				if len(rule.NonResourceURLs) > 0 {
					resources = append(slices.Clip(resources), "")
				}
				for _, v := range rule.Verbs {
					for _, res := range resources {
						k := [2]string{v, res}
						if l := idx[k]; len(l) == 0 || l[len(l)-1].binding != b || l[len(l)-1].rule != i {
							idx[k] = append(l, grantRef{b, i})
						}
					}
				}
			}
		}
		w.grantIndex = idx
	})
	return w.grantIndex
}

// WhoCan returns every subject allowed the request, each with the grants
// that allow it, sorted by kind, namespace and name. With allNamespaces
// and a request without namespace, RoleBindings in every namespace count
// and each grant says its namespace. The group system:masters is always
// included: the API server allows its members everything.
func (w *World) WhoCan(req Request, allNamespaces bool) []Answer {
	idx := w.index()
	resources := []string{""}
	if req.IsResource() {
		resources = []string{req.combined(), rbacv1.ResourceAll}
		if req.Subresource != "" {
			resources = append(resources, "*/"+req.Subresource)
		}
	}
	bySubject := map[Subject]*Answer{}
	seen := map[grantRef]bool{}
	for _, verb := range []string{req.Verb, rbacv1.VerbAll} {
		for _, res := range resources {
			for _, g := range idx[[2]string{verb, res}] {
				if seen[g] {
					continue
				}
				seen[g] = true
				if !w.appliesTo(g.binding, req, allNamespaces) || !RuleAllows(&g.binding.Role.Rules[g.rule], req) {
					continue
				}
				for _, s := range g.binding.Subjects {
					subj, ok := subjectOf(s, g.binding.Namespace)
					if !ok {
						continue
					}
					a := bySubject[subj]
					if a == nil {
						a = &Answer{Subject: subj}
						bySubject[subj] = a
					}
					a.Grants = append(a.Grants, grantOf(g.binding, g.rule))
				}
			}
		}
	}
	masters := Subject{Kind: rbacv1.GroupKind, Name: GroupMasters}
	if a := bySubject[masters]; a != nil {
		a.Grants = append([]Grant{mastersGrant}, a.Grants...)
	} else {
		bySubject[masters] = &Answer{Subject: masters, Grants: []Grant{mastersGrant}}
	}
	out := make([]Answer, 0, len(bySubject))
	for _, a := range bySubject {
		slices.SortFunc(a.Grants, compareGrants)
		out = append(out, *a)
	}
	slices.SortFunc(out, func(a, b Answer) int { return CompareSubjects(a.Subject, b.Subject) })
	return out
}

// CompareSubjects orders subjects by kind, namespace and name.
func CompareSubjects(a, b Subject) int {
	return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
}

func compareGrants(a, b Grant) int {
	return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Binding, b.Binding), cmp.Compare(a.RuleIndex, b.RuleIndex))
}

// Matches reports whether the subject a binding names covers the
// identity: the same user (a service account by its user name) or one of
// its groups.
func (s Subject) Matches(id Identity) bool {
	if s.Kind == rbacv1.GroupKind {
		return slices.Contains(id.Groups, s.Name)
	}
	return IdentityOf(s).Name == id.Name
}

// Package rbac evaluates Kubernetes RBAC with the API server's semantics,
// offline: Roles, ClusterRoles (with aggregation), RoleBindings and
// ClusterRoleBindings from manifests, snapshots or a live cluster, plus the
// bootstrap ClusterRoles every cluster has. It answers who can do what,
// what a subject can do, and how a subject can escalate to
// cluster-admin-equivalent power.
//
// Rule matching is the upstream comparator
// (k8s.io/component-helpers/auth/rbac/validation.Covers) applied to the
// request as a one-verb, one-resource, one-name rule, which is exactly the
// authorizer's RuleAllows; the binding walk mirrors the authorizer's
// VisitRulesFor (ClusterRoleBindings always, RoleBindings only for requests
// in their namespace).
package rbac

import (
	"cmp"
	"fmt"
	"slices"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// RoleRef names a Role (with its namespace) or a ClusterRole.
type RoleRef struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
}

func (r RoleRef) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// Role is a Role or ClusterRole with its effective rules (for an
// aggregated ClusterRole, the union of the rules of the ClusterRoles its
// selectors match, as the aggregation controller computes it).
type Role struct {
	RoleRef
	Rules []rbacv1.PolicyRule
	// Aggregated is set when the rules come from an aggregationRule.
	Aggregated bool
	// Default is set for the bootstrap roles kubeharden knows without a
	// cluster and that the input did not contain.
	Default bool
	// Object is the role as read, nil for defaults.
	Object *source.Object

	labels      labels.Set
	aggregation *rbacv1.AggregationRule
	ownRules    []rbacv1.PolicyRule
}

// Binding is a RoleBinding or ClusterRoleBinding.
type Binding struct {
	Kind      string `json:"kind"`
	Namespace string `json:"namespace,omitempty"`
	Name      string `json:"name"`
	RoleRef   RoleRef
	Subjects  []rbacv1.Subject
	// Role is the bound role, nil when it does not exist.
	Role *Role
	// Object is the binding as read, nil for defaults.
	Object *source.Object
}

func (b *Binding) String() string {
	if b.Namespace != "" {
		return b.Kind + " " + b.Namespace + "/" + b.Name
	}
	return b.Kind + " " + b.Name
}

// ServiceAccount is a service account the input shows exists (or that every
// namespace has: default).
type ServiceAccount struct {
	Namespace, Name string
	// Object is the ServiceAccount as read; nil when only known from a
	// reference.
	Object *source.Object
}

// Problem is something in the RBAC objects that cannot be evaluated as
// written: a malformed object, a binding to a role that does not exist.
type Problem struct {
	Object  *source.Object
	Path    string
	Message string
}

// World is an immutable set of RBAC objects with their indexes.
type World struct {
	roles           map[RoleRef]*Role
	bindings        []*Binding
	bySubject       map[string][]*Binding
	serviceAccounts map[[2]string]*ServiceAccount
	namespaces      map[string]bool
	resources       *ResourceCatalog
	// Problems lists what could not be evaluated.
	Problems []Problem

	grantIndexOnce sync.Once
	grantIndex     map[[2]string][]grantRef
	boundOnce      sync.Once
	bound          map[RoleRef][]*Binding
	byObjectOnce   sync.Once
	byObject       map[*source.Object]*Binding
}

// Options tune Build.
type Options struct {
	// NoDefaults leaves out the bootstrap ClusterRoles (cluster-admin,
	// admin, edit, view, system:*) that are otherwise known even when the
	// input does not contain them.
	NoDefaults bool
	// DecodeRole reads the Roles and ClusterRoles; nil means DecodeRole.
	DecodeRole RoleDecoder
}

// A RoleDecoder reads a Role or ClusterRole object into its typed form (a
// Role's fields are a subset of a ClusterRole's). The world only reads
// what it returns, so a caller that decodes roles for its own use too (the
// check engine, once per run) can share them.
type RoleDecoder func(o *source.Object) (*rbacv1.ClusterRole, error)

// DecodeRole is the RoleDecoder Build uses unless told otherwise.
func DecodeRole(o *source.Object) (*rbacv1.ClusterRole, error) {
	var r rbacv1.ClusterRole
	if err := typed.FromFields(o.Field, &r); err != nil {
		return nil, fmt.Errorf("cannot read %s: %v", o, err)
	}
	return &r, nil
}

// Build reads the RBAC objects, ServiceAccounts, Namespaces and
// CustomResourceDefinitions among objs. Objects that cannot be decoded are
// reported in Problems and left out.
func Build(objs []*source.Object, opts Options) *World {
	w := &World{
		roles:           map[RoleRef]*Role{},
		bySubject:       map[string][]*Binding{},
		serviceAccounts: map[[2]string]*ServiceAccount{},
		namespaces:      map[string]bool{},
	}
	decode := opts.DecodeRole
	if decode == nil {
		decode = DecodeRole
	}
	var crds []*source.Object
	for _, o := range objs {
		switch o.Group() + "/" + o.Kind() {
		case rbacv1.GroupName + "/Role", rbacv1.GroupName + "/ClusterRole":
			w.addRole(o, decode)
		case rbacv1.GroupName + "/RoleBinding", rbacv1.GroupName + "/ClusterRoleBinding":
			w.addBinding(o)
		case "/ServiceAccount":
			w.serviceAccounts[[2]string{o.Namespace(), o.Name()}] = &ServiceAccount{Namespace: o.Namespace(), Name: o.Name(), Object: o}
			w.namespaces[o.Namespace()] = true
		case "/Namespace":
			w.namespaces[o.Name()] = true
		case "apiextensions.k8s.io/CustomResourceDefinition":
			crds = append(crds, o)
		default:
			if ns := o.Namespace(); ns != "" {
				w.namespaces[ns] = true
			}
		}
	}
	inputClusterRoles := false
	for ref := range w.roles {
		if ref.Kind == "ClusterRole" {
			inputClusterRoles = true
			break
		}
	}
	switch {
	case opts.NoDefaults:
		w.aggregate()
	case !inputClusterRoles:
		// Nothing can aggregate into the defaults: share them, aggregated
		// once per process (the common case of an admission request).
		for ref, r := range aggregatedDefaults() {
			w.roles[ref] = r
		}
	default:
		for _, r := range defaultClusterRoles() {
			if _, ok := w.roles[r.RoleRef]; !ok {
				w.roles[r.RoleRef] = r
			}
		}
		w.aggregate()
	}
	if len(crds) == 0 {
		w.resources = builtinCatalog()
	} else {
		w.resources = newResourceCatalog(crds)
	}
	w.link()
	return w
}

// aggregatedDefaults are the bootstrap ClusterRoles with aggregation
// applied, computed once; they are never modified after.
var aggregatedDefaults = sync.OnceValue(func() map[RoleRef]*Role {
	w := &World{roles: map[RoleRef]*Role{}}
	for _, r := range defaultClusterRoles() {
		w.roles[r.RoleRef] = r
	}
	w.aggregate()
	return w.roles
})

// builtinCatalog is the resource catalogue without CRDs, built once.
var builtinCatalog = sync.OnceValue(func() *ResourceCatalog { return newResourceCatalog(nil) })

func (w *World) addRole(o *source.Object, decode RoleDecoder) {
	r, err := decode(o)
	if err != nil {
		w.Problems = append(w.Problems, Problem{Object: o, Message: err.Error()})
		return
	}
	role := NewRole(o, r)
	w.roles[role.RoleRef] = role
}

// NewRole is the role o holds, decoded as r, which it reads and does not
// change: its effective rules are its own until the world aggregates it.
func NewRole(o *source.Object, r *rbacv1.ClusterRole) *Role {
	ref := RoleRef{Kind: o.Kind(), Name: r.Name}
	aggregation := r.AggregationRule
	if ref.Kind == "Role" {
		ref.Namespace = r.Namespace
		aggregation = nil
	}
	return &Role{RoleRef: ref, Rules: r.Rules, ownRules: r.Rules, Object: o, labels: r.Labels, aggregation: aggregation}
}

func (w *World) addBinding(o *source.Object) {
	// What a RoleBinding and a ClusterRoleBinding hold besides metadata,
	// of which only the name and namespace are read.
	var b struct {
		Subjects []rbacv1.Subject `json:"subjects,omitempty"`
		RoleRef  rbacv1.RoleRef   `json:"roleRef"`
	}
	if err := typed.FromFields(o.Field, &b); err != nil {
		w.Problems = append(w.Problems, Problem{Object: o, Message: fmt.Sprintf("cannot read %s: %v", o, err)})
		return
	}
	binding := &Binding{Kind: o.Kind(), Subjects: b.Subjects, Object: o}
	binding.Name, _ = o.MetadataField("name").(string)
	if binding.Kind == "RoleBinding" {
		binding.Namespace = o.Namespace()
	}
	binding.RoleRef = RoleRef{Kind: b.RoleRef.Kind, Name: b.RoleRef.Name}
	if b.RoleRef.Kind == "Role" {
		binding.RoleRef.Namespace = binding.Namespace
	}
	w.bindings = append(w.bindings, binding)
}

// aggregate fills every ClusterRole with an aggregationRule from the
// ClusterRoles its selectors match, repeating until nothing changes so
// that aggregated roles feeding other aggregated roles converge as the
// controller's repeated syncs do.
func (w *World) aggregate() {
	var aggregated, all []*Role
	for _, r := range w.roles {
		if r.Kind != "ClusterRole" {
			continue
		}
		all = append(all, r)
		if r.aggregation != nil {
			aggregated = append(aggregated, r)
		}
	}
	// The controller visits matching roles sorted by name.
	slices.SortFunc(all, func(a, b *Role) int { return cmp.Compare(a.Name, b.Name) })
	selectors := map[*Role][]labels.Selector{}
	for _, r := range aggregated {
		r.Aggregated = true
		r.Rules = nil
		for _, ls := range r.aggregation.ClusterRoleSelectors {
			sel, err := metav1.LabelSelectorAsSelector(&ls)
			if err != nil {
				w.Problems = append(w.Problems, Problem{Object: r.Object, Path: "aggregationRule", Message: fmt.Sprintf("%s: invalid clusterRoleSelector: %v", r.RoleRef, err)})
				continue
			}
			selectors[r] = append(selectors[r], sel)
		}
	}
	for changed, rounds := true, 0; changed && rounds <= len(aggregated); rounds++ {
		changed = false
		for _, r := range aggregated {
			var rules []rbacv1.PolicyRule
			for _, sel := range selectors[r] {
				for _, other := range all {
					if other == r || !sel.Matches(other.labels) {
						continue
					}
					for _, rule := range other.Rules {
						if !slices.ContainsFunc(rules, func(x rbacv1.PolicyRule) bool { return equalRule(x, rule) }) {
							rules = append(rules, rule)
						}
					}
				}
			}
			if !slices.EqualFunc(rules, r.Rules, equalRule) {
				r.Rules = rules
				changed = true
			}
		}
	}
}

func equalRule(a, b rbacv1.PolicyRule) bool {
	return slices.Equal(a.Verbs, b.Verbs) && slices.Equal(a.APIGroups, b.APIGroups) && slices.Equal(a.Resources, b.Resources) &&
		slices.Equal(a.ResourceNames, b.ResourceNames) && slices.Equal(a.NonResourceURLs, b.NonResourceURLs)
}

// link resolves every binding's role and indexes bindings by subject.
func (w *World) link() {
	for _, b := range w.bindings {
		if r, ok := w.roles[b.RoleRef]; ok {
			b.Role = r
		} else {
			w.Problems = append(w.Problems, Problem{Object: b.Object, Path: "roleRef", Message: fmt.Sprintf("%s binds %s, which does not exist", b, b.RoleRef)})
		}
		for _, s := range b.Subjects {
			if key, ok := subjectKey(s, b.Namespace); ok {
				// A subject named twice in one binding is listed once.
				if l := w.bySubject[key]; len(l) == 0 || l[len(l)-1] != b {
					w.bySubject[key] = append(l, b)
				}
			}
		}
	}
	slices.SortStableFunc(w.bindings, func(a, b *Binding) int {
		return cmp.Or(cmp.Compare(b.Kind, a.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
}

// Role returns the role ref names, or nil.
func (w *World) Role(ref RoleRef) *Role { return w.roles[ref] }

// Roles returns every role, sorted by kind, namespace and name.
func (w *World) Roles() []*Role {
	out := make([]*Role, 0, len(w.roles))
	for _, r := range w.roles {
		out = append(out, r)
	}
	slices.SortFunc(out, func(a, b *Role) int {
		return cmp.Or(cmp.Compare(a.Kind, b.Kind), cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name))
	})
	return out
}

// Bindings returns every binding: ClusterRoleBindings first, then
// RoleBindings by namespace and name.
func (w *World) Bindings() []*Binding { return w.bindings }

// ServiceAccount returns the service account ns/name if the input shows it.
func (w *World) ServiceAccount(ns, name string) (*ServiceAccount, bool) {
	sa, ok := w.serviceAccounts[[2]string{ns, name}]
	return sa, ok
}

// KnowsServiceAccountsOf reports whether the input lists the
// ServiceAccounts of namespace ns (it contains at least one of them), so
// that a missing one is really missing.
func (w *World) KnowsServiceAccountsOf(ns string) bool {
	for k := range w.serviceAccounts {
		if k[0] == ns {
			return true
		}
	}
	return false
}

// Resources is the catalogue of resource types the world knows.
func (w *World) Resources() *ResourceCatalog { return w.resources }

// BindingsOf returns the bindings whose subjects include the identity
// (by user name or by one of its groups). The slice may be the world's own:
// read it, do not modify its elements.
func (w *World) BindingsOf(id Identity) []*Binding {
	// Most identities are bound through one key (their name, or one
	// group): its list, which holds no duplicates, is the answer as is.
	var lists [][]*Binding
	total := 0
	add := func(key string) {
		if l := w.bySubject[key]; len(l) > 0 {
			lists = append(lists, l)
			total += len(l)
		}
	}
	if id.Name != "" {
		add("u:" + id.Name)
	}
	for _, g := range id.Groups {
		add("g:" + g)
	}
	switch len(lists) {
	case 0:
		return nil
	case 1:
		return slices.Clip(lists[0]) // callers may append, never in place
	}
	out := make([]*Binding, 0, total)
	seen := make(map[*Binding]bool, total)
	for _, l := range lists {
		for _, b := range l {
			if !seen[b] {
				seen[b] = true
				out = append(out, b)
			}
		}
	}
	return out
}

// BindingsTo returns the bindings whose roleRef names ref.
func (w *World) BindingsTo(ref RoleRef) []*Binding {
	w.boundOnce.Do(func() {
		w.bound = map[RoleRef][]*Binding{}
		for _, b := range w.bindings {
			w.bound[b.RoleRef] = append(w.bound[b.RoleRef], b)
		}
	})
	return w.bound[ref]
}

// BindingOf returns the binding read from o, or nil.
func (w *World) BindingOf(o *source.Object) *Binding {
	w.byObjectOnce.Do(func() {
		w.byObject = make(map[*source.Object]*Binding, len(w.bindings))
		for _, b := range w.bindings {
			if b.Object != nil {
				w.byObject[b.Object] = b
			}
		}
	})
	return w.byObject[o]
}

// OwnRules are the rules written in the role itself (an aggregated role's
// effective rules come from the roles it aggregates).
func (r *Role) OwnRules() []rbacv1.PolicyRule { return r.ownRules }

// Bootstrap reports whether the role is one of Kubernetes' defaults
// (labelled kubernetes.io/bootstrapping=rbac-defaults, or known without a
// cluster).
func (r *Role) Bootstrap() bool {
	return r.Default || r.labels["kubernetes.io/bootstrapping"] == "rbac-defaults"
}

// Bootstrap reports whether the binding is one of Kubernetes' defaults.
func (b *Binding) Bootstrap() bool {
	if b.Object == nil {
		return false
	}
	v, _ := b.Object.Label("kubernetes.io/bootstrapping")
	return v == "rbac-defaults"
}

// SubjectsOf returns the binding's subjects as Subjects (service accounts'
// namespaces defaulted), with their index in the binding.
func (b *Binding) SubjectsOf() (out []Subject, index []int) {
	for i, s := range b.Subjects {
		if subj, ok := subjectOf(s, b.Namespace); ok {
			out = append(out, subj)
			index = append(index, i)
		}
	}
	return out, index
}

package rbac

import (
	"cmp"
	"slices"
	"strings"

	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// APIResource is one resource type: its group, plural name, the names a
// user may type for it, whether it is namespaced, and its subresources.
type APIResource struct {
	Group        string   `json:"group"`
	Resource     string   `json:"resource"`
	Singular     string   `json:"singular,omitempty"`
	ShortNames   []string `json:"shortNames,omitempty"`
	Namespaced   bool     `json:"namespaced"`
	Verbs        []string `json:"verbs,omitempty"`
	Subresources []string `json:"subresources,omitempty"`
}

// ResourceCatalog is the resource types of Kubernetes itself (from the
// bootstrap data's discovery) plus the CustomResourceDefinitions in the
// input.
type ResourceCatalog struct {
	all    []APIResource
	byName map[string][]int // plural, singular or short name -> indexes
}

func newResourceCatalog(crds []*source.Object) *ResourceCatalog {
	c := &ResourceCatalog{byName: map[string][]int{}}
	for _, r := range defaults().Resources {
		c.add(r)
	}
	// What RBAC authorizes that discovery does not list: the targets of
	// impersonation and certificate signers.
	for _, r := range []APIResource{
		{Group: "", Resource: "users"}, {Group: "", Resource: "groups"},
		{Group: "authentication.k8s.io", Resource: "userextras"}, {Group: "authentication.k8s.io", Resource: "uids"},
		{Group: "certificates.k8s.io", Resource: "signers"},
	} {
		c.add(r)
	}
	for _, o := range crds {
		var crd crdResource
		if typed.FromFields(o.Field, &crd) != nil || crd.Spec.Names.Plural == "" {
			continue
		}
		r := APIResource{
			Group: crd.Spec.Group, Resource: crd.Spec.Names.Plural, Singular: crd.Spec.Names.Singular,
			ShortNames: crd.Spec.Names.ShortNames, Namespaced: crd.Spec.Scope != apiextensionsv1.ClusterScoped,
			Verbs: []string{"create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"},
		}
		for _, v := range crd.Spec.Versions {
			if v.Subresources != nil {
				if v.Subresources.Status != nil && !slices.Contains(r.Subresources, "status") {
					r.Subresources = append(r.Subresources, "status")
				}
				if v.Subresources.Scale != nil && !slices.Contains(r.Subresources, "scale") {
					r.Subresources = append(r.Subresources, "scale")
				}
			}
		}
		c.add(r)
	}
	return c
}

// crdResource is the part of a CustomResourceDefinition the catalogue
// reads, with the API's own field types. Decoding only this part skips
// the schemas, which are most of a CRD and, through their custom JSON
// decoding, cost a JSON round trip each; a CRD counts when these fields
// decode.
type crdResource struct {
	Spec struct {
		Group    string                                        `json:"group"`
		Names    apiextensionsv1.CustomResourceDefinitionNames `json:"names"`
		Scope    apiextensionsv1.ResourceScope                 `json:"scope"`
		Versions []struct {
			Subresources *apiextensionsv1.CustomResourceSubresources `json:"subresources,omitempty"`
		} `json:"versions"`
	} `json:"spec"`
}

func (c *ResourceCatalog) add(r APIResource) {
	for _, i := range c.byName[r.Resource] {
		if c.all[i].Group == r.Group {
			return
		}
	}
	i := len(c.all)
	c.all = append(c.all, r)
	names := append([]string{r.Resource, r.Singular}, r.ShortNames...)
	for _, n := range names {
		if n != "" && !slices.Contains(c.byName[n], i) {
			c.byName[n] = append(c.byName[n], i)
		}
	}
}

// All returns every resource type, sorted by group and name.
func (c *ResourceCatalog) All() []APIResource {
	out := slices.Clone(c.all)
	slices.SortFunc(out, func(a, b APIResource) int {
		return cmp.Or(cmp.Compare(a.Group, b.Group), cmp.Compare(a.Resource, b.Resource))
	})
	return out
}

// Lookup returns the resource types a name (plural, singular or short)
// may mean; core and then the shortest group first, as kubectl prefers.
func (c *ResourceCatalog) Lookup(name string) []APIResource {
	var out []APIResource
	for _, i := range c.byName[strings.ToLower(name)] {
		out = append(out, c.all[i])
	}
	slices.SortStableFunc(out, func(a, b APIResource) int {
		return cmp.Or(cmp.Compare(len(a.Group), len(b.Group)), cmp.Compare(a.Group, b.Group))
	})
	return out
}

// Namespaced reports whether group/resource is namespaced; unknown
// resources are taken as namespaced (RoleBindings may grant them).
func (c *ResourceCatalog) Namespaced(group, resource string) bool {
	for _, i := range c.byName[resource] {
		if c.all[i].Group == group && c.all[i].Resource == resource {
			return c.all[i].Namespaced
		}
	}
	return true
}

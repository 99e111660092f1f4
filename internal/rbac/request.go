package rbac

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/component-helpers/auth/rbac/validation"
)

// Request is one authorization question, as in a SubjectAccessReview: a
// verb on a resource (with optional subresource and name) in a namespace
// ("" for cluster-scoped resources or all namespaces), or a verb on a
// non-resource URL (Path).
type Request struct {
	Verb        string `json:"verb"`
	APIGroup    string `json:"apiGroup"`
	Resource    string `json:"resource,omitempty"`
	Subresource string `json:"subresource,omitempty"`
	Name        string `json:"name,omitempty"`
	Namespace   string `json:"namespace,omitempty"`
	Path        string `json:"nonResourceURL,omitempty"`
}

// IsResource reports whether the request is for a resource rather than a
// non-resource URL.
func (r Request) IsResource() bool { return r.Path == "" }

// combined is resource or resource/subresource, as rules name it.
func (r Request) combined() string {
	if r.Subresource != "" {
		return r.Resource + "/" + r.Subresource
	}
	return r.Resource
}

func (r Request) String() string {
	if !r.IsResource() {
		return r.Verb + " " + r.Path
	}
	s := r.Verb + " " + r.combined()
	if r.APIGroup != "" {
		s = r.Verb + " " + r.Resource + "." + r.APIGroup
		if r.Subresource != "" {
			s += "/" + r.Subresource
		}
	}
	if r.Name != "" {
		s += " " + r.Name
	}
	if r.Namespace != "" {
		s += " in namespace " + r.Namespace
	}
	return s
}

// asRule is the request as a rule with one verb, group, resource and name:
// a rule allows the request exactly when it covers this rule.
func (r Request) asRule() rbacv1.PolicyRule {
	if !r.IsResource() {
		return rbacv1.PolicyRule{Verbs: []string{r.Verb}, NonResourceURLs: []string{r.Path}}
	}
	rule := rbacv1.PolicyRule{Verbs: []string{r.Verb}, APIGroups: []string{r.APIGroup}, Resources: []string{r.combined()}}
	if r.Name != "" {
		rule.ResourceNames = []string{r.Name}
	}
	return rule
}

// RuleAllows reports whether rule allows the request, with the upstream
// authorizer's semantics: "*" verbs, groups and resources, "*/subresource",
// resourceNames (a request without a name, such as list, is not allowed by
// a rule restricted to names) and non-resource URLs with a "*" suffix.
func RuleAllows(rule *rbacv1.PolicyRule, req Request) bool {
	if !mayAllow(rule, req) {
		return false
	}
	covered, _ := validation.Covers([]rbacv1.PolicyRule{*rule}, []rbacv1.PolicyRule{req.asRule()})
	return covered
}

// mayAllow is a cheap necessary condition for RuleAllows that spares the
// comparator's allocations on the many rules that name another verb or
// resource.
func mayAllow(rule *rbacv1.PolicyRule, req Request) bool {
	if !slices.Contains(rule.Verbs, rbacv1.VerbAll) && !slices.Contains(rule.Verbs, req.Verb) {
		return false
	}
	if !req.IsResource() {
		return len(rule.NonResourceURLs) > 0
	}
	if !slices.Contains(rule.APIGroups, rbacv1.APIGroupAll) && !slices.Contains(rule.APIGroups, req.APIGroup) {
		return false
	}
	combined := req.combined()
	for _, res := range rule.Resources {
		if res == rbacv1.ResourceAll || res == combined || (req.Subresource != "" && strings.HasPrefix(res, "*/") && res[2:] == req.Subresource) {
			return true
		}
	}
	return false
}

// ParseResource reads RESOURCE[.GROUP][/SUBRESOURCE] (plural, singular
// or short name) or a non-resource URL (starting with /) into the
// resource fields of requests. A name without a group is resolved with
// the resource catalogue; a name the catalogue does not know is asked in
// every API group a rule of the world names for it (explicitly or with
// "*"), one request per group.
func (w *World) ParseResource(s string) ([]Request, error) {
	if strings.HasPrefix(s, "/") {
		return []Request{{Path: s}}, nil
	}
	res, sub, _ := strings.Cut(s, "/")
	if res == "" || strings.Contains(sub, "/") {
		return nil, fmt.Errorf("resource %q: want RESOURCE[.GROUP][/SUBRESOURCE] or /non-resource-url", s)
	}
	res = strings.ToLower(res)
	if name, group, ok := strings.Cut(res, "."); ok {
		if name == "" || group == "" {
			return nil, fmt.Errorf("resource %q: want RESOURCE.GROUP", s)
		}
		if known := w.resources.Lookup(name); len(known) > 0 {
			name = known[0].Resource
		}
		return []Request{{Resource: name, APIGroup: group, Subresource: sub}}, nil
	}
	if known := w.resources.Lookup(res); len(known) > 0 {
		// kubectl's preference: the first match (core, then shortest group).
		return []Request{{Resource: known[0].Resource, APIGroup: known[0].Group, Subresource: sub}}, nil
	}
	// Groups where a rule names the resource; failing that, groups where a
	// (non-bootstrap) rule grants every resource.
	var named, starred []string
	for _, r := range w.roles {
		for _, rule := range r.Rules {
			target := &named
			if !slices.Contains(rule.Resources, res) {
				if !slices.Contains(rule.Resources, rbacv1.ResourceAll) || r.Bootstrap() {
					continue
				}
				target = &starred
			}
			for _, g := range rule.APIGroups {
				if g != rbacv1.APIGroupAll && !slices.Contains(*target, g) {
					*target = append(*target, g)
				}
			}
		}
	}
	groups := named
	if len(groups) == 0 {
		groups = starred
	}
	if len(groups) == 0 {
		return nil, fmt.Errorf("resource %q is not known: name its API group as %s.GROUP", res, res)
	}
	slices.Sort(groups)
	reqs := make([]Request, 0, len(groups))
	for _, g := range groups {
		reqs = append(reqs, Request{Resource: res, APIGroup: g, Subresource: sub})
	}
	return reqs, nil
}

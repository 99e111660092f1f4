package accesscontrol

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

// reportableBinding is the world's binding for o, unless Kubernetes owns
// it.
func reportableBinding(env *check.Env, o *source.Object) (*rbac.World, *rbac.Binding) {
	if o.Group() != rbacv1.GroupName {
		return nil, nil
	}
	w := worldOf(env)
	b := w.BindingOf(o)
	if b == nil || b.Bootstrap() {
		return nil, nil
	}
	return w, b
}

var bindingKinds = []string{"RoleBinding", "ClusterRoleBinding"}

// holdsEverything reports whether the role allows every verb on every
// resource.
func holdsEverything(r *rbac.Role) bool {
	for i := range r.Rules {
		if rbac.RuleAllows(&r.Rules[i], rbac.Request{Verb: "*", APIGroup: "*", Resource: "*"}) {
			return true
		}
	}
	return false
}

func clusterAdminBinding() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "cluster-admin-binding", Title: "cluster-admin (or every permission) bound", Severity: check.Critical, Category: check.AccessControl,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.1"}, NSA: []string{nsaRBAC}, MITRE: []string{mitreValidAccounts}},
			Description: "A binding of cluster-admin, or of any role that allows every verb on every resource, gives its subjects complete control (of the cluster, or of the namespace for a RoleBinding). Kubernetes' own system: subjects are expected to have it.",
			Remediation: "Bind a role with the permissions the subject needs; keep cluster-admin for break-glass accounts.",
		},
		Kinds:  bindingKinds,
		Models: []*check.Model{rbacWorld},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			_, b := reportableBinding(env, o)
			if b == nil || b.Role == nil || (b.RoleRef.Name != "cluster-admin" && !holdsEverything(b.Role)) {
				return nil
			}
			subjects, index := b.SubjectsOf()
			var out []check.Result
			for i, s := range subjects {
				if s.IsSystem() {
					continue
				}
				res := check.Result{Path: fmt.Sprintf("subjects[%d]", index[i])}
				if b.Kind == "RoleBinding" {
					res.Severity = check.High
					res.Message = fmt.Sprintf("%s holds every permission in namespace %s through %s", s, b.Namespace, b.RoleRef)
				} else {
					res.Message = fmt.Sprintf("%s holds every permission cluster-wide through %s", s, b.RoleRef)
				}
				out = append(out, res)
			}
			return out
		},
	}
}

func defaultServiceAccountBound() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "default-service-account-bound", Title: "Permissions granted to a default service account", Severity: check.Medium, Category: check.AccessControl,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.5"}, NSA: []string{nsaRBAC}, MITRE: []string{mitreValidAccounts}},
			Description: "Every pod that names no service account runs as its namespace's default one; permissions granted to it are granted to all of them.",
			Remediation: "Create a dedicated service account for the workload that needs the permissions and bind the role to it.",
		},
		Kinds:  bindingKinds,
		Models: []*check.Model{rbacWorld},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			_, b := reportableBinding(env, o)
			if b == nil {
				return nil
			}
			subjects, index := b.SubjectsOf()
			var out []check.Result
			for i, s := range subjects {
				if s.Kind == rbacv1.ServiceAccountKind && s.Name == "default" {
					out = append(out, check.Result{
						Path:    fmt.Sprintf("subjects[%d]", index[i]),
						Message: fmt.Sprintf("%s is granted to the default service account of namespace %s", b.RoleRef, s.Namespace),
					})
				}
			}
			return out
		},
	}
}

func bindingMissingRole() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "rbac-binding-missing-role", Title: "Binding to a role that does not exist", Severity: check.Low, Category: check.AccessControl,
			Frameworks:      check.Frameworks{NSA: []string{nsaRBAC}},
			Description:     "A binding whose role does not exist grants nothing today, and grants whatever a role of that name will hold once someone creates it. Reported on live clusters and snapshots only, where the whole set of roles is known.",
			Remediation:     "Delete the binding, or create the role it expects.",
			LiveClusterOnly: true,
		},
		Kinds:  bindingKinds,
		Models: []*check.Model{rbacWorld},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			if env.Cluster == nil {
				return nil
			}
			_, b := reportableBinding(env, o)
			if b == nil || b.Role != nil {
				return nil
			}
			return []check.Result{{Path: "roleRef.name", Message: fmt.Sprintf("%s binds %s, which does not exist", b, b.RoleRef)}}
		},
	}
}

func bindingMissingServiceAccount() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "rbac-binding-missing-service-account", Title: "Binding to a service account that does not exist", Severity: check.Medium, Category: check.AccessControl,
			Frameworks:  check.Frameworks{NSA: []string{nsaRBAC}, MITRE: []string{mitreValidAccounts}},
			Description: "A binding to a missing service account waits for whoever creates an account of that name (anyone who may create service accounts in the namespace) and hands it the role. Reported where the namespace's service accounts are known: live clusters, snapshots, and inputs that contain ServiceAccounts of that namespace.",
			Remediation: "Delete the subject from the binding, or create the service account it is meant for.",
		},
		Kinds:  bindingKinds,
		Models: []*check.Model{rbacWorld},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			w, b := reportableBinding(env, o)
			if b == nil {
				return nil
			}
			subjects, index := b.SubjectsOf()
			var out []check.Result
			for i, s := range subjects {
				if s.Kind != rbacv1.ServiceAccountKind || s.Name == "default" {
					continue
				}
				if _, ok := w.ServiceAccount(s.Namespace, s.Name); ok {
					continue
				}
				if env.Cluster == nil {
					// In manifests, a ServiceAccount without a namespace is
					// created in whichever namespace they are applied to.
					if _, ok := w.ServiceAccount("", s.Name); ok || !w.KnowsServiceAccountsOf(s.Namespace) {
						continue
					}
				}
				out = append(out, check.Result{
					Path:    fmt.Sprintf("subjects[%d]", index[i]),
					Message: fmt.Sprintf("%s grants %s to service account %s/%s, which does not exist", b, b.RoleRef, s.Namespace, s.Name),
				})
			}
			return out
		},
	}
}

func escalationPath() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "rbac-escalation-path", Title: "Subject can escalate to cluster-admin-equivalent power", Severity: check.Critical, Category: check.AccessControl,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.1", "5.1.8"}, NSA: []string{nsaRBAC}, MITRE: []string{mitrePrivEscalation, mitreValidAccounts}},
			Description: "Through a chain of permissions (create pods → any service account of the namespace, read token Secrets, TokenRequest, impersonate, bind/escalate, nodes/proxy, mutating webhooks, client-certificate approval) the subject can gain cluster-admin-equivalent power. Reported on the binding that grants the first step; `kubeharden rbac paths` shows every path.",
			Remediation: "Remove the permission of the first step, or the power of the identity it leads to (for example, stop binding powerful roles to service accounts of namespaces where others can create pods).",
		},
		Kinds:  bindingKinds,
		Models: []*check.Model{escalationGraph},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			_, b := reportableBinding(env, o)
			if b == nil || b.Role == nil {
				return nil
			}
			g := graphOf(env)
			subjects, index := b.SubjectsOf()
			var out []check.Result
			for i, s := range subjects {
				if s.IsSystem() {
					continue
				}
				for _, p := range g.Paths(s) {
					first := p.Edges[0]
					// Holding everything directly is cluster-admin-binding's finding.
					if first.Technique.ID == rbac.TechAllPermissions.ID || !grantedBy(first, b) {
						continue
					}
					out = append(out, check.Result{
						Path:    fmt.Sprintf("subjects[%d]", index[i]),
						Message: fmt.Sprintf("%s can gain cluster-admin-equivalent power in %d step%s: %s", s, len(p.Edges), plural(len(p.Edges)), p.Describe()),
					})
					break
				}
			}
			return out
		},
	}
}

// grantedBy reports whether b is the first (in a stable order) binding
// whose grant allows the edge, so a path is reported once.
func grantedBy(e rbac.Edge, b *rbac.Binding) bool {
	if len(e.Grants) == 0 {
		return false
	}
	first := slices.MinFunc(e.Grants, func(x, y rbac.Grant) int { return strings.Compare(x.Binding, y.Binding) })
	return first.Binding == b.String()
}

func plural(n int) string {
	if n == 1 {
		return ""
	}
	return "s"
}

package accesscontrol

import (
	"fmt"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
)

// discoveryRoles are the bootstrap ClusterRoles Kubernetes itself binds to
// system:authenticated and system:unauthenticated: API discovery, the
// user's own permissions, public cluster information and OIDC discovery.
var discoveryRoles = map[string]bool{
	"system:discovery":                        true,
	"system:basic-user":                       true,
	"system:public-info-viewer":               true,
	"system:service-account-issuer-discovery": true,
}

// broadGroups are the groups every (authenticated or anonymous) caller is in.
var broadGroups = map[string]string{
	"system:authenticated":   "every authenticated user and service account",
	"system:unauthenticated": "anonymous callers",
}

func broadGroupBinding() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "broad-group-binding", Title: "Role bound to all authenticated or anonymous users", Severity: check.High, Category: check.AccessControl,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.1", "5.1.3"}, NSA: []string{"Use RBAC with least privilege"}, MITRE: []string{"T1078"}},
			Description: "A RoleBinding or ClusterRoleBinding whose subject is the group system:authenticated or system:unauthenticated, or the user system:anonymous, grants its role to every user and service account (or to anonymous callers). Only the discovery roles Kubernetes binds by default are expected there.",
			Remediation: "Bind the role to the specific users, groups or service accounts that need it, and remove system:authenticated / system:unauthenticated from the subjects.",
		},
		Kinds: []string{"RoleBinding", "ClusterRoleBinding"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			if o.Group() != "rbac.authorization.k8s.io" {
				return nil
			}
			roleRef, _ := o.Field("roleRef").(map[string]any)
			role, _ := roleRef["name"].(string)
			roleKind, _ := roleRef["kind"].(string)
			if roleKind == "ClusterRole" && discoveryRoles[role] {
				return nil
			}
			subjects, _ := o.Field("subjects").([]any)
			var out []check.Result
			for i, s := range subjects {
				subj, _ := s.(map[string]any)
				kind, _ := subj["kind"].(string)
				name, _ := subj["name"].(string)
				who, broad := broadGroups[name]
				switch {
				case kind == "User" && name == "system:anonymous":
					who = "every anonymous request"
				case kind != "Group" || !broad:
					continue
				}
				scope := "cluster-wide"
				if o.Kind() == "RoleBinding" {
					scope = "in namespace " + o.Namespace()
				}
				out = append(out, check.Result{
					Path:    fmt.Sprintf("subjects[%d]", i),
					Message: fmt.Sprintf("%s %q is granted to %s %s (%s), %s", roleKind, role, strings.ToLower(kind), name, who, scope),
				})
			}
			return out
		},
	}
}

// Package accesscontrol holds the access-control checks: dangerous
// permissions in roles, risky bindings, escalation paths and powerful
// tokens, evaluated with the RBAC engine (internal/rbac).
package accesscontrol

import "github.com/kubeharden/kubeharden/internal/check"

// Checks returns the access-control catalogue.
func Checks() ([]*check.Check, error) {
	all := []*check.Check{broadGroupBinding(), clusterAdminBinding(), wildcardRule(), defaultServiceAccountBound(),
		bindingMissingRole(), bindingMissingServiceAccount(), escalationPath(), serviceAccountTokenSecret(), powerfulTokenMounted()}
	for _, r := range permissionRisks() {
		all = append(all, r.check())
	}
	return all, nil
}

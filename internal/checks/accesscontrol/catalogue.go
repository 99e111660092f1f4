// Package accesscontrol holds the access-control checks that read RBAC
// objects one at a time.
package accesscontrol

import "github.com/kubeharden/kubeharden/internal/check"

// Checks returns the access-control catalogue.
func Checks() ([]*check.Check, error) {
	return []*check.Check{broadGroupBinding()}, nil
}

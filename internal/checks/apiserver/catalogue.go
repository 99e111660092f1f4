// Package apiserver holds checks on the API server's own configuration
// objects: admission webhooks.
package apiserver

import "github.com/kubeharden/kubeharden/internal/check"

// Checks returns the api-server catalogue.
func Checks() ([]*check.Check, error) {
	return []*check.Check{webhookFailsOpen()}, nil
}

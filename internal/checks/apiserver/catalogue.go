// Package apiserver holds checks on the API server's configuration: its
// admission webhooks and, on live clusters, its authentication.
package apiserver

import "github.com/kubeharden/kubeharden/internal/check"

// Checks returns the api-server catalogue.
func Checks() ([]*check.Check, error) {
	return []*check.Check{webhookFailsOpen(), webhookExemptsAll(), anonymousAccess(), versionSupport()}, nil
}

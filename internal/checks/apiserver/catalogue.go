// Package apiserver holds checks on the control plane's configuration: the
// kube-apiserver, kube-controller-manager and kube-scheduler flags of the
// CIS Kubernetes Benchmark (sections 1.2 to 1.4), encryption at rest, the
// cluster's admission webhooks and, on live clusters, its authentication.
package apiserver

import "github.com/kubeharden/kubeharden/internal/check"

// Checks returns the api-server catalogue.
func Checks() ([]*check.Check, error) {
	checks := []*check.Check{webhookFailsOpen(), webhookExemptsAll(), anonymousAccess(), versionSupport()}
	checks = append(checks, apiServerFlagChecks()...)
	checks = append(checks, controlPlaneFlagChecks()...)
	checks = append(checks, encryptionChecks()...)
	return checks, nil
}

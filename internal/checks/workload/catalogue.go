// Package workload holds the checks on pod specs: the Pod Security
// Standards (evaluated by the upstream controls), the hardening checks
// beyond them, and the image-reference checks (category supply-chain).
package workload

import "github.com/kubeharden/kubeharden/internal/check"

// Checks returns the workload and image catalogue.
func Checks() ([]*check.Check, error) {
	out, err := pssCatalogue()
	if err != nil {
		return nil, err
	}
	out = append(out,
		readOnlyRootFilesystem(),
		automountServiceAccountToken(),
		defaultServiceAccount(),
		dangerousCapabilitiesCheck(),
		sensitiveHostPathCheck(),
		shareProcessNamespace(),
		namespacePodSecurity(),
	)
	out = append(out, resourceChecks()...)
	out = append(out, imageChecks()...)
	return out, nil
}

package apiserver

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
)

// The Kubernetes project maintains release branches for the three most
// recent minor releases. newestMinor is the newest minor release as of
// newestMinorAsOf; update both when a minor release ships.
const (
	newestMinor      = 37
	newestMinorAsOf  = "2026-11"
	supportedMinors  = 3
	oldestSupportedM = newestMinor - supportedMinors + 1
)

// parseMinor reads the minor version of "v1.33.4", "1.33", "v1.33.0-eks-…".
func parseMinor(v string) (int, bool) {
	v = strings.TrimPrefix(v, "v")
	major, rest, ok := strings.Cut(v, ".")
	if !ok || major != "1" {
		return 0, false
	}
	end := 0
	for end < len(rest) && rest[end] >= '0' && rest[end] <= '9' {
		end++
	}
	m, err := strconv.Atoi(rest[:end])
	return m, err == nil
}

func versionSupport() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "kubernetes-version-unsupported", Title: "Kubernetes version out of upstream support", Severity: check.High, Category: check.APIServer,
			Frameworks: check.Frameworks{NSA: []string{"Keep Kubernetes up to date"}, MITRE: []string{"T1190"}},
			Description: fmt.Sprintf("The Kubernetes project patches only the three most recent minor releases (v1.%d–v1.%d as of %s); an older API server receives no security fixes from upstream.",
				oldestSupportedM, newestMinor, newestMinorAsOf),
			Remediation: fmt.Sprintf("Upgrade the control plane (and then the nodes) to v1.%d or later, one minor release at a time.", oldestSupportedM),
		},
		Cluster: func(env *check.Env) []check.Result {
			minor, ok := parseMinor(env.Cluster.Version)
			if !ok || minor >= oldestSupportedM {
				return nil
			}
			sev := check.High
			if minor < oldestSupportedM-2 {
				sev = check.Critical // more than two releases past the end of support
			}
			return []check.Result{{
				Severity: sev,
				Path:     "version",
				Message: fmt.Sprintf("the API server runs %s; upstream supports v1.%d–v1.%d (as of %s)",
					env.Cluster.Version, oldestSupportedM, newestMinor, newestMinorAsOf),
			}}
		},
	}
}

package workload

import (
	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

func shareProcessNamespace() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "share-process-namespace", Title: "Process namespace shared between containers", Severity: check.Medium, Category: check.Workload,
			Frameworks:  check.Frameworks{NSA: []string{nsaHostAccess}, MITRE: []string{mitreCredsInFiles}},
			Description: "With shareProcessNamespace every container sees the others' processes and can read their environment and filesystems through /proc.",
			Remediation: "Remove spec.shareProcessNamespace (or set it to false) unless a sidecar truly needs to signal the main process.",
		},
		Pod: func(_ *check.Env, p *inventory.Pod) []check.Result {
			if v := p.Spec.ShareProcessNamespace; v == nil || !*v {
				return nil
			}
			return []check.Result{{
				Path:    p.SpecPath + ".shareProcessNamespace",
				Message: "spec.shareProcessNamespace is true: containers can see and signal each other's processes and read their /proc",
			}}
		},
	}
}

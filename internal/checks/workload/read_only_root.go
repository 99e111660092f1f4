package workload

import (
	"fmt"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

func readOnlyRootFilesystem() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "read-only-root-filesystem", Title: "Writable root filesystem", Severity: check.Medium, Category: check.Workload,
			Frameworks:  check.Frameworks{CIS: []string{"5.6.3"}, NSA: []string{nsaImmutable}, MITRE: []string{"T1105"}},
			Description: "A writable root filesystem lets an attacker drop tools and modify the application in place.",
			Remediation: "Set securityContext.readOnlyRootFilesystem: true and mount emptyDir volumes where the application must write.",
		},
		Pod: func(env *check.Env, p *inventory.Pod) []check.Result {
			return perContainer(env, p, func(ref inventory.ContainerRef) (check.Result, bool) {
				sc := ref.Container.SecurityContext
				if sc != nil && sc.ReadOnlyRootFilesystem != nil && *sc.ReadOnlyRootFilesystem {
					return check.Result{}, false
				}
				return check.Result{
					Path:    env.Text(fieldPath, ref.Path, "securityContext.readOnlyRootFilesystem"),
					Message: env.Text(readOnlyRootMessage, ref.Container.Name, ""),
				}, true
			})
		},
	}
}

var readOnlyRootMessage = check.NewTextKind(func(name, _ string) string {
	return fmt.Sprintf("container %q does not set securityContext.readOnlyRootFilesystem=true", name)
})

package workload

import (
	"fmt"
	"strconv"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// resourceCheck reports containers without a CPU or memory request or
// limit. A pod-level spec.resources (Kubernetes 1.32+) satisfies it for
// every container.
func resourceCheck(id, title string, sev check.Severity, resource corev1.ResourceName, limit bool, why string) *check.Check {
	kind, field := "request", "requests"
	if limit {
		kind, field = "limit", "limits"
	}
	under := "resources." + field + "." + string(resource) // the field under a container
	message := check.NewTextKind(func(name, _ string) string {
		return "container " + strconv.Quote(name) + " has no " + string(resource) + " " + kind + " (" + under + ")"
	})
	return &check.Check{
		Metadata: check.Metadata{
			ID: id, Title: title, Severity: sev, Category: check.Workload,
			Frameworks:  check.Frameworks{NSA: []string{nsaResources}, MITRE: []string{mitreResourceHijack}},
			Description: why,
			Remediation: fmt.Sprintf("Set resources.%s.%s on every container.", field, resource),
		},
		Pod: func(env *check.Env, p *inventory.Pod) []check.Result {
			if p.Spec.Resources != nil && hasResource(*p.Spec.Resources, resource, limit) {
				return nil
			}
			return perContainer(env, p, func(ref inventory.ContainerRef) (check.Result, bool) {
				if hasResource(ref.Container.Resources, resource, limit) {
					return check.Result{}, false
				}
				return check.Result{Path: env.Text(fieldPath, ref.Path, under), Message: env.Text(message, ref.Container.Name, "")}, true
			})
		},
	}
}

func hasResource(r corev1.ResourceRequirements, name corev1.ResourceName, limit bool) bool {
	if limit {
		_, ok := r.Limits[name]
		return ok
	}
	if _, ok := r.Requests[name]; ok {
		return true
	}
	// The API server defaults a missing request to the limit.
	_, ok := r.Limits[name]
	return ok
}

func resourceChecks() []*check.Check {
	return []*check.Check{
		resourceCheck("memory-limit-missing", "No memory limit", check.Medium, corev1.ResourceMemory, true,
			"Without a memory limit one container can exhaust the node's memory and get its neighbours killed."),
		resourceCheck("memory-request-missing", "No memory request", check.Low, corev1.ResourceMemory, false,
			"Without a memory request the scheduler cannot place the pod sensibly and it is among the first evicted."),
		resourceCheck("cpu-request-missing", "No CPU request", check.Low, corev1.ResourceCPU, false,
			"Without a CPU request the container gets no guaranteed share of CPU under contention."),
		resourceCheck("cpu-limit-missing", "No CPU limit", check.Low, corev1.ResourceCPU, true,
			"Without a CPU limit a runaway or hijacked container (cryptomining) can take every core of the node."),
	}
}

package workload

import (
	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// perContainer runs fn on every init and regular container of the pod and
// collects the results it reports (ok), each about its container.
// Ephemeral (debug) containers are left out: they cannot set resources or
// most of the fields these checks look at, and exist only on live pods.
func perContainer(env *check.Env, p *inventory.Pod, fn func(ref inventory.ContainerRef) (r check.Result, ok bool)) []check.Result {
	out := env.ResultBuffer()
	for _, ref := range p.Containers() {
		if ref.Ephemeral {
			continue
		}
		if r, ok := fn(ref); ok {
			r.Container = ref.Container.Name
			out = append(out, r)
		}
	}
	return env.KeepResults(out)
}

// fieldPath is the path of a field (b) under a path (a): a container's
// field, a pod-level field.
var fieldPath = check.NewTextKind(joinField)

package workload

import (
	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// perContainer runs fn on every init and regular container of the pod.
// Ephemeral (debug) containers are left out: they cannot set resources or
// most of the fields these checks look at, and exist only on live pods.
func perContainer(p *inventory.Pod, fn func(ref inventory.ContainerRef) *check.Result) []check.Result {
	var out []check.Result
	for _, ref := range p.Containers() {
		if ref.Ephemeral {
			continue
		}
		if r := fn(ref); r != nil {
			r.Container = ref.Container.Name
			out = append(out, *r)
		}
	}
	return out
}

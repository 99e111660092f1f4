package workload

import (
	"fmt"
	"path"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// sensitiveHostPaths are host directories and sockets whose exposure gives
// control of the node: the filesystem root, configuration and credentials,
// kernel interfaces, and the container runtime and kubelet state.
var sensitiveHostPaths = []string{
	"/etc", "/root", "/home", "/boot", "/proc", "/sys", "/dev",
	"/var/lib/kubelet", "/var/lib/etcd", "/var/lib/docker", "/var/lib/containerd", "/var/lib/crio",
	"/var/run/docker.sock", "/run/docker.sock", "/var/run/containerd", "/run/containerd",
	"/var/run/crio", "/run/crio", "/var/run/cri-dockerd.sock", "/run/cri-dockerd.sock",
}

// sensitiveExact are directories that are sensitive as a whole (mounting
// them exposes the runtime sockets inside) but not each file below them.
var sensitiveExact = []string{"/", "/var", "/var/run", "/run", "/var/lib", "/usr", "/lib"}

// sensitiveHostPath returns the matching sensitive path, or "".
func sensitiveHostPath(p string) string {
	clean := path.Clean("/" + strings.TrimSpace(p))
	for _, s := range sensitiveExact {
		if clean == s {
			return s
		}
	}
	for _, s := range sensitiveHostPaths {
		if clean == s || strings.HasPrefix(clean, s+"/") {
			return s
		}
	}
	return ""
}

func sensitiveHostPathCheck() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "sensitive-host-path", Title: "Sensitive host path mounted", Severity: check.Critical, Category: check.Workload,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.11"}, NSA: []string{nsaHostAccess}, MITRE: []string{mitreEscapeToHost, mitreContainerAdmin}},
			Description: "Mounting the container runtime socket, the kubelet's state, /etc, /proc or the host's root gives the pod control of the node.",
			Remediation: "Remove the hostPath volume. If node access is truly required, run the component in a dedicated, tightly controlled namespace.",
		},
		Pod: func(_ *check.Env, p *inventory.Pod) []check.Result {
			var out []check.Result
			for i, v := range p.Spec.Volumes {
				if v.HostPath == nil {
					continue
				}
				match := sensitiveHostPath(v.HostPath.Path)
				if match == "" {
					continue
				}
				out = append(out, check.Result{
					Path:    fmt.Sprintf("%s.volumes[%d].hostPath.path", p.SpecPath, i),
					Message: fmt.Sprintf("volume %q mounts host path %q (sensitive: %s)", v.Name, v.HostPath.Path, match),
				})
			}
			return out
		},
	}
}

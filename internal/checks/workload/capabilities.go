package workload

import (
	"fmt"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// dangerousCapabilities are capabilities that, once added, give a path to
// the host or to other tenants, with the reason shown to the user.
var dangerousCapabilities = map[string]string{
	"ALL":             "every capability",
	"SYS_ADMIN":       "mount, namespaces, BPF and most of root's powers",
	"SYS_MODULE":      "loads kernel modules",
	"SYS_RAWIO":       "raw access to devices and I/O ports",
	"SYS_PTRACE":      "traces and injects into other processes",
	"SYS_BOOT":        "reboots the node",
	"SYS_TIME":        "changes the node's clock",
	"DAC_READ_SEARCH": "bypasses file read permissions (open_by_handle_at escapes)",
	"DAC_OVERRIDE":    "bypasses file permission checks",
	"NET_ADMIN":       "reconfigures networking, firewalls and routes",
	"NET_RAW":         "crafts raw packets (spoofing, ARP and DNS poisoning)",
	"BPF":             "loads BPF programs",
	"PERFMON":         "reads kernel and process performance data",
	"MAC_ADMIN":       "changes mandatory access control policy",
	"MAC_OVERRIDE":    "bypasses mandatory access control",
	"SYSLOG":          "reads kernel logs and addresses",
	"SETFCAP":         "grants file capabilities",
}

func dangerousCapabilitiesCheck() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "dangerous-capabilities", Title: "Dangerous capability added", Severity: check.High, Category: check.Workload, ControlPlane: true,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.8", "5.2.9"}, NSA: []string{nsaCapabilities}, MITRE: []string{mitreEscapeToHost}},
			Description: "Capabilities such as SYS_ADMIN, SYS_PTRACE, NET_ADMIN and NET_RAW give a compromised container ways to attack the node or its neighbours.",
			Remediation: "Remove the capability from securityContext.capabilities.add; drop ALL and add back only what the process needs.",
		},
		Pod: func(_ *check.Env, p *inventory.Pod) []check.Result {
			var out []check.Result
			for _, ref := range p.Containers() {
				sc := ref.Container.SecurityContext
				if sc == nil || sc.Capabilities == nil {
					continue
				}
				for i, c := range sc.Capabilities.Add {
					name := strings.TrimPrefix(strings.ToUpper(string(c)), "CAP_")
					why, bad := dangerousCapabilities[name]
					if !bad {
						continue
					}
					out = append(out, check.Result{
						Container: ref.Container.Name,
						Path:      fmt.Sprintf("%s.securityContext.capabilities.add[%d]", ref.Path, i),
						Message:   fmt.Sprintf("container %q adds capability %s (%s)", ref.Container.Name, name, why),
					})
				}
			}
			return out
		},
	}
}

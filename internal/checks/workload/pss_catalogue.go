package workload

import (
	"fmt"

	"k8s.io/pod-security-admission/policy"

	"github.com/kubeharden/kubeharden/internal/check"
)

// NSA-CISA Kubernetes Hardening Guide topics used across the catalogue.
const (
	nsaNonRoot       = "Use containers built to run applications as non-root users"
	nsaImmutable     = "Run containers with immutable file systems"
	nsaPrivileged    = "Prevent privileged containers"
	nsaHostAccess    = "Deny host namespace sharing and host file access"
	nsaCapabilities  = "Drop unneeded Linux capabilities"
	nsaSeccomp       = "Use seccomp, AppArmor or SELinux to confine containers"
	nsaResources     = "Use resource policies to limit resources"
	nsaServiceTokens = "Disable automounting of service account tokens where not needed"
	nsaImages        = "Use trusted, scanned and pinned container images"
)

// MITRE ATT&CK techniques.
const (
	mitreEscapeToHost   = "T1611" // Escape to Host
	mitreContainerAdmin = "T1609" // Container Administration Command
	mitreDeploy         = "T1610" // Deploy Container
	mitreCredsInFiles   = "T1552" // Unsecured Credentials
	mitreSupplyChain    = "T1195" // Supply Chain Compromise
	mitreResourceHijack = "T1496" // Resource Hijacking
	mitreValidAccounts  = "T1078" // Valid Accounts
	mitreNetworkSniff   = "T1040" // Network Sniffing
)

// pssEntry is one Pod Security control as a kubeharden check.
type pssEntry struct {
	control policy.CheckID
	loc     location
	meta    check.Metadata
}

func pssEntries() []pssEntry {
	return []pssEntry{
		{"privileged", location{containers: true, containerField: "securityContext.privileged"}, check.Metadata{
			ID: "privileged-container", Title: "Privileged container", Severity: check.Critical, ControlPlane: true,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.2"}, NSA: []string{nsaPrivileged}, MITRE: []string{mitreEscapeToHost}},
			Description: "A privileged container has every capability and all host devices; it is root on the node. (Pod Security Standards, baseline.)",
			Remediation: "Remove securityContext.privileged or set it to false; grant only the specific capabilities the process needs.",
		}},
		{"hostNamespaces", location{pod: hostNamespaceField}, check.Metadata{
			ID: "host-namespaces", Title: "Host namespaces shared", Severity: check.High,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.3", "5.2.4", "5.2.5"}, NSA: []string{nsaHostAccess}, MITRE: []string{mitreEscapeToHost, mitreNetworkSniff}},
			Description: "hostNetwork, hostPID or hostIPC let the pod see and touch the node's network, processes or shared memory. (Pod Security Standards, baseline.)",
			Remediation: "Remove hostNetwork, hostPID and hostIPC from the pod spec (or set them to false).",
		}},
		{"hostPathVolumes", location{volumes: true, volumeField: "hostPath"}, check.Metadata{
			ID: "host-path-volume", Title: "hostPath volume", Severity: check.High,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.11"}, NSA: []string{nsaHostAccess}, MITRE: []string{mitreEscapeToHost}},
			Description: "hostPath volumes expose the node's filesystem to the pod. (Pod Security Standards, baseline.)",
			Remediation: "Replace hostPath volumes with emptyDir, configMap, secret, projected or persistent volumes.",
		}},
		{"hostPorts", location{containers: true, containerField: "ports"}, check.Metadata{
			ID: "host-ports", Title: "Host port", Severity: check.Medium,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.12"}, NSA: []string{nsaHostAccess}},
			Description: "hostPort binds the container to the node's network interfaces, bypassing Services and NetworkPolicies. (Pod Security Standards, baseline.)",
			Remediation: "Remove hostPort from containers[].ports; expose the pod through a Service.",
		}},
		{"capabilities_baseline", location{containers: true, containerField: "securityContext.capabilities.add"}, check.Metadata{
			ID: "capabilities-baseline", Title: "Non-default capabilities added", Severity: check.High, ControlPlane: true,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.9"}, NSA: []string{nsaCapabilities}, MITRE: []string{mitreEscapeToHost}},
			Description: "Adding capabilities beyond the container runtime's default set widens what a compromised process can do to the kernel. (Pod Security Standards, baseline.)",
			Remediation: "Remove the listed capabilities from securityContext.capabilities.add.",
		}},
		{"appArmorProfile", location{containers: true, containerField: "securityContext.appArmorProfile", pod: appArmorField}, check.Metadata{
			ID: "apparmor-profile", Title: "AppArmor disabled or overridden", Severity: check.High, ControlPlane: true,
			Frameworks:  check.Frameworks{NSA: []string{nsaSeccomp}, MITRE: []string{mitreEscapeToHost}},
			Description: "Setting the AppArmor profile to unconfined (or to anything but RuntimeDefault or a Localhost profile) removes a kernel confinement layer. (Pod Security Standards, baseline.)",
			Remediation: "Set appArmorProfile.type to RuntimeDefault or Localhost, or leave it unset.",
		}},
		{"seLinuxOptions", location{containers: true, containerField: "securityContext.seLinuxOptions", pod: podField("securityContext.seLinuxOptions")}, check.Metadata{
			ID: "selinux-options", Title: "Custom SELinux options", Severity: check.High, ControlPlane: true,
			Frameworks:  check.Frameworks{NSA: []string{nsaSeccomp}, MITRE: []string{mitreEscapeToHost}},
			Description: "Setting a custom SELinux user or role, or a type other than the container types, can escape SELinux confinement. (Pod Security Standards, baseline.)",
			Remediation: "Remove seLinuxOptions.user and .role; use type container_t, container_init_t, container_kvm_t or container_engine_t, or leave it unset.",
		}},
		{"procMount", location{containers: true, containerField: "securityContext.procMount"}, check.Metadata{
			ID: "proc-mount", Title: "Unmasked /proc", Severity: check.High, ControlPlane: true,
			Frameworks:  check.Frameworks{NSA: []string{nsaHostAccess}, MITRE: []string{mitreEscapeToHost}},
			Description: "An Unmasked procMount exposes kernel interfaces that the default mask hides. (Pod Security Standards, baseline.)",
			Remediation: "Remove securityContext.procMount or set it to Default.",
		}},
		{"seccompProfile_baseline", location{containers: true, containerField: "securityContext.seccompProfile", pod: podField("securityContext.seccompProfile")}, check.Metadata{
			ID: "seccomp-unconfined", Title: "Seccomp explicitly disabled", Severity: check.High, ControlPlane: true,
			Frameworks:  check.Frameworks{CIS: []string{"5.6.2"}, NSA: []string{nsaSeccomp}, MITRE: []string{mitreEscapeToHost}},
			Description: "seccompProfile.type Unconfined turns off system-call filtering. (Pod Security Standards, baseline.)",
			Remediation: "Set seccompProfile.type to RuntimeDefault (or Localhost with a profile).",
		}},
		{"sysctls", location{pod: podField("securityContext.sysctls")}, check.Metadata{
			ID: "unsafe-sysctls", Title: "Unsafe sysctls", Severity: check.High, ControlPlane: true,
			Frameworks:  check.Frameworks{NSA: []string{nsaHostAccess}, MITRE: []string{mitreEscapeToHost}},
			Description: "Sysctls outside the safe, namespaced set can affect the whole node. (Pod Security Standards, baseline.)",
			Remediation: "Remove sysctls not in the Pod Security Standards' allowed list from securityContext.sysctls.",
		}},
		{"windowsHostProcess", location{containers: true, containerField: "securityContext.windowsOptions.hostProcess", pod: podField("securityContext.windowsOptions.hostProcess")}, check.Metadata{
			ID: "windows-host-process", Title: "Windows HostProcess container", Severity: check.Critical, ControlPlane: true,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.10"}, NSA: []string{nsaPrivileged}, MITRE: []string{mitreEscapeToHost}},
			Description: "A Windows HostProcess container runs directly on the host with administrator rights. (Pod Security Standards, baseline.)",
			Remediation: "Remove windowsOptions.hostProcess or set it to false.",
		}},
		{"hostProbesAndHostLifecycle", location{containers: true}, check.Metadata{
			ID: "host-probes-lifecycle", Title: "Probe or lifecycle hook targets another host", Severity: check.Medium,
			Frameworks:  check.Frameworks{NSA: []string{nsaHostAccess}},
			Description: "Probes and lifecycle handlers with a host field make the kubelet connect to arbitrary addresses (server-side request forgery). (Pod Security Standards, baseline.)",
			Remediation: "Remove the host field from httpGet and tcpSocket probes and lifecycle handlers.",
		}},
		{"restrictedVolumes", location{volumes: true}, check.Metadata{
			ID: "restricted-volume-types", Title: "Volume type outside the restricted set", Severity: check.Medium,
			Frameworks:  check.Frameworks{NSA: []string{nsaHostAccess}},
			Description: "The restricted profile allows only configMap, csi, downwardAPI, emptyDir, ephemeral, image, persistentVolumeClaim, projected and secret volumes. (Pod Security Standards, restricted.)",
			Remediation: "Replace the volume with one of the allowed types, typically a persistentVolumeClaim.",
		}},
		{"allowPrivilegeEscalation", location{containers: true, containerField: "securityContext.allowPrivilegeEscalation"}, check.Metadata{
			ID: "allow-privilege-escalation", Title: "Privilege escalation allowed", Severity: check.Medium,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.6"}, NSA: []string{nsaPrivileged}, MITRE: []string{mitreEscapeToHost}},
			Description: "Unless allowPrivilegeEscalation is false, setuid binaries and file capabilities can gain more privileges than the process started with. (Pod Security Standards, restricted.)",
			Remediation: "Set securityContext.allowPrivilegeEscalation: false in every container.",
		}},
		{"runAsNonRoot", location{containers: true, containerField: "securityContext.runAsNonRoot", pod: podField("securityContext.runAsNonRoot")}, check.Metadata{
			ID: "run-as-non-root", Title: "Container may run as root", Severity: check.Medium,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.7"}, NSA: []string{nsaNonRoot}, MITRE: []string{mitreEscapeToHost}},
			Description: "Without runAsNonRoot: true the kubelet starts images that run as UID 0. (Pod Security Standards, restricted.)",
			Remediation: "Set securityContext.runAsNonRoot: true (pod or container level) and run the image as a non-zero UID.",
		}},
		{"runAsUser", location{containers: true, containerField: "securityContext.runAsUser", pod: podField("securityContext.runAsUser")}, check.Metadata{
			ID: "run-as-user-root", Title: "runAsUser is 0", Severity: check.Medium,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.7"}, NSA: []string{nsaNonRoot}, MITRE: []string{mitreEscapeToHost}},
			Description: "runAsUser: 0 runs the container as root explicitly. (Pod Security Standards, restricted.)",
			Remediation: "Set securityContext.runAsUser to a non-zero UID, or remove it and set runAsNonRoot: true.",
		}},
		{"seccompProfile_restricted", location{containers: true, containerField: "securityContext.seccompProfile", pod: podField("securityContext.seccompProfile")}, check.Metadata{
			ID: "seccomp-profile-missing", Title: "No seccomp profile", Severity: check.Medium,
			Frameworks:  check.Frameworks{CIS: []string{"5.6.2"}, NSA: []string{nsaSeccomp}, MITRE: []string{mitreEscapeToHost}},
			Description: "The restricted profile requires seccompProfile.type RuntimeDefault or Localhost at pod or container level. (Pod Security Standards, restricted.)",
			Remediation: "Set spec.securityContext.seccompProfile.type: RuntimeDefault.",
		}},
		{"capabilities_restricted", location{containers: true, containerField: "securityContext.capabilities"}, check.Metadata{
			ID: "capabilities-restricted", Title: "Capabilities not dropped", Severity: check.Medium,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.8", "5.2.9"}, NSA: []string{nsaCapabilities}, MITRE: []string{mitreEscapeToHost}},
			Description: "The restricted profile requires dropping ALL capabilities and adding back at most NET_BIND_SERVICE. (Pod Security Standards, restricted.)",
			Remediation: "Set securityContext.capabilities.drop: [\"ALL\"]; add only NET_BIND_SERVICE if the process binds a port below 1024.",
		}},
		{"procMount_restricted", location{containers: true, containerField: "securityContext.procMount"}, check.Metadata{
			ID: "proc-mount-restricted", Title: "Unmasked /proc (restricted)", Severity: check.Medium,
			Frameworks:  check.Frameworks{NSA: []string{nsaHostAccess}, MITRE: []string{mitreEscapeToHost}},
			Description: "The restricted profile forbids an Unmasked procMount in every pod, including those with user namespaces. (Pod Security Standards, restricted.)",
			Remediation: "Remove securityContext.procMount or set it to Default.",
		}},
	}
}

func pssCatalogue() ([]*check.Check, error) {
	controls, err := pssControls()
	if err != nil {
		return nil, err
	}
	entries := pssEntries()
	out := make([]*check.Check, 0, len(entries))
	covered := map[policy.CheckID]bool{}
	for _, e := range entries {
		e.meta.Category = check.Workload
		c, err := pssCheck(controls, e.control, e.loc, e.meta)
		if err != nil {
			return nil, err
		}
		covered[e.control] = true
		out = append(out, c)
	}
	// A new upstream control must not go unnoticed after a dependency bump.
	for id := range controls {
		if !covered[id] {
			return nil, fmt.Errorf("upstream Pod Security control %q has no kubeharden check: add it to pssEntries", id)
		}
	}
	return out, nil
}

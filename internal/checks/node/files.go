package node

import (
	"io/fs"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// fileItem is one benchmark item on files: a mode or an owner.
type fileItem struct {
	id, cis, what string
	roles         []nodeconfig.FileRole
	component     nodeconfig.Kind
	mode          fs.FileMode // 0: an ownership item
	severity      check.Severity
}

// fileItems are sections 1.1 (control-plane node) and 4.1 (worker node),
// except the etcd data directory (internal/checks/etcd).
var fileItems = []fileItem{
	{"file-apiserver-manifest-mode", "1.1.1", "kube-apiserver static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.APIServer, 0o600, check.Medium},
	{"file-apiserver-manifest-owner", "1.1.2", "kube-apiserver static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.APIServer, 0, check.Medium},
	{"file-controller-manager-manifest-mode", "1.1.3", "kube-controller-manager static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.ControllerManager, 0o600, check.Medium},
	{"file-controller-manager-manifest-owner", "1.1.4", "kube-controller-manager static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.ControllerManager, 0, check.Medium},
	{"file-scheduler-manifest-mode", "1.1.5", "kube-scheduler static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.Scheduler, 0o600, check.Medium},
	{"file-scheduler-manifest-owner", "1.1.6", "kube-scheduler static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.Scheduler, 0, check.Medium},
	{"file-etcd-manifest-mode", "1.1.7", "etcd static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.Etcd, 0o600, check.Medium},
	{"file-etcd-manifest-owner", "1.1.8", "etcd static pod manifest", roles(nodeconfig.RoleManifest), nodeconfig.Etcd, 0, check.Medium},
	{"file-cni-config-mode", "1.1.9", "CNI configuration file", roles(nodeconfig.RoleCNIConfig), "", 0o600, check.Low},
	{"file-cni-config-owner", "1.1.10", "CNI configuration file", roles(nodeconfig.RoleCNIConfig), "", 0, check.Low},
	{"file-admin-kubeconfig-mode", "1.1.13", "administrator kubeconfig (admin.conf, super-admin.conf)", roles(nodeconfig.RoleAdminKubeconfig, nodeconfig.RoleSuperAdminKubeconfig), "", 0o600, check.High},
	{"file-admin-kubeconfig-owner", "1.1.14", "administrator kubeconfig (admin.conf, super-admin.conf)", roles(nodeconfig.RoleAdminKubeconfig, nodeconfig.RoleSuperAdminKubeconfig), "", 0, check.High},
	{"file-scheduler-kubeconfig-mode", "1.1.15", "scheduler kubeconfig", roles(nodeconfig.RoleSchedulerKubeconfig), "", 0o600, check.Medium},
	{"file-scheduler-kubeconfig-owner", "1.1.16", "scheduler kubeconfig", roles(nodeconfig.RoleSchedulerKubeconfig), "", 0, check.Medium},
	{"file-controller-manager-kubeconfig-mode", "1.1.17", "controller-manager kubeconfig", roles(nodeconfig.RoleControllerKubeconfig), "", 0o600, check.Medium},
	{"file-controller-manager-kubeconfig-owner", "1.1.18", "controller-manager kubeconfig", roles(nodeconfig.RoleControllerKubeconfig), "", 0, check.Medium},
	{"file-pki-owner", "1.1.19", "Kubernetes PKI directory or file", roles(nodeconfig.RolePKIDir, nodeconfig.RolePKICert, nodeconfig.RolePKIKey), "", 0, check.Medium},
	{"file-pki-certificate-mode", "1.1.20", "PKI certificate or public key", roles(nodeconfig.RolePKICert), "", 0o644, check.Low},
	{"file-pki-key-mode", "1.1.21", "PKI private key", roles(nodeconfig.RolePKIKey), "", 0o600, check.High},
	{"file-kubelet-service-mode", "4.1.1", "kubelet service file", roles(nodeconfig.RoleKubeletService), "", 0o600, check.Low},
	{"file-kubelet-service-owner", "4.1.2", "kubelet service file", roles(nodeconfig.RoleKubeletService), "", 0, check.Low},
	{"file-proxy-kubeconfig-mode", "4.1.3", "kube-proxy kubeconfig", roles(nodeconfig.RoleProxyKubeconfig), "", 0o600, check.Medium},
	{"file-proxy-kubeconfig-owner", "4.1.4", "kube-proxy kubeconfig", roles(nodeconfig.RoleProxyKubeconfig), "", 0, check.Medium},
	{"file-kubelet-kubeconfig-mode", "4.1.5", "kubelet kubeconfig (kubelet.conf)", roles(nodeconfig.RoleKubeletKubeconfig), "", 0o600, check.Medium},
	{"file-kubelet-kubeconfig-owner", "4.1.6", "kubelet kubeconfig (kubelet.conf)", roles(nodeconfig.RoleKubeletKubeconfig), "", 0, check.Medium},
	{"file-kubelet-client-ca-mode", "4.1.7", "kubelet client CA file", roles(nodeconfig.RoleKubeletClientCA), "", 0o644, check.Low},
	{"file-kubelet-client-ca-owner", "4.1.8", "kubelet client CA file", roles(nodeconfig.RoleKubeletClientCA), "", 0, check.Low},
	{"file-kubelet-config-mode", "4.1.9", "kubelet config file", roles(nodeconfig.RoleKubeletConfig), "", 0o600, check.Medium},
	{"file-kubelet-config-owner", "4.1.10", "kubelet config file", roles(nodeconfig.RoleKubeletConfig), "", 0, check.Medium},
}

func roles(r ...nodeconfig.FileRole) []nodeconfig.FileRole { return r }

func fileChecks() []*check.Check {
	out := make([]*check.Check, 0, len(fileItems))
	for _, it := range fileItems {
		r := nc.FileRule{Roles: it.roles, Component: it.component}
		m := check.Metadata{ID: it.id, Severity: it.severity, Category: check.Node, Frameworks: check.Frameworks{CIS: []string{it.cis}}}
		if it.mode != 0 {
			r.MaxMode = it.mode
			perm := modeString(it.mode)
			m.Title = it.what + " permissions are too open"
			m.Description = "The " + it.what + " should not be writable (or, for credentials, readable) by anyone but root: the benchmark asks for mode " + perm + " or more restrictive. Checked only where the file exists."
			m.Remediation = "chmod " + perm + " the file."
		} else {
			r.Owners = []string{"root:root"}
			m.Title = it.what + " is not owned by root"
			m.Description = "The " + it.what + " should be owned by root:root so that no other account can change it. Checked only where the file exists."
			m.Remediation = "chown root:root the file."
		}
		m.Title = strings.ToUpper(m.Title[:1]) + m.Title[1:]
		r.Metadata = m
		out = append(out, r.Check())
	}
	return out
}

func modeString(m fs.FileMode) string {
	const digits = "01234567"
	p := m.Perm()
	return string([]byte{digits[p>>6&7], digits[p>>3&7], digits[p&7]})
}

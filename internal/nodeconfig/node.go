// Package nodeconfig is the model of one host's Kubernetes components:
// kube-apiserver, kube-controller-manager, kube-scheduler, etcd, the
// kubelet and kube-proxy, as read from running processes, static pod
// manifests and the configuration files they reference, with the owner and
// mode of the files the CIS Kubernetes Benchmark names. The model is plain
// data (it round-trips through JSON for `kubeharden node collect`) and holds
// no secret: encryption keys are reduced to their length and validity.
package nodeconfig

import (
	"slices"
	"strconv"
	"strings"
)

// SchemaVersion identifies the JSON form of a Node.
const SchemaVersion = "kubeharden.io/node-facts/v1"

// Kind is a component type.
type Kind string

// The components kubeharden knows.
const (
	APIServer         Kind = "kube-apiserver"
	ControllerManager Kind = "kube-controller-manager"
	Scheduler         Kind = "kube-scheduler"
	Etcd              Kind = "etcd"
	Kubelet           Kind = "kubelet"
	Proxy             Kind = "kube-proxy"
)

// Kinds lists every component type in a stable order.
var Kinds = []Kind{APIServer, ControllerManager, Scheduler, Etcd, Kubelet, Proxy}

// ParseKind maps a binary or container name to a component type.
func ParseKind(name string) (Kind, bool) {
	name = name[strings.LastIndexByte(name, '/')+1:]
	for _, k := range Kinds {
		if name == string(k) {
			return k, true
		}
	}
	return "", false
}

// Node is what is known about one host.
type Node struct {
	SchemaVersion string `json:"schemaVersion"`
	// Hostname is the host's name, when collected on a host.
	Hostname string `json:"hostname,omitempty"`
	// Root is the directory every path was read under ("/" on a host).
	Root string `json:"root,omitempty"`
	// Components found, at most one of each kind on a host (a running
	// process is preferred to its static pod manifest; when the process
	// runs the manifest's flags it is reported as that Pod, at the flags'
	// lines).
	Components []*Component `json:"components"`
	// Files are the files the benchmark names that were looked at, by the
	// path on the node (not rebased on Root).
	Files []*File `json:"files,omitempty"`
	// Problems are files that could not be read or parsed.
	Problems []Problem `json:"problems,omitempty"`
	// Notes are what a reader should know about how the facts were
	// gathered (several processes of one component, say).
	Notes []string `json:"notes,omitempty"`
}

// Problem is a fact that could not be established.
type Problem struct {
	Source  string `json:"source"`
	Message string `json:"message"`
}

// Ref names the object a component's findings are about: the static Pod,
// or for a process, a Process object named after the component.
type Ref struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// Position is a file and 1-based line (0 when unknown).
type Position struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Component is one component's configuration.
type Component struct {
	Kind Kind `json:"kind"`
	Ref  Ref  `json:"ref"`
	// Source is where the configuration was read: the manifest, or
	// /proc/PID/cmdline.
	Source Position `json:"source"`
	// PID is the process ID when read from a running process.
	PID int `json:"pid,omitempty"`
	// UID is the user the process runs as (-1 when unknown).
	UID int `json:"uid"`
	// Args are the command-line arguments after the binary name.
	Args []Arg `json:"args"`
	// PodLoopback is set for a component in a pod without host
	// networking: its loopback addresses are reachable from that pod only.
	PodLoopback bool `json:"podLoopback,omitempty"`
	// ArgsPath is the field path of the argument list in a manifest
	// ("spec.containers[0].command"), where a missing flag belongs.
	ArgsPath string `json:"argsPath,omitempty"`
	// Files referenced by the configuration and read for it.
	KubeletConfig *ConfigFile       `json:"kubeletConfig,omitempty"`
	ProxyConfig   *ConfigFile       `json:"proxyConfig,omitempty"`
	Encryption    *EncryptionConfig `json:"encryption,omitempty"`
	AuditPolicy   *TextFile         `json:"auditPolicy,omitempty"`
	// AuthenticationConfig and AuthorizationConfig are the structured
	// authentication and authorization files of the API server.
	AuthenticationConfig *TextFile `json:"authenticationConfig,omitempty"`
	AuthorizationConfig  *TextFile `json:"authorizationConfig,omitempty"`
}

// Arg is one command-line argument. Flags are "--name=value", "--name
// value" or a bare boolean "--name"; anything else is positional.
type Arg struct {
	// Name is the flag name without dashes; "" for a positional argument.
	Name  string `json:"name,omitempty"`
	Value string `json:"value"`
	// Path is the field path of the argument inside its object
	// ("spec.containers[0].command[3]"), or its index in the process's
	// argument list ("args[3]").
	Path string `json:"path,omitempty"`
	// Line is where the argument is written, when known.
	Line int `json:"line,omitempty"`
}

// Flag is a flag's effective value: the last occurrence wins, as with the
// components' flag parser.
type Flag struct {
	Set   bool
	Value string
	// Path and Line locate the occurrence that won.
	Path string
	Line int
}

// Flag returns the effective value of --name.
func (c *Component) Flag(name string) Flag {
	for i := len(c.Args) - 1; i >= 0; i-- {
		if a := c.Args[i]; a.Name == name {
			return Flag{Set: true, Value: a.Value, Path: a.Path, Line: a.Line}
		}
	}
	return Flag{}
}

// List returns a comma-separated flag's elements, trimmed, empty ones
// dropped.
func (f Flag) List() []string {
	var out []string
	for _, v := range strings.Split(f.Value, ",") {
		if v = strings.TrimSpace(v); v != "" {
			out = append(out, v)
		}
	}
	return out
}

// FeatureGate returns the value of gate in --feature-gates (A=true,B=false).
func (c *Component) FeatureGate(gate string) (enabled, set bool) {
	for _, kv := range c.Flag("feature-gates").List() {
		name, value, _ := strings.Cut(kv, "=")
		if strings.TrimSpace(name) == gate {
			enabled, set = SameValue(value, "true"), true
		}
	}
	return enabled, set
}

// Component returns the component of kind k, or nil.
func (n *Node) Component(k Kind) *Component {
	for _, c := range n.Components {
		if c.Kind == k {
			return c
		}
	}
	return nil
}

// File returns the fact about path, or nil when it was not looked at.
func (n *Node) File(path string) *File {
	for _, f := range n.Files {
		if f.Path == path {
			return f
		}
	}
	return nil
}

// FilesWithRole returns the files collected for role, sorted by path.
func (n *Node) FilesWithRole(role FileRole) []*File {
	var out []*File
	for _, f := range n.Files {
		if slices.Contains(f.Roles, role) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, func(a, b *File) int { return strings.Compare(a.Path, b.Path) })
	return out
}

// ControlPlaneVisible reports whether any control-plane component was
// found. Where none is (a managed cluster's worker, a laptop), the
// control-plane checks are not applicable.
func (n *Node) ControlPlaneVisible() bool {
	for _, c := range n.Components {
		switch c.Kind {
		case APIServer, ControllerManager, Scheduler, Etcd:
			return true
		}
	}
	return false
}

// defaultAdmissionPlugins are the kube-apiserver's default-on admission
// plugins (k8s.io/kubernetes v1.37 pkg/kubeapiserver/options
// DefaultOffAdmissionPlugins).
var defaultAdmissionPlugins = []string{
	"NamespaceLifecycle", "LimitRanger", "ServiceAccount", "DefaultStorageClass", "PersistentVolumeClaimResize",
	"DefaultTolerationSeconds", "MutatingAdmissionWebhook", "ValidatingAdmissionWebhook", "ResourceQuota",
	"StorageObjectInUseProtection", "PodGroupProtection", "Priority", "TaintNodesByCondition", "RuntimeClass",
	"CertificateApproval", "CertificateSigning", "ClusterTrustBundleAttest", "CertificateSubjectRestriction",
	"DefaultIngressClass", "PodSecurity", "PodTopologyLabels", "MutatingAdmissionPolicy", "ValidatingAdmissionPolicy",
	"NodeDeclaredFeatureValidator", "PodResizeValidator",
}

// AdmissionPlugin reports whether an API server runs the admission plugin
// name: enabled explicitly, or on by default and not disabled. why
// explains the answer for messages.
func (c *Component) AdmissionPlugin(name string) (on bool, why Flag) {
	enabled, disabled := c.Flag("enable-admission-plugins"), c.Flag("disable-admission-plugins")
	switch {
	case slices.Contains(disabled.List(), name):
		return false, disabled
	case slices.Contains(enabled.List(), name):
		return true, enabled
	case slices.Contains(defaultAdmissionPlugins, name):
		return true, Flag{}
	}
	return false, enabled
}

// SameValue compares a setting's value with want as the components' flag
// parser does: booleans by meaning ("1", "t", "True" are true; "0", "f"
// false), anything else case-insensitively.
func SameValue(value, want string) bool {
	value = strings.TrimSpace(value)
	v, err1 := strconv.ParseBool(value)
	w, err2 := strconv.ParseBool(want)
	if err1 == nil && err2 == nil {
		return v == w
	}
	return strings.EqualFold(value, want)
}

package nodeconfig

import (
	"fmt"
	"strings"

	"github.com/kubeharden/kubeharden/internal/source"
)

// FromWorkload returns the component a Pod (a static pod, a mirror pod)
// or a DaemonSet, Deployment or StatefulSet (kube-proxy, a hosted control
// plane) runs, read from its container's command and args, or nil when it
// runs none of the known components. The container is the one named after
// the component, or whose command starts with a component's binary
// (kubeadm writes both).
func FromWorkload(obj *source.Object) *Component {
	var spec map[string]any
	specPath := "spec"
	switch {
	case obj.Kind() == "Pod" && obj.Group() == "":
		spec, _ = obj.Field("spec").(map[string]any)
	case obj.Group() == "apps" && (obj.Kind() == "DaemonSet" || obj.Kind() == "Deployment" || obj.Kind() == "StatefulSet"):
		outer, _ := obj.Field("spec").(map[string]any)
		template, _ := outer["template"].(map[string]any)
		spec, _ = template["spec"].(map[string]any)
		specPath = "spec.template.spec"
	default:
		return nil
	}
	containers, _ := spec["containers"].([]any)
	for i, raw := range containers {
		c, _ := raw.(map[string]any)
		command := strings_(c["command"])
		args := strings_(c["args"])
		if len(command) == 0 && len(args) == 0 {
			continue // the image's own entrypoint: its flags are not knowable here
		}
		var kind Kind
		var ok bool
		if len(command) > 0 {
			kind, ok = ParseKind(command[0])
		}
		if !ok {
			name, _ := c["name"].(string)
			if kind, ok = ParseKind(name); !ok {
				continue
			}
		}
		prefix := fmt.Sprintf("%s.containers[%d]", specPath, i)
		// The binary is command[0]; flags may be in the rest of command
		// and in args.
		var argv []string
		var paths []string
		for j, a := range command {
			if j == 0 && !strings.HasPrefix(a, "-") {
				continue
			}
			argv = append(argv, a)
			paths = append(paths, fmt.Sprintf("%s.command[%d]", prefix, j))
		}
		for j, a := range args {
			argv = append(argv, a)
			paths = append(paths, fmt.Sprintf("%s.args[%d]", prefix, j))
		}
		argsPath := prefix + ".command"
		if len(command) == 0 {
			argsPath = prefix + ".args"
		}
		hostNetwork, _ := spec["hostNetwork"].(bool)
		return &Component{
			PodLoopback: !hostNetwork,
			Kind:        kind,
			ArgsPath:    argsPath,
			Ref:         Ref{APIVersion: obj.APIVersion(), Kind: obj.Kind(), Namespace: obj.Namespace(), Name: obj.Name()},
			Source:      Position{File: obj.Source.File, Line: obj.Source.Line},
			UID:         -1,
			Args:        ParseArgs(argv, func(i int) string { return paths[i] }),
		}
	}
	return nil
}

// strings_ returns a list of strings from a decoded YAML sequence; other
// elements are dropped.
func strings_(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, e := range list {
		if s, ok := e.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

// FromObjects builds the node model of a scan: the components that
// workloads among objs run (static pod manifests, the mirror pods of a
// live cluster, kube-proxy's DaemonSet) and KubeletConfiguration and
// KubeProxyConfiguration files. Several components of a kind
// may appear (manifests of several clusters); checks judge each. It
// returns nil when objs hold none.
func FromObjects(objs []*source.Object) *Node {
	var n *Node
	add := func(c *Component) {
		if n == nil {
			n = &Node{SchemaVersion: SchemaVersion}
		}
		n.Components = append(n.Components, c)
	}
	for _, obj := range objs {
		switch {
		case obj.Kind() == "Pod" || obj.Group() == "apps":
			if c := FromWorkload(obj); c != nil {
				add(c)
			}
		case obj.Kind() == "KubeProxyConfiguration" && obj.Group() == "kubeproxy.config.k8s.io":
			add(&Component{
				Kind:        Proxy,
				Ref:         Ref{APIVersion: obj.APIVersion(), Kind: obj.Kind(), Name: obj.Name()},
				Source:      Position{File: obj.Source.File, Line: obj.Source.Line},
				UID:         -1,
				ProxyConfig: &ConfigFile{Config: obj.Body()},
			})
		case obj.Kind() == "KubeletConfiguration" && obj.Group() == "kubelet.config.k8s.io":
			add(&Component{
				Kind:   Kubelet,
				Ref:    Ref{APIVersion: obj.APIVersion(), Kind: obj.Kind(), Name: obj.Name()},
				Source: Position{File: obj.Source.File, Line: obj.Source.Line},
				UID:    -1,
				// The object is the file: settings are named by field alone.
				KubeletConfig: &ConfigFile{Config: obj.Body()},
			})
		}
	}
	return n
}

package network

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/netpol"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Service mesh checks. Each reads the mesh's own objects or annotations, so
// it is silent where no mesh is in use.

func meshChecks() []*check.Check {
	return []*check.Check{istioMTLSNotStrict(), istioDestinationRuleTLSDisabled(), meshWorkloadOptedOut(), istioWorkloadPermissive(), meshNamespaceNotMeshed()}
}

// str walks nested maps of a decoded object.
func str(m map[string]any, path ...string) string {
	var cur any = m
	for _, p := range path {
		mm, ok := cur.(map[string]any)
		if !ok {
			return ""
		}
		cur = mm[p]
	}
	s, _ := cur.(string)
	return s
}

func istioMTLSNotStrict() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "istio-mtls-not-strict", Title: "Istio PeerAuthentication accepts plain-text traffic", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{"Encrypt traffic between pods"}, MITRE: []string{"T1557"}},
			Description: "A PeerAuthentication in PERMISSIVE mode accepts both mutual-TLS and plain-text connections, and DISABLE turns mutual TLS off: the workloads it selects can be reached (and impersonated) without the mesh's identities. Port-level settings are checked too.",
			Remediation: "Set spec.mtls.mode: STRICT (mesh-wide in the root namespace, then per namespace); keep PERMISSIVE only for the duration of a migration.",
		},
		Kinds: []string{"PeerAuthentication"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			if o.Group() != "security.istio.io" {
				return nil
			}
			spec, _ := o.Field("spec").(map[string]any)
			var out []check.Result
			judge := func(mode, path, where string) {
				switch strings.ToUpper(mode) {
				case "DISABLE":
					out = append(out, check.Result{Path: path, Severity: check.High, Message: fmt.Sprintf("mutual TLS is disabled%s (mode DISABLE)", where)})
				case "PERMISSIVE":
					out = append(out, check.Result{Path: path, Message: fmt.Sprintf("plain-text connections are accepted%s (mode PERMISSIVE)", where)})
				}
			}
			judge(str(spec, "mtls", "mode"), "spec.mtls.mode", "")
			if ports, ok := spec["portLevelMtls"].(map[string]any); ok {
				for port, v := range ports {
					if pm, ok := v.(map[string]any); ok {
						judge(str(pm, "mode"), "spec.portLevelMtls."+port+".mode", " on port "+port)
					}
				}
			}
			return out
		},
	}
}

func istioDestinationRuleTLSDisabled() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "istio-destination-rule-tls-disabled", Title: "Istio DestinationRule sends plain text", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{"Encrypt traffic between pods"}, MITRE: []string{"T1557"}},
			Description: "A DestinationRule whose traffic policy sets tls.mode: DISABLE makes clients send plain text to the host, even inside a mesh with mutual TLS (and fails against STRICT servers). Subset and port-level policies are checked too.",
			Remediation: "Use tls.mode: ISTIO_MUTUAL (or remove the tls block to get automatic mutual TLS); SIMPLE or MUTUAL for hosts outside the mesh.",
		},
		Kinds: []string{"DestinationRule"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			if o.Group() != "networking.istio.io" {
				return nil
			}
			spec, _ := o.Field("spec").(map[string]any)
			host := str(spec, "host")
			var out []check.Result
			policy := func(tp map[string]any, path string) {
				if strings.EqualFold(str(tp, "tls", "mode"), "DISABLE") {
					out = append(out, check.Result{Path: path + ".tls.mode", Message: fmt.Sprintf("traffic to %s is sent without TLS (tls.mode DISABLE)", host)})
				}
				ports, _ := tp["portLevelSettings"].([]any)
				for i, p := range ports {
					pm, _ := p.(map[string]any)
					if strings.EqualFold(str(pm, "tls", "mode"), "DISABLE") {
						out = append(out, check.Result{Path: fmt.Sprintf("%s.portLevelSettings[%d].tls.mode", path, i), Message: fmt.Sprintf("traffic to %s is sent without TLS on a port (tls.mode DISABLE)", host)})
					}
				}
			}
			if tp, ok := spec["trafficPolicy"].(map[string]any); ok {
				policy(tp, "spec.trafficPolicy")
			}
			subsets, _ := spec["subsets"].([]any)
			for i, s := range subsets {
				sm, _ := s.(map[string]any)
				if tp, ok := sm["trafficPolicy"].(map[string]any); ok {
					policy(tp, fmt.Sprintf("spec.subsets[%d].trafficPolicy", i))
				}
			}
			return out
		},
	}
}

// meshWorkloadOptedOut: a workload whose namespace has sidecar injection
// on, but whose pod template turns it off, runs outside the mesh: no
// mutual TLS, no mesh authorization policies.
func meshWorkloadOptedOut() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "mesh-workload-not-meshed", Title: "Workload opts out of its namespace's service mesh", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{"Encrypt traffic between pods"}},
			Description: "The namespace has Istio (istio-injection: enabled or istio.io/rev) or Linkerd (linkerd.io/inject: enabled) injection on, but this workload's pod template turns the proxy off (sidecar.istio.io/inject: \"false\", linkerd.io/inject: disabled): its traffic is plain text and the mesh's authorization policies do not apply to it. Needs the Namespace objects; silent where no mesh is configured.",
			Remediation: "Remove the opt-out from the pod template, or move the workload to a namespace outside the mesh and isolate it with NetworkPolicies.",
		},
		Pod: func(env *check.Env, pod *inventory.Pod) []check.Result {
			ns := pod.Object.Namespace()
			if ns == "" {
				return nil
			}
			nsObj := namespaceObject(env, ns)
			if nsObj == nil {
				return nil
			}
			nsLabels := source.StringMap(nsObj.MetadataField("labels"))
			nsAnn := source.StringMap(nsObj.MetadataField("annotations"))
			var out []check.Result
			istioOn := nsLabels["istio-injection"] == "enabled" || (nsLabels["istio.io/rev"] != "" && nsLabels["istio-injection"] != "disabled")
			if istioOn && (pod.Meta.Labels["sidecar.istio.io/inject"] == "false" || pod.Meta.Annotations["sidecar.istio.io/inject"] == "false") {
				out = append(out, check.Result{Path: pod.MetaPath + ".labels", Message: fmt.Sprintf("namespace %s injects the Istio sidecar, but this workload sets sidecar.istio.io/inject: \"false\"", ns)})
			}
			if nsAnn["linkerd.io/inject"] == "enabled" && pod.Meta.Annotations["linkerd.io/inject"] == "disabled" {
				out = append(out, check.Result{Path: pod.MetaPath + ".annotations", Message: fmt.Sprintf("namespace %s injects the Linkerd proxy, but this workload sets linkerd.io/inject: disabled", ns)})
			}
			return out
		},
	}
}

type namespacesKey struct{}

// namespaceObjects are the input's Namespace objects by name.
func namespaceObjects(env *check.Env) map[string]*source.Object {
	return env.Memo(namespacesKey{}, func() any {
		m := map[string]*source.Object{}
		for _, o := range env.Inventory.Objects() {
			if o.Kind() == "Namespace" && o.Group() == "" {
				m[o.Name()] = o
			}
		}
		return m
	}).(map[string]*source.Object)
}

// namespaceObject returns the Namespace object named ns, or nil.
func namespaceObject(env *check.Env, ns string) *source.Object { return namespaceObjects(env)[ns] }

type peerAuthKey struct{}

// peerAuth is a PeerAuthentication reduced to what decides a workload's
// mutual-TLS mode.
type peerAuth struct {
	namespace string
	selector  map[string]string // nil: namespace- or mesh-wide
	mode      string            // STRICT, PERMISSIVE, DISABLE or "" (UNSET: inherit)
}

func peerAuths(env *check.Env) []peerAuth {
	return env.Memo(peerAuthKey{}, func() any {
		var out []peerAuth
		for _, o := range env.Inventory.Objects() {
			if o.Kind() != "PeerAuthentication" || o.Group() != "security.istio.io" {
				continue
			}
			spec, _ := o.Field("spec").(map[string]any)
			pa := peerAuth{namespace: namespaceOrDefault(o), mode: strings.ToUpper(str(spec, "mtls", "mode"))}
			if pa.mode == "UNSET" {
				pa.mode = ""
			}
			if sel, ok := spec["selector"].(map[string]any); ok {
				pa.selector = source.StringMap(sel["matchLabels"])
				if pa.selector == nil {
					pa.selector = map[string]string{}
				}
			}
			out = append(out, pa)
		}
		return out
	}).([]peerAuth)
}

// istioRootNamespace is where mesh-wide PeerAuthentications live (Istio's
// default meshConfig.rootNamespace).
const istioRootNamespace = "istio-system"

// effectiveMTLS is the mode Istio applies to a workload: a
// PeerAuthentication selecting its labels, else its namespace's, else the
// mesh-wide one, a level that leaves the mode unset deferring to the next;
// PERMISSIVE when none decides. where names the deciding level.
func effectiveMTLS(pas []peerAuth, ns string, podLabels map[string]string) (mode, where string) {
	levels := []struct {
		match func(peerAuth) bool
		name  string
	}{
		{func(p peerAuth) bool {
			if p.namespace != ns || p.selector == nil || len(p.selector) == 0 {
				return false
			}
			for k, v := range p.selector {
				if podLabels[k] != v {
					return false
				}
			}
			return true
		}, "a workload PeerAuthentication in " + ns},
		{func(p peerAuth) bool { return p.namespace == ns && len(p.selector) == 0 }, "the PeerAuthentication of namespace " + ns},
		{func(p peerAuth) bool { return p.namespace == istioRootNamespace && len(p.selector) == 0 }, "the mesh-wide PeerAuthentication"},
	}
	for _, l := range levels {
		for _, p := range pas {
			if l.match(p) && p.mode != "" {
				return p.mode, l.name
			}
		}
	}
	return "PERMISSIVE", "Istio's default (no PeerAuthentication sets a mode)"
}

// istioWorkloadPermissive reports injected workloads whose effective
// mutual-TLS mode is not STRICT, explicit settings included (those are
// also reported on the PeerAuthentication itself).
func istioWorkloadPermissive() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "istio-workload-mtls-permissive", Title: "Meshed workload accepts plain text", Severity: check.Low, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{"Encrypt traffic between pods"}, MITRE: []string{"T1557"}},
			Description: "The workload runs with the Istio sidecar (its namespace injects it), but no PeerAuthentication makes its mutual TLS STRICT — at workload, namespace or mesh level (istio-system) — so it also accepts plain-text connections from anything that reaches it, Istio's default. Needs the Namespace and PeerAuthentication objects; silent where Istio injection is not configured.",
			Remediation: "Apply a mesh-wide PeerAuthentication in istio-system with spec.mtls.mode: STRICT (after confirming every client is meshed).",
			CrossObject: true,
		},
		Pod: func(env *check.Env, pod *inventory.Pod) []check.Result {
			ns := pod.Object.Namespace()
			nsObj := namespaceObject(env, ns)
			if ns == "" || nsObj == nil {
				return nil
			}
			nsLabels := source.StringMap(nsObj.MetadataField("labels"))
			injected := nsLabels["istio-injection"] == "enabled" || (nsLabels["istio.io/rev"] != "" && nsLabels["istio-injection"] != "disabled")
			if !injected || pod.Meta.Labels["sidecar.istio.io/inject"] == "false" || pod.Meta.Annotations["sidecar.istio.io/inject"] == "false" {
				return nil // not meshed: mesh-workload-not-meshed says so when it opted out
			}
			mode, where := effectiveMTLS(peerAuths(env), ns, pod.Meta.Labels)
			if mode == "STRICT" {
				return nil
			}
			return []check.Result{{Path: pod.MetaPath + ".labels", Message: fmt.Sprintf("mutual TLS is %s for this workload, from %s", mode, where)}}
		},
	}
}

// meshNamespaceNotMeshed reports namespaces with workloads and no sidecar
// injection while the input's other namespaces inject Istio or Linkerd:
// their traffic stays outside the mesh's encryption and policies.
func meshNamespaceNotMeshed() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "mesh-namespace-not-meshed", Title: "Namespace left out of the service mesh", Severity: check.Low, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{"Encrypt traffic between pods"}},
			Description: "Other namespaces inject the Istio or Linkerd proxy, but this one runs workloads without it: their traffic is plain text and outside the mesh's policies. System namespaces (kube-*, istio-*, linkerd*) and namespaces that opt out explicitly (istio-injection: disabled, linkerd.io/inject: disabled) are not reported. Needs the Namespace objects; silent where no namespace injects a mesh.",
			Remediation: "Label the namespace istio-injection: enabled (or istio.io/rev), or annotate it linkerd.io/inject: enabled, and restart its workloads; or opt out explicitly if it must stay outside the mesh.",
			CrossObject: true,
		},
		Kinds:  []string{"Namespace"},
		Models: []*check.Model{netpolModel},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			if o.Group() != "" {
				return nil
			}
			name := o.Name()
			if strings.HasPrefix(name, "kube-") || strings.HasPrefix(name, "istio-") || strings.HasPrefix(name, "linkerd") {
				return nil
			}
			meshes := meshedNamespaces(env)
			if len(meshes.istio)+len(meshes.linkerd) == 0 {
				return nil
			}
			lbl := source.StringMap(o.MetadataField("labels"))
			ann := source.StringMap(o.MetadataField("annotations"))
			if slices.Contains(meshes.istio, name) || slices.Contains(meshes.linkerd, name) ||
				lbl["istio-injection"] == "disabled" || ann["linkerd.io/inject"] == "disabled" || !hasWorkloads(env, name) {
				return nil
			}
			var out []check.Result
			if len(meshes.istio) > 0 {
				out = append(out, check.Result{Path: "metadata.labels", Message: fmt.Sprintf("namespace %s runs workloads without the Istio sidecar, which %s inject", name, strings.Join(meshes.istio, ", "))})
			}
			if len(meshes.linkerd) > 0 {
				out = append(out, check.Result{Path: "metadata.annotations", Message: fmt.Sprintf("namespace %s runs workloads without the Linkerd proxy, which %s inject", name, strings.Join(meshes.linkerd, ", "))})
			}
			return out
		},
	}
}

type meshedKey struct{}

type meshed struct{ istio, linkerd []string }

// meshedNamespaces are the input's namespaces that inject Istio and
// Linkerd, sorted.
func meshedNamespaces(env *check.Env) meshed {
	return env.Memo(meshedKey{}, func() any {
		var m meshed
		for _, o := range namespaceObjects(env) {
			lbl := source.StringMap(o.MetadataField("labels"))
			if lbl["istio-injection"] == "enabled" || (lbl["istio.io/rev"] != "" && lbl["istio-injection"] != "disabled") {
				m.istio = append(m.istio, o.Name())
			}
			if source.StringMap(o.MetadataField("annotations"))["linkerd.io/inject"] == "enabled" {
				m.linkerd = append(m.linkerd, o.Name())
			}
		}
		slices.Sort(m.istio)
		slices.Sort(m.linkerd)
		return m
	}).(meshed)
}

type workloadNSKey struct{}

// workloadsByNamespace groups the model's workloads by namespace.
func workloadsByNamespace(env *check.Env) map[string][]*netpol.Workload {
	return env.Memo(workloadNSKey{}, func() any {
		out := map[string][]*netpol.Workload{}
		for _, w := range modelOf(env).Workloads {
			out[w.Namespace] = append(out[w.Namespace], w)
		}
		return out
	}).(map[string][]*netpol.Workload)
}

// hasWorkloads reports whether namespace ns has a workload in the input.
func hasWorkloads(env *check.Env, ns string) bool { return len(workloadsByNamespace(env)[ns]) > 0 }

package netpol

import (
	"cmp"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// IngressController is the endpoint name of the cluster's ingress
// controller, as netpol-analyzer writes it: its pods are not in the input.
const IngressController = "{ingress-controller}"

// ingressControllerPods stand for the ingress controllers whose namespaces
// policies commonly name: ingress-nginx and OpenShift's router. Their pod
// labels are unknown, so they carry none.
func ingressControllerPods() []*Workload {
	return []*Workload{
		{Namespace: "ingress-nginx", Name: "ingress-controller", Kind: "Pod", Labels: labels.Set{},
			nsLabels: labels.Set{corev1.LabelMetadataName: "ingress-nginx"}},
		{Namespace: "openshift-ingress-operator", Name: "ingress-controller", Kind: "Pod", Labels: labels.Set{},
			nsLabels: labels.Set{corev1.LabelMetadataName: "openshift-ingress-operator", "namespace.name": "openshift-ingress-operator", "openshift.io/cluster-monitoring": "true"}},
	}
}

// backend is a Service port an Ingress or Route sends traffic to: by
// number or name (Ingress), or by target port (Route).
type backend struct {
	namespace, service string
	port               *intstr.IntOrString // the Service port; nil: all
	targetPort         *intstr.IntOrString // a Route's pod port
}

// IngressConnection is what the ingress controller may open to a workload.
type IngressConnection struct {
	Dst   *Workload
	Conns Conns
}

// IngressControllerConnections lists, for every workload behind an
// Ingress (networking.k8s.io) or an OpenShift Route, the ports the ingress
// controller reaches: the backends' target ports on the workload's
// containers, within what the workload's ingress policies admit from a
// pod in the ingress-nginx or OpenShift router namespace.
func (m *Model) IngressControllerConnections() []IngressConnection {
	services := map[string]*corev1.Service{}
	var backends []backend
	for _, o := range m.routing {
		switch {
		case o.Kind() == "Service" && o.Group() == "":
			var s corev1.Service
			if typed.FromFields(o.Field, &s) == nil {
				services[namespaceOf(o)+"/"+o.Name()] = &s
			}
		case o.Kind() == "Ingress" && (o.Group() == "networking.k8s.io" || o.Group() == "extensions"),
			o.Kind() == "Route" && o.Group() == "route.openshift.io":
			b, _ := backendsOf(o)
			backends = append(backends, b...)
		}
	}
	controllers := ingressControllerPods()
	reached := map[*Workload]Conns{}
	for _, b := range backends {
		svc := services[b.namespace+"/"+b.service]
		if svc == nil || len(svc.Spec.Selector) == 0 {
			continue
		}
		sel := labels.SelectorFromSet(svc.Spec.Selector)
		for _, w := range m.Workloads {
			if w.Namespace != b.namespace || !sel.Matches(w.Labels) {
				continue
			}
			ports := backendPorts(svc, b, w)
			var admitted Conns
			for _, c := range controllers {
				admitted = admitted.Union(m.Ingress(c, w))
			}
			if c := ports.Intersect(admitted); !c.IsEmpty() {
				reached[w] = reached[w].Union(c)
			}
		}
	}
	out := make([]IngressConnection, 0, len(reached))
	for w, c := range reached {
		out = append(out, IngressConnection{w, c})
	}
	slices.SortFunc(out, func(a, b IngressConnection) int { return cmp.Compare(a.Dst.String(), b.Dst.String()) })
	return out
}

// backendPorts are the container ports of w a backend reaches through svc.
func backendPorts(svc *corev1.Service, b backend, w *Workload) Conns {
	var out Conns
	for _, sp := range svc.Spec.Ports {
		target := sp.TargetPort
		if target.Type == intstr.Int && target.IntVal == 0 || target.Type == intstr.String && target.StrVal == "" {
			target = intstr.FromInt32(sp.Port)
		}
		switch {
		case b.port != nil && b.port.Type == intstr.Int && b.port.IntVal != sp.Port,
			b.port != nil && b.port.Type == intstr.String && b.port.StrVal != sp.Name:
			continue
		case b.targetPort != nil && b.targetPort.Type == intstr.Int && !(target.Type == intstr.Int && target.IntVal == b.targetPort.IntVal),
			b.targetPort != nil && b.targetPort.Type == intstr.String && b.targetPort.StrVal != sp.Name && !(target.Type == intstr.String && target.StrVal == b.targetPort.StrVal):
			continue
		}
		proto := cmp.Or(sp.Protocol, corev1.ProtocolTCP)
		if target.Type == intstr.Int {
			out = out.Union(PortConns(proto, target.IntVal, target.IntVal))
			continue
		}
		for _, cp := range w.Ports {
			if cp.Name == target.StrVal && cmp.Or(cp.Protocol, corev1.ProtocolTCP) == proto {
				out = out.Union(PortConns(proto, cp.ContainerPort, cp.ContainerPort))
			}
		}
	}
	return out
}

// ingressBackends reads an Ingress's backends: networking.k8s.io/v1
// service backends (port by number or name) and the older
// serviceName/servicePort, in defaultBackend (or backend) and in the
// rules' paths.
func ingressBackends(o *source.Object) []backend {
	ns := namespaceOf(o)
	var out []backend
	add := func(b map[string]any) {
		name, port := "", any(nil)
		if svc, ok := b["service"].(map[string]any); ok {
			name, _ = svc["name"].(string)
			if p, ok := svc["port"].(map[string]any); ok {
				if port = p["number"]; port == nil {
					port = p["name"]
				}
			}
		} else {
			name, _ = b["serviceName"].(string)
			port = b["servicePort"]
		}
		if name == "" {
			return
		}
		out = append(out, backend{namespace: ns, service: name, port: intOrString(port)})
	}
	spec, _ := o.Field("spec").(map[string]any)
	for _, key := range []string{"defaultBackend", "backend"} {
		if d, ok := spec[key].(map[string]any); ok {
			add(d)
		}
	}
	rules, _ := spec["rules"].([]any)
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		http, _ := rm["http"].(map[string]any)
		paths, _ := http["paths"].([]any)
		for _, p := range paths {
			pm, _ := p.(map[string]any)
			if b, ok := pm["backend"].(map[string]any); ok {
				add(b)
			}
		}
	}
	return out
}

// intOrString reads a decoded port: a number or a name; nil otherwise.
func intOrString(v any) *intstr.IntOrString {
	var out intstr.IntOrString
	switch t := v.(type) {
	case string:
		out = intstr.FromString(t)
	case float64:
		out = intstr.FromInt32(int32(t))
	case int64:
		out = intstr.FromInt32(int32(t))
	case int:
		out = intstr.FromInt32(int32(t))
	default:
		return nil
	}
	return &out
}

func routeBackends(o *source.Object) []backend {
	ns := namespaceOf(o)
	spec, _ := o.Field("spec").(map[string]any)
	var target *intstr.IntOrString
	if port, ok := spec["port"].(map[string]any); ok {
		target = intOrString(port["targetPort"])
	}
	var out []backend
	add := func(v any) {
		ref, _ := v.(map[string]any)
		if kind, _ := ref["kind"].(string); kind != "" && kind != "Service" {
			return
		}
		if name, _ := ref["name"].(string); name != "" {
			out = append(out, backend{namespace: ns, service: name, targetPort: target})
		}
	}
	add(spec["to"])
	alternates, _ := spec["alternateBackends"].([]any)
	for _, a := range alternates {
		add(a)
	}
	return out
}

// gatewayRouteBackends reads a Gateway API route's backendRefs of kind
// Service, in its rules.
func gatewayRouteBackends(o *source.Object) []backend {
	ns := namespaceOf(o)
	spec, _ := o.Field("spec").(map[string]any)
	rules, _ := spec["rules"].([]any)
	var out []backend
	for _, r := range rules {
		rm, _ := r.(map[string]any)
		refs, _ := rm["backendRefs"].([]any)
		for _, ref := range refs {
			m, _ := ref.(map[string]any)
			if kind, _ := m["kind"].(string); kind != "" && kind != "Service" {
				continue
			}
			if name, _ := m["name"].(string); name != "" {
				out = append(out, backend{namespace: ns, service: name, port: intOrString(m["port"])})
			}
		}
	}
	return out
}

// backendsOf returns the Service backends of an Ingress, an OpenShift
// Route or a Gateway API route, and whether o is one of those.
func backendsOf(o *source.Object) ([]backend, bool) {
	switch {
	case o.Kind() == "Ingress" && (o.Group() == "networking.k8s.io" || o.Group() == "extensions"):
		return ingressBackends(o), true
	case o.Kind() == "Route" && o.Group() == "route.openshift.io":
		return routeBackends(o), true
	case strings.HasSuffix(o.Kind(), "Route") && o.Group() == "gateway.networking.k8s.io":
		return gatewayRouteBackends(o), true
	}
	return nil, false
}

// RoutedServices are the Services (in o's namespace) an Ingress, an
// OpenShift Route or a Gateway API route sends traffic to, sorted.
func RoutedServices(o *source.Object) []string {
	backends, _ := backendsOf(o)
	var out []string
	for _, b := range backends {
		out = append(out, b.service)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

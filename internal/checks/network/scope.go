package network

import (
	"fmt"
	"net/netip"
	"slices"
	"strings"

	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/netpol"
	"github.com/kubeharden/kubeharden/internal/source"
)

func scopeChecks() []*check.Check {
	return []*check.Check{peerMatchesNothing(), internetIngressToPrivate(), hostNetworkBypass(), routeExposesUnisolated()}
}

func peerMatchesNothing() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "networkpolicy-peer-matches-nothing", Title: "NetworkPolicy rule names peers that do not exist", Severity: check.Low, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{nsaNetwork}},
			Description: "A from/to peer whose podSelector matches no workload (or whose namespaceSelector matches no namespace) allows nothing today: usually a typo in a label, and a rule that starts allowing traffic the day something gets those labels. Reported on live clusters and snapshots only, where every workload and namespace is known.",
			Remediation: "Fix the labels the peer selects, or remove the peer.",
			CrossObject: true, LiveClusterOnly: true,
		},
		Kinds:  []string{"NetworkPolicy"},
		Models: []*check.Model{netpolModel},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			if env.Cluster == nil {
				return nil
			}
			var out []check.Result
			for _, d := range modelOf(env).DanglingPeers(o) {
				out = append(out, check.Result{Path: d.Path, Message: "this peer selects nothing: " + d.Why})
			}
			return out
		},
	}
}

// coversInternet reports whether an ipBlock admits every public address:
// a /0 without an except that removes public space.
func coversInternet(cidr string, except []string) bool {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || p.Bits() != 0 {
		return false
	}
	for _, e := range except {
		ep, err := netip.ParsePrefix(e)
		if err != nil || !(ep.Addr().IsPrivate() || ep.Addr().IsLoopback() || ep.Addr().IsLinkLocalUnicast()) {
			return false // carves out public space: someone chose which addresses may come in
		}
	}
	return true
}

type exposedKey struct{}

// exposedWorkloads are the workloads some LoadBalancer or NodePort Service,
// Ingress, OpenShift Route or Gateway API route exposes: meant to be
// reached from outside.
func exposedWorkloads(env *check.Env) map[*netpol.Workload][]string {
	return env.Memo(exposedKey{}, func() any { return modelOf(env).Routes() }).(map[*netpol.Workload][]string)
}

func internetIngressToPrivate() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "networkpolicy-internet-ingress-to-private", Title: "NetworkPolicy admits the internet to workloads no Service exposes", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{CIS: []string{"5.3.2"}, NSA: []string{nsaNetwork}, MITRE: []string{"T1133"}},
			Description: "An ingress rule allows 0.0.0.0/0 (every public address) to workloads that no LoadBalancer or NodePort Service, Ingress or Gateway route exposes: they are not meant to be public, and the rule opens them to anything that can route to the pods (a misconfigured load balancer, a peered network, hostPort).",
			Remediation: "Allow only the address ranges that must reach these workloads (the load balancer's or the ingress controller's), or select the ingress controller with a podSelector/namespaceSelector peer.",
		},
		Kinds:  []string{"NetworkPolicy"},
		Models: []*check.Model{exposedRoutes},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			np, ok := policyOf(env, o)
			if !ok {
				return nil
			}
			var paths []string
			for i, r := range np.Spec.Ingress {
				for j, peer := range r.From {
					if peer.IPBlock != nil && coversInternet(peer.IPBlock.CIDR, peer.IPBlock.Except) {
						paths = append(paths, fmt.Sprintf("spec.ingress[%d].from[%d].ipBlock", i, j))
					}
				}
			}
			if len(paths) == 0 {
				return nil
			}
			exposed := exposedWorkloads(env)
			var private []string
			for _, w := range modelOf(env).SelectedBy(o) {
				if len(exposed[w]) == 0 {
					private = append(private, w.String())
				}
			}
			if len(private) == 0 {
				return nil
			}
			var out []check.Result
			for _, p := range paths {
				out = append(out, check.Result{Path: p, Message: fmt.Sprintf("every public address may connect to %s, which no LoadBalancer/NodePort Service, Ingress or route exposes", strings.Join(private, ", "))})
			}
			return out
		},
	}
}

func hostNetworkBypass() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "networkpolicy-bypassed-by-host-network", Title: "NetworkPolicy selects a host-network workload it cannot protect", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{nsaNetwork}},
			Description: "Pods with hostNetwork: true use the node's network namespace: NetworkPolicies that select them are not enforced by most network plugins, and their ports are reachable wherever the node is. A policy written for such a workload (a podSelector that picks it, not a namespace-wide default) gives a false sense of isolation.",
			Remediation: "Run the workload without hostNetwork (use a Service, or hostPort only where required), or protect the node's ports with host firewall rules.",
		},
		Models: []*check.Model{netpolModel},
		Pod: func(env *check.Env, pod *inventory.Pod) []check.Result {
			if !pod.Spec.HostNetwork {
				return nil
			}
			w := modelOf(env).WorkloadOf(pod.Object)
			if w == nil {
				return nil
			}
			targeted := w.TargetedBy()
			if len(targeted) == 0 {
				return nil // only namespace-wide defaults select it: nothing was written for it
			}
			return []check.Result{{Path: pod.SpecPath + ".hostNetwork", Message: fmt.Sprintf("NetworkPolicy %s selects %s, but it runs with hostNetwork: true, where policies are not enforced", strings.Join(targeted, ", "), w)}}
		},
	}
}

func routeExposesUnisolated() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "ingress-exposes-unisolated-workload", Title: "Ingress or route in front of unisolated pods", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{CIS: []string{"5.3.2"}, NSA: []string{nsaNetwork}, MITRE: []string{"T1133"}},
			Description: "An Ingress, OpenShift Route or Gateway API route sends outside traffic to a Service whose pods no NetworkPolicy isolates for ingress: besides the ingress controller, every pod in the cluster reaches every port they listen on.",
			Remediation: "Select the backend pods with a NetworkPolicy that admits the ingress controller's namespace on the target ports only.",
			CrossObject: true,
		},
		Kinds:  []string{"Ingress", "Route", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute"},
		Models: []*check.Model{netpolModel},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			names := netpol.RoutedServices(o)
			if len(names) == 0 {
				return nil
			}
			services := servicesByName(env)
			m := modelOf(env)
			var open []string
			for _, name := range names {
				svc := services[namespaceOrDefault(o)+"/"+name]
				if svc == nil || len(svc.Selector) == 0 {
					continue
				}
				sel := labels.SelectorFromSet(svc.Selector)
				for _, w := range m.Workloads {
					if w.Namespace == svc.Namespace && sel.Matches(w.Labels) && !w.IsolatedForIngress() && m.AdmitsAnyPod(w) && !slices.Contains(open, w.String()) {
						open = append(open, w.String())
					}
				}
			}
			if len(open) == 0 {
				return nil
			}
			return []check.Result{{Path: "spec", Message: fmt.Sprintf("%s %s/%s routes outside traffic to %s, which no NetworkPolicy isolates for ingress", o.Kind(), namespaceOrDefault(o), o.Name(), strings.Join(open, ", "))}}
		},
	}
}

type servicesKey struct{}

// servicesByName are the input's Services by namespace/name.
func servicesByName(env *check.Env) map[string]*netpol.Service {
	return env.Memo(servicesKey{}, func() any {
		out := map[string]*netpol.Service{}
		for _, o := range env.Inventory.Objects() {
			if svc, ok := netpol.ServiceOf(o); ok {
				name, _ := o.MetadataField("name").(string)
				out[svc.Namespace+"/"+name] = svc
			}
		}
		return out
	}).(map[string]*netpol.Service)
}

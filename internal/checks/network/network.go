// Package network holds the network checks: isolation by NetworkPolicies
// (evaluated with internal/netpol), policies that open the cloud metadata
// service, and Services with externalIPs.
package network

import (
	"fmt"
	"net/netip"

	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/netpol"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Checks returns the network catalogue.
func Checks() ([]*check.Check, error) {
	checks := []*check.Check{namespaceDefaultDeny(), workloadNotIsolated(), metadataEgress(), serviceExternalIPs()}
	checks = append(checks, exposureChecks()...)
	checks = append(checks, scopeChecks()...)
	return append(checks, meshChecks()...), nil
}

const nsaNetwork = "Use network policies to isolate resources"

type modelKey struct{}

// netpolModel and exposedRoutes are the models network checks declare, so a
// scan builds them before evaluating objects.
var (
	netpolModel   = &check.Model{Name: "NetworkPolicy model", Build: func(env *check.Env) { modelOf(env) }}
	exposedRoutes = &check.Model{Name: "routes into workloads", Build: func(env *check.Env) { exposedWorkloads(env) }}
)

func modelOf(env *check.Env) *netpol.Model {
	return env.Memo(modelKey{}, func() any {
		return netpol.FromInventory(env.Inventory, func(o *source.Object) (*networkingv1.NetworkPolicy, error) {
			d := decodedPolicy(env, o)
			return d.np, d.err
		})
	}).(*netpol.Model)
}

// workloadKinds are the kinds with pods a policy can select.
var workloadKinds = []string{"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

type policyKey struct{ o *source.Object }

type decoded struct {
	np  *networkingv1.NetworkPolicy
	err error
}

// decodedPolicy decodes the NetworkPolicy o once per run: several checks
// and the NetworkPolicy model read each policy.
func decodedPolicy(env *check.Env, o *source.Object) decoded {
	return env.Memo(policyKey{o}, func() any {
		np, err := netpol.DecodePolicy(o)
		return decoded{np, err}
	}).(decoded)
}

// policyOf returns o decoded as a NetworkPolicy; ok is false for anything
// else, and for a policy that does not decode.
func policyOf(env *check.Env, o *source.Object) (np *networkingv1.NetworkPolicy, ok bool) {
	if o.Kind() != "NetworkPolicy" || o.Group() != networkingv1.GroupName {
		return nil, false
	}
	d := decodedPolicy(env, o)
	return d.np, d.err == nil
}

type policiesKey struct{}

// policiesIn are the NetworkPolicies of namespace ns, decoded once per
// evaluation for every namespace.
func policiesIn(env *check.Env, ns string) []*networkingv1.NetworkPolicy {
	byNS := env.Memo(policiesKey{}, func() any {
		m := map[string][]*networkingv1.NetworkPolicy{}
		for _, o := range env.Inventory.Objects() {
			if np, ok := policyOf(env, o); ok {
				m[o.Namespace()] = append(m[o.Namespace()], np)
			}
		}
		return m
	}).(map[string][]*networkingv1.NetworkPolicy)
	return byNS[ns]
}

// isolatesAll reports whether a policy selects every pod of its namespace
// for the direction (a default deny, or a default policy).
func isolatesAll(np *networkingv1.NetworkPolicy, egress bool) bool {
	if len(np.Spec.PodSelector.MatchLabels) > 0 || len(np.Spec.PodSelector.MatchExpressions) > 0 {
		return false
	}
	if len(np.Spec.PolicyTypes) == 0 {
		return !egress || len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		if (t == networkingv1.PolicyTypeEgress) == egress {
			return true
		}
	}
	return false
}

func namespaceDefaultDeny() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "namespace-default-deny-missing", Title: "Namespace without a default NetworkPolicy", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{CIS: []string{"5.3.2"}, NSA: []string{nsaNetwork}, MITRE: []string{"T1046"}},
			Description: "Without a NetworkPolicy selecting every pod of the namespace (podSelector: {}) for ingress, any pod added later accepts connections from every pod in the cluster; without one for egress, its pods may connect anywhere. Reported on every Namespace of the input except kube-system, kube-public and kube-node-lease.",
			Remediation: "Add a default-deny policy (podSelector: {}, policyTypes: [Ingress, Egress]) and allow what each workload needs with further policies.",
			CrossObject: true,
		},
		Kinds: []string{"Namespace"},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			if o.Group() != "" || o.Name() == "kube-system" || o.Name() == "kube-public" || o.Name() == "kube-node-lease" {
				return nil
			}
			var ingress, egress bool
			for _, np := range policiesIn(env, o.Name()) {
				ingress = ingress || isolatesAll(np, false)
				egress = egress || isolatesAll(np, true)
			}
			var out []check.Result
			if !ingress {
				out = append(out, check.Result{Message: fmt.Sprintf("namespace %s has no NetworkPolicy selecting all its pods for ingress: new pods accept connections from anywhere", o.Name())})
			}
			if !egress {
				out = append(out, check.Result{Severity: check.Low, Message: fmt.Sprintf("namespace %s has no NetworkPolicy selecting all its pods for egress: its pods may connect anywhere, including the cloud metadata service", o.Name())})
			}
			return out
		},
	}
}

func workloadNotIsolated() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "workload-not-isolated", Title: "Workload selected by no NetworkPolicy for ingress", Severity: check.Low, Category: check.Network,
			Frameworks:  check.Frameworks{CIS: []string{"5.3.2"}, NSA: []string{nsaNetwork}, MITRE: []string{"T1046"}},
			Description: "No NetworkPolicy in the input selects the workload's pods for ingress (and no AdminNetworkPolicy or BaselineAdminNetworkPolicy restricts them), so every pod in the cluster and every address that reaches the pod network can connect to them.",
			Remediation: "Select the workload with a NetworkPolicy (or a namespace default deny) and allow only the clients it serves.",
			CrossObject: true,
		},
		Kinds:  workloadKinds,
		Models: []*check.Model{netpolModel},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			pod := env.Inventory.Pod(o)
			if pod == nil || pod.Spec.HostNetwork || pod.IsControlPlane() {
				return nil
			}
			m := modelOf(env)
			w := m.WorkloadOf(o)
			if w == nil || w.IsolatedForIngress() || !m.AdmitsAnyPod(w) {
				return nil // isolated by a NetworkPolicy, or restricted by an AdminNetworkPolicy
			}
			return []check.Result{{Path: pod.MetaPath + ".labels", Message: fmt.Sprintf("no NetworkPolicy selects %s for ingress: every pod and address can connect to it", w)}}
		},
	}
}

// metadataAddress is the cloud instance metadata service (AWS, GCP, Azure,
// OpenStack and others).
var metadataAddress = netip.MustParseAddr("169.254.169.254")

func metadataEgress() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "networkpolicy-allows-metadata-egress", Title: "NetworkPolicy opens egress to the cloud metadata service", Severity: check.High, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{nsaNetwork}, MITRE: []string{"T1552.005"}},
			Description: "An egress rule whose ipBlock contains 169.254.169.254 (typically 0.0.0.0/0 without except) lets the selected pods read the node's cloud credentials from the instance metadata service.",
			Remediation: "Add 169.254.169.254/32 to the ipBlock's except list, or allow only the address ranges the workload needs.",
		},
		Kinds: []string{"NetworkPolicy"},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			np, ok := policyOf(env, o)
			if !ok {
				return nil
			}
			var out []check.Result
			for i, rule := range np.Spec.Egress {
				for j, peer := range rule.To {
					if peer.IPBlock == nil || !blockHolds(peer.IPBlock, metadataAddress) {
						continue
					}
					out = append(out, check.Result{
						Path:    fmt.Sprintf("spec.egress[%d].to[%d].ipBlock", i, j),
						Message: fmt.Sprintf("egress to %s includes the cloud metadata service 169.254.169.254", peer.IPBlock.CIDR),
					})
				}
			}
			return out
		},
	}
}

func blockHolds(b *networkingv1.IPBlock, a netip.Addr) bool {
	p, err := netip.ParsePrefix(b.CIDR)
	if err != nil || !p.Contains(a) {
		return false
	}
	for _, e := range b.Except {
		if x, err := netip.ParsePrefix(e); err == nil && x.Contains(a) {
			return false
		}
	}
	return true
}

func serviceExternalIPs() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "service-external-ips", Title: "Service with externalIPs", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{nsaNetwork}, MITRE: []string{"T1557"}},
			Description: "spec.externalIPs makes kube-proxy route traffic for those addresses to the Service; anyone who may create Services can intercept traffic to any IP this way (CVE-2020-8554). Clusters should forbid the field (the DenyServiceExternalIPs admission plugin).",
			Remediation: "Remove spec.externalIPs; use a LoadBalancer Service or an Ingress, and enable the DenyServiceExternalIPs admission plugin.",
		},
		Kinds: []string{"Service"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			spec, _ := o.Field("spec").(map[string]any)
			ips, _ := spec["externalIPs"].([]any)
			if o.Group() != "" || len(ips) == 0 {
				return nil
			}
			return []check.Result{{Path: "spec.externalIPs", Message: fmt.Sprintf("Service %s/%s routes %d external IP(s) (%v) into the cluster (CVE-2020-8554)", o.Namespace(), o.Name(), len(ips), ips)}}
		},
	}
}

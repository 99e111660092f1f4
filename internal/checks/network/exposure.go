package network

import (
	"fmt"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/netpol"
	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

func exposureChecks() []*check.Check {
	return []*check.Check{serviceExposedWithoutPolicy(), ingressWithoutTLS(), policyAllowsAll(), policySelectsNothing()}
}

func serviceExposedWithoutPolicy() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "service-exposed-without-policy", Title: "LoadBalancer or NodePort Service in front of unisolated pods", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{CIS: []string{"5.3.2"}, NSA: []string{nsaNetwork}, MITRE: []string{"T1133"}},
			Description: "A LoadBalancer or NodePort Service reaches its pods from outside the cluster; when no NetworkPolicy selects those pods for ingress, every port they listen on is open to whatever reaches the node or load balancer, not only the Service's.",
			Remediation: "Select the Service's pods with a NetworkPolicy that allows only the Service's target ports.",
		},
		Kinds:  []string{"Service"},
		Models: []*check.Model{netpolModel},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			// Most Services are ClusterIP: read the type before decoding.
			spec, _ := o.Field("spec").(map[string]any)
			if t, _ := spec["type"].(string); t != string(corev1.ServiceTypeLoadBalancer) && t != string(corev1.ServiceTypeNodePort) {
				return nil
			}
			svc, ok := netpol.ServiceOf(o)
			if !ok || len(svc.Selector) == 0 {
				return nil
			}
			sel := labels.SelectorFromSet(svc.Selector)
			var open []string
			for _, w := range modelOf(env).Workloads {
				if w.Namespace == namespaceOrDefault(o) && sel.Matches(w.Labels) && !w.IsolatedForIngress() {
					open = append(open, w.String())
				}
			}
			if len(open) == 0 {
				return nil
			}
			return []check.Result{{Path: "spec.type", Message: fmt.Sprintf("%s Service %s/%s exposes %v, which no NetworkPolicy isolates for ingress", svc.Type, o.Namespace(), o.Name(), open)}}
		},
	}
}

func namespaceOrDefault(o *source.Object) string {
	if ns := o.Namespace(); ns != "" {
		return ns
	}
	return "default"
}

func ingressWithoutTLS() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "ingress-without-tls", Title: "Ingress without TLS", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{"Encrypt traffic in transit"}, MITRE: []string{"T1040"}},
			Description: "An Ingress with no spec.tls serves its hosts over plain HTTP: credentials and session cookies cross the network readable.",
			Remediation: "Add spec.tls with a certificate Secret for every host (cert-manager can issue and renew them).",
		},
		Kinds: []string{"Ingress"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			var ing networkingv1.Ingress
			if o.Group() != networkingv1.GroupName || typed.FromFields(o.Field, &ing) != nil || len(ing.Spec.TLS) > 0 {
				return nil
			}
			var hosts []string
			for _, r := range ing.Spec.Rules {
				if r.Host != "" {
					hosts = append(hosts, r.Host)
				}
			}
			msg := fmt.Sprintf("Ingress %s/%s serves plain HTTP", o.Namespace(), o.Name())
			if len(hosts) > 0 {
				msg += fmt.Sprintf(" for %v", hosts)
			}
			return []check.Result{{Path: "spec", Message: msg}}
		},
	}
}

func policyAllowsAll() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "networkpolicy-allows-all", Title: "NetworkPolicy rule allowing all traffic", Severity: check.Medium, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{nsaNetwork}, MITRE: []string{"T1046"}},
			Description: "A rule with neither peers nor ports allows every source (or destination) on every port: the policy isolates nothing in that direction, whatever else it says.",
			Remediation: "Name the peers (podSelector, namespaceSelector or ipBlock) and the ports the selected pods need.",
		},
		Kinds: []string{"NetworkPolicy"},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			np, ok := policyOf(env, o)
			if !ok {
				return nil
			}
			var out []check.Result
			for i, r := range np.Spec.Ingress {
				if len(r.From) == 0 && len(r.Ports) == 0 {
					out = append(out, check.Result{Path: fmt.Sprintf("spec.ingress[%d]", i), Message: fmt.Sprintf("NetworkPolicy %s/%s admits every source on every port", o.Namespace(), o.Name())})
				}
			}
			for i, r := range np.Spec.Egress {
				if len(r.To) == 0 && len(r.Ports) == 0 {
					out = append(out, check.Result{Path: fmt.Sprintf("spec.egress[%d]", i), Message: fmt.Sprintf("NetworkPolicy %s/%s allows egress to every destination on every port", o.Namespace(), o.Name())})
				}
			}
			return out
		},
	}
}

func policySelectsNothing() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "networkpolicy-selects-nothing", Title: "NetworkPolicy selecting no workload", Severity: check.Low, Category: check.Network,
			Frameworks:  check.Frameworks{NSA: []string{nsaNetwork}},
			Description: "The policy's podSelector matches none of the namespace's workloads (a typo in a label, a renamed app): the pods it was written for are not isolated. Reported when the input holds workloads of that namespace.",
			Remediation: "Fix the podSelector to match the pods' labels, or delete the policy.",
			CrossObject: true,
		},
		Kinds:  []string{"NetworkPolicy"},
		Models: []*check.Model{netpolModel},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			np, ok := policyOf(env, o)
			if !ok {
				return nil
			}
			// The model parsed the selector; it leaves out a policy it
			// cannot evaluate (a duplicate, an invalid peer).
			sel, ok := modelOf(env).PodSelector(o)
			if !ok {
				var err error
				if sel, err = metav1.LabelSelectorAsSelector(&np.Spec.PodSelector); err != nil {
					return nil
				}
			}
			if sel.Empty() {
				return nil
			}
			ns := namespaceOrDefault(o)
			inNS := workloadsByNamespace(env)[ns]
			if len(inNS) == 0 {
				return nil
			}
			for _, w := range inNS {
				if sel.Matches(w.Labels) {
					return nil
				}
			}
			return []check.Result{{Path: "spec.podSelector", Message: fmt.Sprintf("NetworkPolicy %s/%s selects %s, which matches no workload of the namespace", ns, np.Name, sel)}}
		},
	}
}

package network

import (
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
)

func run(t *testing.T, id, manifest string) []check.Finding {
	t.Helper()
	cs, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	return checktest.Run(t, cs, check.Options{Selection: check.Selection{Only: []string{id}}}, manifest)
}

const (
	namespace  = "apiVersion: v1\nkind: Namespace\nmetadata: {name: app}\n"
	deployment = "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web, namespace: app}\nspec:\n  selector: {matchLabels: {app: web}}\n  template:\n    metadata: {labels: {app: web}}\n    spec: {containers: [{name: c, image: x}]}\n"
	denyAll    = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: app}\nspec: {podSelector: {}, policyTypes: [Ingress, Egress]}\n"
	denyIn     = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: app}\nspec: {podSelector: {}}\n"
	webOnly    = "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: app}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: [{}]}\n"
)

type networkCase struct {
	check, fires, quiet string
	want                int
	message             string
}

func TestNetworkChecks(t *testing.T) {
	cases := []networkCase{
		{"namespace-default-deny-missing", namespace + deployment, namespace + deployment + denyAll, 2, "no NetworkPolicy selecting all its pods for ingress"},
		{"namespace-default-deny-missing", namespace + denyIn, namespace + denyAll, 1, "for egress"},
		{"namespace-default-deny-missing", namespace + webOnly, namespace + denyAll, 2, "for ingress"},
		{"workload-not-isolated", deployment, deployment + webOnly, 1, "no NetworkPolicy selects app/web[Deployment] for ingress"},
		{"workload-not-isolated", deployment + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: other, namespace: app}\nspec: {podSelector: {matchLabels: {app: db}}}\n", deployment + denyIn, 1, "app/web"},
		{"networkpolicy-allows-metadata-egress",
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e, namespace: app}\nspec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 169.254.0.0/16}}]}]\n",
			"apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: e, namespace: app}\nspec:\n  podSelector: {}\n  egress: [{to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32]}}]}]\n", 1, "169.254.0.0/16"},
		{"service-exposed-without-policy", deployment + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n",
			deployment + webOnly + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80}]}\n", 1, "LoadBalancer Service app/s exposes [app/web[Deployment]]"},
		{"service-exposed-without-policy", deployment + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}\n",
			deployment + "---\napiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {type: ClusterIP, selector: {app: web}, ports: [{port: 80}]}\n", 1, "NodePort"},
		{"ingress-without-tls", "apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: app}\nspec: {rules: [{host: shop.example.com}]}\n",
			"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: app}\nspec: {tls: [{hosts: [shop.example.com], secretName: tls}], rules: [{host: shop.example.com}]}\n", 1, "[shop.example.com]"},
		{"networkpolicy-allows-all", webOnly, "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: web, namespace: app}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: [{ports: [{port: 8080}]}]}\n", 1, "admits every source on every port"},
		{"networkpolicy-selects-nothing", deployment + "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: typo, namespace: app}\nspec: {podSelector: {matchLabels: {app: wbe}}}\n",
			deployment + webOnly, 1, "app=wbe, which matches no workload"},
		{"service-external-ips",
			"apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {ports: [{port: 80}], externalIPs: [1.2.3.4]}\n",
			"apiVersion: v1\nkind: Service\nmetadata: {name: s, namespace: app}\nspec: {ports: [{port: 80}], type: LoadBalancer}\n", 1, "CVE-2020-8554"},
	}
	cases = append(cases, meshAndScopeCases()...)
	for _, tc := range cases {
		got := run(t, tc.check, tc.fires)
		if len(got) != tc.want || !strings.Contains(got[0].Message+got[len(got)-1].Message, tc.message) {
			t.Errorf("%s: %d findings %+v; want %d with %q", tc.check, len(got), got, tc.want, tc.message)
		}
		if quiet := run(t, tc.check, tc.quiet); len(quiet) != 0 {
			t.Errorf("%s fired on the hardened form: %+v", tc.check, quiet)
		}
	}
	// Host-network pods are out of NetworkPolicy's reach: another check's business.
	host := strings.Replace(deployment, "spec: {containers", "spec: {hostNetwork: true, containers", 1)
	if got := run(t, "workload-not-isolated", host); len(got) != 0 {
		t.Errorf("host-network pod: %+v", got)
	}
	if got := run(t, "networkpolicy-selects-nothing", "apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: typo, namespace: app}\nspec: {podSelector: {matchLabels: {app: wbe}}}\n"); len(got) != 0 {
		t.Errorf("a policy whose namespace's workloads are not in the input: %+v", got)
	}
	if got := run(t, "namespace-default-deny-missing", "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n"); len(got) != 0 {
		t.Errorf("kube-system: %+v", got)
	}
}

func meshAndScopeCases() []networkCase {
	pa := func(spec string) string {
		return "apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: default, namespace: app}\nspec: " + spec + "\n"
	}
	dr := func(spec string) string {
		return "apiVersion: networking.istio.io/v1\nkind: DestinationRule\nmetadata: {name: db, namespace: app}\nspec: " + spec + "\n"
	}
	injected := "apiVersion: v1\nkind: Namespace\nmetadata: {name: app, labels: {istio-injection: enabled}}\n"
	linkerd := "apiVersion: v1\nkind: Namespace\nmetadata: {name: app, annotations: {linkerd.io/inject: enabled}}\n"
	optOutIstio := strings.Replace(deployment, "metadata: {labels: {app: web}}", "metadata: {labels: {app: web, sidecar.istio.io/inject: 'false'}}", 1)
	optOutLinkerd := strings.Replace(deployment, "metadata: {labels: {app: web}}", "metadata: {labels: {app: web}, annotations: {linkerd.io/inject: disabled}}", 1)
	internet := "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: open, namespace: app}\nspec: {podSelector: {matchLabels: {app: web}}, ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0, except: [10.0.0.0/8]}}]}]}\n"
	ingressTo := "---\napiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i, namespace: app}\nspec: {rules: [{http: {paths: [{path: /, pathType: Prefix, backend: {service: {name: web, port: {number: 80}}}}]}}]}\n" +
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: app}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"
	route := "---\napiVersion: gateway.networking.k8s.io/v1\nkind: HTTPRoute\nmetadata: {name: r, namespace: app}\nspec: {rules: [{backendRefs: [{name: web, port: 80}]}]}\n" +
		"---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: app}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"
	host := strings.Replace(deployment, "spec: {containers", "spec: {hostNetwork: true, containers", 1)
	service := "---\napiVersion: v1\nkind: Service\nmetadata: {name: web, namespace: app}\nspec: {selector: {app: web}, ports: [{port: 80}]}\n"
	osRoute := "---\napiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r, namespace: app}\nspec: {to: {kind: Service, name: web}}\n" + service
	legacyIngress := "---\napiVersion: extensions/v1beta1\nkind: Ingress\nmetadata: {name: old, namespace: app}\nspec: {backend: {serviceName: web, servicePort: 80}}\n" + service
	return []networkCase{
		{"istio-mtls-not-strict", pa("{mtls: {mode: PERMISSIVE}}"), pa("{mtls: {mode: STRICT}}"), 1, "plain-text connections are accepted"},
		{"istio-mtls-not-strict", pa("{mtls: {mode: STRICT}, portLevelMtls: {'8080': {mode: DISABLE}}}"), pa("{mtls: {mode: STRICT}, portLevelMtls: {'8080': {mode: STRICT}}}"), 1, "on port 8080"},
		{"istio-destination-rule-tls-disabled", dr("{host: db, trafficPolicy: {tls: {mode: DISABLE}}, subsets: [{name: v1, trafficPolicy: {portLevelSettings: [{port: {number: 5432}, tls: {mode: DISABLE}}]}}]}"),
			dr("{host: db, trafficPolicy: {tls: {mode: ISTIO_MUTUAL}}}"), 2, "traffic to db is sent without TLS"},
		{"mesh-workload-not-meshed", injected + "---\n" + optOutIstio, injected + "---\n" + deployment, 1, "sidecar.istio.io/inject"},
		{"mesh-workload-not-meshed", linkerd + "---\n" + optOutLinkerd, optOutLinkerd, 1, "linkerd.io/inject: disabled"},
		{"mesh-namespace-not-meshed", injected + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n" + strings.Replace(deployment, "namespace: app", "namespace: other", 1),
			injected + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other, labels: {istio-injection: disabled}}\n---\n" + strings.Replace(deployment, "namespace: app", "namespace: other", 1), 1, "namespace other runs workloads without the Istio sidecar, which app inject"},
		{"mesh-namespace-not-meshed", linkerd + "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n" + strings.Replace(deployment, "namespace: app", "namespace: other", 1),
			"apiVersion: v1\nkind: Namespace\nmetadata: {name: other}\n---\n" + strings.Replace(deployment, "namespace: app", "namespace: other", 1), 1, "without the Linkerd proxy"},
		{"istio-workload-mtls-permissive", injected + "---\n" + deployment, injected + "---\n" + deployment + "---\n" + strings.Replace(pa("{mtls: {mode: STRICT}}"), "namespace: app", "namespace: istio-system", 1), 1, "Istio's default"},
		{"istio-workload-mtls-permissive", injected + "---\n" + deployment + "---\n" + strings.Replace(pa("{mtls: {mode: STRICT}}"), "namespace: app", "namespace: istio-system", 1) + "---\n" + pa("{mtls: {mode: PERMISSIVE}}"),
			injected + "---\n" + deployment + "---\n" + pa("{mtls: {mode: UNSET}}") + "---\n" + strings.Replace(pa("{mtls: {mode: STRICT}}"), "namespace: app", "namespace: istio-system", 1), 1, "PERMISSIVE for this workload, from the PeerAuthentication of namespace app"},
		{"istio-workload-mtls-permissive", injected + "---\n" + deployment + "---\n" + pa("{selector: {matchLabels: {app: web}}, mtls: {mode: DISABLE}}") + "---\n" + strings.Replace(pa("{mtls: {mode: STRICT}}"), "namespace: app", "namespace: istio-system", 1),
			injected + "---\n" + optOutIstio, 1, "DISABLE for this workload, from a workload PeerAuthentication"},
		{"networkpolicy-internet-ingress-to-private", deployment + internet, deployment + internet + ingressTo, 1, "every public address may connect to app/web[Deployment]"},
		{"networkpolicy-internet-ingress-to-private", deployment + internet, deployment + internet + route, 1, "no LoadBalancer/NodePort Service"},
		{"networkpolicy-bypassed-by-host-network", host + webOnly, host, 1, "hostNetwork: true"},
		{"ingress-exposes-unisolated-workload", deployment + ingressTo, deployment + ingressTo + webOnly, 1, "Ingress app/i routes outside traffic to app/web[Deployment]"},
		{"ingress-exposes-unisolated-workload", deployment + route, deployment + route + denyIn, 1, "HTTPRoute app/r"},
		{"ingress-exposes-unisolated-workload", deployment + osRoute, deployment + osRoute + denyIn, 1, "Route app/r routes outside traffic"},
		{"ingress-exposes-unisolated-workload", deployment + legacyIngress, deployment + legacyIngress + denyIn, 1, "Ingress app/old"},
	}
}

// TestPeerMatchesNothing runs on a live cluster's view only: with partial
// manifests, a peer's workloads are often in another input.
func TestPeerMatchesNothing(t *testing.T) {
	cs, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	opts := check.Options{Selection: check.Selection{Only: []string{"networkpolicy-peer-matches-nothing"}}}
	policy := "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: app}\nspec:\n  podSelector: {}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {app: wbe}}\n    - podSelector: {matchLabels: {app: web}}\n    - namespaceSelector: {matchLabels: {team: nobody}}\n    - ipBlock: {cidr: 10.0.0.0/8}\n"
	got := checktest.RunCluster(t, cs, opts, namespace+deployment+policy)
	if len(got) != 2 || got[0].Path != "spec.ingress[0].from[0].podSelector" || got[1].Path != "spec.ingress[0].from[2].namespaceSelector" {
		t.Errorf("got %+v", got)
	}
	if got := checktest.Run(t, cs, opts, namespace+deployment+policy); len(got) != 0 {
		t.Errorf("fired on manifests: %+v", got)
	}
}

// TestAdminPoliciesCount: a workload no NetworkPolicy selects but a
// BaselineAdminNetworkPolicy denies traffic to is not reported as open.
func TestAdminPoliciesCount(t *testing.T) {
	banp := "---\napiVersion: policy.networking.k8s.io/v1alpha1\nkind: BaselineAdminNetworkPolicy\nmetadata: {name: default}\nspec:\n  subject: {namespaces: {}}\n  ingress:\n  - {action: Deny, from: [{namespaces: {}}]}\n"
	if got := run(t, "workload-not-isolated", deployment+banp); len(got) != 0 {
		t.Errorf("baseline deny: %+v", got)
	}
	if got := run(t, "workload-not-isolated", deployment); len(got) != 1 {
		t.Errorf("no policy at all: %+v", got)
	}
}

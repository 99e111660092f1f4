package netpol

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
)

func TestConns(t *testing.T) {
	tcp80 := PortConns(corev1.ProtocolTCP, 80, 80)
	tcp443 := PortConns(corev1.ProtocolTCP, 443, 443)
	udp := ProtocolConns(corev1.ProtocolUDP)
	cases := []struct {
		got  Conns
		want string
	}{
		{AllConns(), "All Connections"},
		{Conns{}, "No Connections"},
		{tcp80.Union(tcp443), "TCP 80,443"},
		{PortConns(corev1.ProtocolTCP, 1, 79).Union(PortConns(corev1.ProtocolTCP, 80, 100)), "TCP 1-100"},
		{tcp80.Union(udp).Union(PortConns(corev1.ProtocolSCTP, 9003, 9003)), "SCTP 9003,TCP 80,UDP 1-65535"},
		{tcp80.Intersect(tcp443), "No Connections"},
		{AllConns().Intersect(tcp80), "TCP 80"},
		{PortConns(corev1.ProtocolTCP, 0, 70000), "TCP 1-65535"},
		{ProtocolConns(corev1.ProtocolTCP).Union(udp).Union(ProtocolConns(corev1.ProtocolSCTP)), "All Connections"},
	}
	for _, tc := range cases {
		if s := tc.got.String(); s != tc.want {
			t.Errorf("got %q, want %q", s, tc.want)
		}
	}
	if !tcp80.Union(tcp443).Contains(corev1.ProtocolTCP, 443) || tcp80.Contains(corev1.ProtocolUDP, 80) {
		t.Error("Contains")
	}
}

const pods = `
apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: ops, labels: {team: ops}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}, {name: dns, containerPort: 53, protocol: UDP}]}]}
---
apiVersion: v1
kind: Pod
metadata: {name: monitor, namespace: ops, labels: {app: monitor}}
spec: {containers: [{name: c, image: x}]}
`

func model(t *testing.T, policies string) *Model {
	t.Helper()
	res := source.ParseBytes("net.yaml", []byte(pods+policies))
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	m := Build(res.Objects)
	if len(m.Errors) > 0 {
		t.Fatal(m.Errors)
	}
	return m
}

func (m *Model) workload(name string) *Workload {
	for _, w := range m.Workloads {
		if w.Name == name {
			return w
		}
	}
	return nil
}

func TestSemantics(t *testing.T) {
	policy := func(spec string) string {
		return "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n" + spec
	}
	cases := []struct {
		name, policies string
		src, dst       string
		want           string
	}{
		{"no policy: everything", "", "web", "db", "All Connections"},
		{"empty podSelector isolates every pod; no rules: nothing", policy("  podSelector: {}\n"), "web", "db", "No Connections"},
		{"ingress isolation leaves egress open", policy("  podSelector: {}\n"), "db", "monitor", "All Connections"},
		{"egress rules default policyTypes to Ingress and Egress", policy("  podSelector: {matchLabels: {app: web}}\n  egress: [{ports: [{port: 5432}]}]\n"), "web", "monitor", "TCP 5432"},
		{"an empty rule allows everything", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{}]\n"), "web", "db", "All Connections"},
		{"podSelector peer: same namespace only", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{podSelector: {}}]}]\n"), "monitor", "db", "No Connections"},
		{"namespaceSelector peer", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}]}]\n"), "monitor", "db", "All Connections"},
		{"both selectors: AND", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}, podSelector: {matchLabels: {app: other}}}]}]\n"), "monitor", "db", "No Connections"},
		{"two peers: OR", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {team: ops}}}, {podSelector: {matchLabels: {app: other}}}]}]\n"), "monitor", "db", "All Connections"},
		{"metadata.name label always present", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: ops}}}]}]\n"), "monitor", "db", "All Connections"},
		{"named port resolves on the destination", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: pg}]}]\n"), "web", "db", "TCP 5432"},
		{"named port with the wrong protocol", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: dns}]}]\n"), "web", "db", "No Connections"},
		{"named port with its protocol", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: dns, protocol: UDP}]}]\n"), "web", "db", "UDP 53"},
		{"endPort range", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: 5000, endPort: 5500}]}]\n"), "web", "db", "TCP 5000-5500"},
		{"protocol without port", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{protocol: SCTP}]}]\n"), "web", "db", "SCTP 1-65535"},
		{"ipBlock selects no pod", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{ipBlock: {cidr: 0.0.0.0/0}}]}]\n"), "web", "db", "No Connections"},
		{"policies are additive", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: 5432}]}]\n") +
			"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: q, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{ports: [{port: 9090}]}]\n", "web", "db", "TCP 5432,9090"},
		{"egress and ingress intersect", policy("  podSelector: {matchLabels: {app: db}}\n  ingress: [{ports: [{port: 5432}, {port: 6432}]}]\n") +
			"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: q, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: web}}\n  policyTypes: [Egress]\n  egress: [{ports: [{port: 5432}, {port: 53, protocol: UDP}]}]\n", "web", "db", "TCP 5432"},
		{"explicit policyTypes Egress only leaves ingress open", policy("  podSelector: {matchLabels: {app: db}}\n  policyTypes: [Egress]\n"), "web", "db", "All Connections"},
	}
	for _, tc := range cases {
		m := model(t, tc.policies)
		if got := m.Allowed(m.workload(tc.src), m.workload(tc.dst)).String(); got != tc.want {
			t.Errorf("%s: %s → %s = %s, want %s", tc.name, tc.src, tc.dst, got, tc.want)
		}
	}
}

func TestInvalidPolicies(t *testing.T) {
	for name, spec := range map[string]string{
		"bad CIDR":           "ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/33}}]}]",
		"except outside":     "ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [192.168.0.0/16]}}]}]",
		"selector and block": "ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8}, podSelector: {}}]}]",
		"bad selector":       "ingress: [{from: [{podSelector: {matchExpressions: [{key: a, operator: Bogus}]}}]}]",
		"endPort named":      "ingress: [{ports: [{port: http, endPort: 90}]}]",
		"endPort below":      "egress: [{ports: [{port: 90, endPort: 80}]}]",
		"unknown type":       "policyTypes: [Sideways]",
	} {
		res := source.ParseBytes("p.yaml", []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p, namespace: shop}\nspec:\n  podSelector: {}\n  "+spec+"\n"))
		m := Build(res.Objects)
		if len(m.Errors) != 1 || !strings.Contains(m.Errors[0].Error(), "p.yaml") {
			t.Errorf("%s: errors %v", name, m.Errors)
		}
	}
}

// TestSharedDecoder: the model reads each policy through the decoder it is
// given, once, and leaves what it returns as it was: the check engine
// hands it the policies its checks read.
func TestSharedDecoder(t *testing.T) {
	res := source.ParseBytes("p.yaml", []byte(`apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: deny}
spec: {podSelector: {}}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: allow, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}]}]
---
apiVersion: v1
kind: Pod
metadata: {name: db, labels: {app: db}}
spec: {containers: [{name: c, image: db}]}
`))
	calls := map[*source.Object]int{}
	decoded := map[*source.Object]*networkingv1.NetworkPolicy{}
	m := FromInventory(inventory.Build(res.Objects), func(o *source.Object) (*networkingv1.NetworkPolicy, error) {
		calls[o]++
		np, err := DecodePolicy(o)
		decoded[o] = np
		return np, err
	})
	if len(m.Errors) != 0 || len(m.policies) != 2 {
		t.Fatalf("errors %v, %d policies", m.Errors, len(m.policies))
	}
	for _, o := range res.Objects[:2] {
		if calls[o] != 1 {
			t.Errorf("%s decoded %d times, want once", o, calls[o])
		}
	}
	if ns := decoded[res.Objects[0]].Namespace; ns != "" {
		t.Errorf("the decoder's policy was changed: namespace %q", ns)
	}
	if got := m.policies[0].np.Namespace; got != "default" {
		t.Errorf("the model's policy without a namespace is in %q, want default", got)
	}
	if m.policies[1].np != decoded[res.Objects[1]] {
		t.Error("the model copied a policy it did not need to change")
	}
	if sel, ok := m.PodSelector(res.Objects[1]); !ok || sel.String() != "app=db" {
		t.Errorf("PodSelector of allow = %v, %v", sel, ok)
	}
	if sel, ok := m.PodSelector(res.Objects[2]); ok {
		t.Errorf("PodSelector of a Pod = %v", sel)
	}
	if got := m.SelectedBy(res.Objects[0]); len(got) != 1 || got[0].Name != "db" {
		t.Errorf("deny selects %v, want the pod db", got)
	}
	// The defaulted policy isolates the default namespace's pod.
	if got := m.Allowed(m.workload("db"), m.workload("db")).String(); got != "No Connections" {
		t.Errorf("db → db = %s, want No Connections", got)
	}
}

// randomPolicies writes n random policies over the test workloads.
func randomPolicies(r *rand.Rand, n int) []string {
	peers := []string{"{podSelector: {}}", "{podSelector: {matchLabels: {app: web}}}", "{namespaceSelector: {matchLabels: {team: ops}}}", "{ipBlock: {cidr: 10.0.0.0/8}}"}
	ports := []string{"", "ports: [{port: 5432}]", "ports: [{port: http}]", "ports: [{protocol: UDP}]", "ports: [{port: 1000, endPort: 9000}]"}
	selectors := []string{"{}", "{matchLabels: {app: db}}", "{matchLabels: {app: web}}", "{matchLabels: {app: monitor}}"}
	var out []string
	for i := range n {
		ns := []string{"shop", "ops"}[r.IntN(2)]
		dir := []string{"ingress", "egress"}[r.IntN(2)]
		key := map[string]string{"ingress": "from", "egress": "to"}[dir]
		rule := "{}"
		if r.IntN(4) > 0 {
			peer, port := peers[r.IntN(len(peers))], ports[r.IntN(len(ports))]
			if dir == "egress" && strings.Contains(peer, "ipBlock") && strings.Contains(port, "http") {
				port = "" // a named port cannot apply to an address
			}
			rule = fmt.Sprintf("{%s: [%s], %s}", key, peer, port)
		}
		out = append(out, fmt.Sprintf("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: p%d, namespace: %s}\nspec:\n  podSelector: %s\n  policyTypes: [%s]\n  %s: [%s]\n",
			i, ns, selectors[r.IntN(len(selectors))], strings.ToUpper(dir[:1])+dir[1:], dir, rule))
	}
	return out
}

func matrix(m *Model) map[string]string {
	out := map[string]string{}
	for _, c := range m.Connections() {
		out[c.Src.String()+">"+c.Dst.String()] = c.Conns.String()
	}
	return out
}

// TestProperties: results do not depend on object order; deny-all (both
// directions, every namespace) empties the matrix; adding a policy never
// opens a connection in a direction that was already isolated unless the
// new policy allows it.
func TestProperties(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	denyAll := "---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: NS}\nspec:\n  podSelector: {}\n  policyTypes: [Ingress, Egress]\n"
	for round := range 200 {
		ps := randomPolicies(r, 1+r.IntN(5))
		m := model(t, strings.Join(ps, ""))
		shuffled := slices.Clone(ps)
		r.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
		if a, b := matrix(m), matrix(model(t, strings.Join(shuffled, ""))); fmt.Sprint(a) != fmt.Sprint(b) {
			t.Fatalf("round %d: order changes the result:\n%v\n%v", round, a, b)
		}
		extra := randomPolicies(r, 1)[0]
		extra = strings.Replace(extra, "name: p0", "name: extra", 1)
		after := model(t, strings.Join(ps, "")+extra)
		added := model(t, extra)
		for _, src := range m.Workloads {
			for _, dst := range m.Workloads {
				if src == dst {
					continue
				}
				as, ad := after.workload(src.Name), after.workload(dst.Name)
				xs, xd := added.workload(src.Name), added.workload(dst.Name)
				for dir, pair := range map[string][3]Conns{
					"ingress": {m.Ingress(src, dst), after.Ingress(as, ad), added.Ingress(xs, xd)},
					"egress":  {m.Egress(src, dst), after.Egress(as, ad), added.Egress(xs, xd)},
				} {
					before, now := pair[0], pair[1]
					if before.IsAll() {
						continue // not isolated before
					}
					allowedByExtra := pair[2]
					if !now.Equal(before.Union(before.Union(now).Intersect(allowedByExtra))) {
						t.Fatalf("round %d: %s %s→%s went from %s to %s, beyond what the new policy allows (%s)", round, dir, src, dst, before, now, allowedByExtra)
					}
				}
			}
		}
	}
	// Deny-all in every namespace empties the matrix.
	deny := strings.ReplaceAll(denyAll, "NS", "shop") + strings.ReplaceAll(strings.ReplaceAll(denyAll, "NS", "ops"), "name: deny", "name: deny2")
	if got := matrix(model(t, deny)); len(got) != 0 {
		t.Errorf("deny-all leaves %v", got)
	}
}

func TestExternal(t *testing.T) {
	m := model(t, `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{ipBlock: {cidr: 10.0.0.0/8, except: [10.0.0.0/9, 10.128.0.0/10]}}], ports: [{port: pg}]}]
  egress: [{to: [{ipBlock: {cidr: 192.168.1.0/24}}]}]
`)
	var got []string
	for _, e := range m.ExternalConnections() {
		if e.Workload.Name == "db" {
			got = append(got, e.String())
		}
	}
	want := []string{
		"shop/db[Deployment] => 192.168.1.0-192.168.1.255[External] : All Connections",
		"10.192.0.0-10.255.255.255[External] => shop/db[Deployment] : TCP 5432",
	}
	if !slices.Equal(got, want) {
		t.Errorf("external connections of db:\n%q\nwant\n%q", got, want)
	}
}

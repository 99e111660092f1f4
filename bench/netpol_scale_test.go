package main

import (
	"fmt"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/kubeharden/kubeharden/internal/netpol"
	"github.com/kubeharden/kubeharden/internal/source"
)

// netpolWorld is 500 namespaces, each with 4 Deployments of 5 replicas
// (10,000 pods) and 4 NetworkPolicies (2,000): default-deny, same-namespace
// frontend to backend on a named port, monitoring from one namespace, and
// egress to DNS and the namespace itself.
func netpolWorld() string {
	var b strings.Builder
	for n := range 500 {
		ns := fmt.Sprintf("team-%d", n)
		fmt.Fprintf(&b, "---\napiVersion: v1\nkind: Namespace\nmetadata: {name: %s, labels: {tier: %s}}\n", ns, []string{"prod", "dev"}[n%2])
		for i, app := range []string{"frontend", "backend", "worker", "cache"} {
			fmt.Fprintf(&b, `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: %s, namespace: %s}
spec:
  replicas: 5
  selector: {matchLabels: {app: %s}}
  template:
    metadata: {labels: {app: %s, team: %s, role: r%d}}
    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: %d}]}]}
`, app, ns, app, app, ns, i, 8080+i)
		}
		fmt.Fprintf(&b, `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: default-deny, namespace: %[1]s}
spec: {podSelector: {}, policyTypes: [Ingress, Egress]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: frontend-to-backend, namespace: %[1]s}
spec:
  podSelector: {matchLabels: {app: backend}}
  ingress: [{from: [{podSelector: {matchLabels: {app: frontend}}}], ports: [{port: http}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: monitoring, namespace: %[1]s}
spec:
  podSelector: {}
  ingress: [{from: [{namespaceSelector: {matchLabels: {kubernetes.io/metadata.name: team-0}}}], ports: [{port: 9090}]}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: egress, namespace: %[1]s}
spec:
  podSelector: {}
  policyTypes: [Egress]
  egress:
  - to: [{namespaceSelector: {}}]
    ports: [{port: 53, protocol: UDP}]
  - to: [{podSelector: {}}]
  - to: [{ipBlock: {cidr: 0.0.0.0/0, except: [169.254.169.254/32, 10.0.0.0/8]}}]
    ports: [{port: 443}]
`, ns)
	}
	return b.String()
}

// TestNetpolScale measures issue #5's targets: the full matrix by workload
// (< 10 s) and can-reach (< 10 ms). Opt-in:
// KUBEHARDEN_SCALE=1 go test ./bench -run TestNetpolScale -v
func TestNetpolScale(t *testing.T) {
	if os.Getenv("KUBEHARDEN_SCALE") == "" {
		t.Skip("set KUBEHARDEN_SCALE=1 to run the NetworkPolicy scale measurement")
	}
	start := time.Now()
	res := source.ParseBytes("world.yaml", []byte(netpolWorld()))
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors[0])
	}
	m := netpol.Build(res.Objects)
	if len(m.Errors) > 0 {
		t.Fatal(m.Errors[0])
	}
	t.Logf("loaded %d objects (%d workloads of 5 replicas) and built the model in %v", len(res.Objects), len(m.Workloads), time.Since(start).Round(time.Millisecond))
	start = time.Now()
	conns := m.Connections()
	ext := m.ExternalConnections()
	matrix := time.Since(start)
	t.Logf("full matrix: %d workload pairs evaluated, %d allowed, %d external ranges, in %v", len(m.Workloads)*(len(m.Workloads)-1), len(conns), len(ext), matrix.Round(time.Millisecond))
	if matrix > 10*time.Second {
		t.Errorf("full matrix took %v (target < 10 s)", matrix)
	}
	start = time.Now()
	for i := range 1000 {
		m.Allowed(m.Workloads[i%len(m.Workloads)], m.Workloads[(i*7+3)%len(m.Workloads)])
	}
	per := time.Since(start) / 1000
	t.Logf("can-reach: %v per pair; peak RSS %s", per, peakRSS())
	if per > 10*time.Millisecond {
		t.Errorf("can-reach took %v (target < 10 ms)", per)
	}
}

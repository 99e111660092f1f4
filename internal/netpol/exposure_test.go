package netpol

import (
	"bytes"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

func TestExposures(t *testing.T) {
	manifest := `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 8080}]}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop}
spec:
  template:
    metadata: {labels: {app: api}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: db, namespace: shop}
spec:
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: Deployment
metadata: {name: open, namespace: shop}
spec:
  template:
    metadata: {labels: {app: open}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: web, namespace: shop}
spec:
  podSelector: {matchLabels: {app: web}}
  ingress:
  - from: [{ipBlock: {cidr: 0.0.0.0/0}}]
    ports: [{port: http}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: api, namespace: shop}
spec:
  podSelector: {matchLabels: {app: api}}
  ingress:
  - from: [{namespaceSelector: {}}]
    ports: [{port: 9000}]
  - from: [{ipBlock: {cidr: 203.0.113.0/24}}]
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress:
  - from: [{namespaceSelector: {matchLabels: {team: shop}}}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: shop}
spec: {type: LoadBalancer, selector: {app: web}, ports: [{port: 80, targetPort: http}]}
---
apiVersion: v1
kind: Service
metadata: {name: api, namespace: shop}
spec: {selector: {app: api}, ports: [{port: 80}]}
---
apiVersion: gateway.networking.k8s.io/v1
kind: HTTPRoute
metadata: {name: api, namespace: shop}
spec: {rules: [{backendRefs: [{name: api, port: 80}]}]}
`
	objs := source.ParseBytes("x.yaml", []byte(manifest)).Objects
	m := Build(objs)
	got := map[string]Exposure{}
	for _, e := range m.Exposures() {
		got[e.Workload.Name] = e
	}
	cases := []struct {
		name, anyNS, internet, via string
	}{
		{"web", "No Connections", "TCP 8080", "Service shop/web (LoadBalancer)"},  // ipBlock peers are for addresses outside the cluster, not pods
		{"api", "TCP 9000", "No Connections", "HTTPRoute shop/api → Service api"}, // one /24 is not the internet
		{"db", "No Connections", "No Connections", ""},                            // only labelled namespaces
		{"open", "All Connections", "All Connections", ""},                        // no policy
	}
	for _, tc := range cases {
		e := got[tc.name]
		if e.FromAnyNamespace.String() != tc.anyNS || e.FromInternet.String() != tc.internet || strings.Join(e.Via, "; ") != tc.via {
			t.Errorf("%s: any namespace %q, internet %q, via %q; want %q, %q, %q", tc.name, e.FromAnyNamespace, e.FromInternet, e.Via, tc.anyNS, tc.internet, tc.via)
		}
	}
	var out bytes.Buffer
	if err := WriteExposures(&out, "table", m.Exposures(), true); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(out.String(), "shop/db") || !strings.Contains(out.String(), "shop/open[Deployment]") {
		t.Errorf("exposed-only table:\n%s", out.String())
	}
}

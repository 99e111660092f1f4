package netpol

import (
	"bytes"
	"fmt"
	"maps"
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

// TestShapeClassesAgreeWithPairs: workloads of one shape are computed
// once per pair of shapes; the result equals asking every pair.
func TestShapeClassesAgreeWithPairs(t *testing.T) {
	var b strings.Builder
	for i, app := range []string{"web", "web", "web", "db", "db", "cache"} {
		fmt.Fprintf(&b, "---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d%d, namespace: shop}\nspec:\n  template:\n    metadata: {labels: {app: %s}}\n    spec: {containers: [{name: c, image: x, ports: [{name: http, containerPort: 80}]}]}\n", i, app)
	}
	b.WriteString("---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: db, namespace: shop}\nspec:\n  podSelector: {matchLabels: {app: db}}\n  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: http}]}]\n")
	m := Build(source.ParseBytes("x.yaml", []byte(b.String())).Objects)
	if _, n := m.shapeClasses(); n != 3 {
		t.Fatalf("%d shapes, want 3", n)
	}
	got := map[string]string{}
	for _, c := range m.Connections() {
		got[c.Src.Name+">"+c.Dst.Name] = c.Conns.String()
	}
	want := map[string]string{}
	for _, s := range m.Workloads {
		for _, d := range m.Workloads {
			if c := m.Allowed(s, d); s != d && !c.IsEmpty() {
				want[s.Name+">"+d.Name] = c.String()
			}
		}
	}
	if !maps.Equal(got, want) || got["d0>d3"] != "TCP 80" || got["d5>d3"] != "" {
		t.Errorf("classes %v\npairs   %v", got, want)
	}
}

func TestServiceOf(t *testing.T) {
	res := source.ParseBytes("s.yaml", []byte(`apiVersion: v1
kind: Service
metadata: {name: web}
spec: {type: NodePort, selector: {app: web}, ports: [{port: 80}]}
---
apiVersion: v1
kind: Service
metadata: {name: bad, namespace: shop}
spec: {selector: {app: [web]}}
---
apiVersion: v1
kind: ConfigMap
metadata: {name: web}
`))
	svc, ok := ServiceOf(res.Objects[0])
	if !ok || svc.Namespace != "default" || svc.Type != "NodePort" || svc.Selector["app"] != "web" || len(svc.Selector) != 1 {
		t.Errorf("ServiceOf = %+v, %v", svc, ok)
	}
	for _, o := range res.Objects[1:] {
		if svc, ok := ServiceOf(o); ok {
			t.Errorf("%s read as a Service: %+v", o, svc)
		}
	}
}

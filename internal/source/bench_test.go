package source

import (
	"bytes"
	"testing"
)

// benchManifest is a typical Deployment as found in real repositories.
var benchManifest = []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: shop
  labels:
    app.kubernetes.io/name: web
    app.kubernetes.io/version: 1.4.2
spec:
  replicas: 3
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
      annotations:
        prometheus.io/scrape: "true"
    spec:
      serviceAccountName: web
      securityContext:
        runAsNonRoot: true
        seccompProfile: {type: RuntimeDefault}
      containers:
      - name: web
        image: registry.example.com/web:1.4.2
        args: ["--port=8080", "--log-level=info"]
        ports:
        - containerPort: 8080
          name: http
        env:
        - name: DB_HOST
          value: db.shop.svc
        resources:
          requests: {cpu: 100m, memory: 128Mi}
          limits: {cpu: 500m, memory: 256Mi}
        readinessProbe:
          httpGet: {path: /healthz, port: http}
        securityContext:
          allowPrivilegeEscalation: false
          readOnlyRootFilesystem: true
          capabilities:
            drop: [ALL]
      volumes:
      - name: config
        configMap:
          name: web-config
---
apiVersion: v1
kind: ConfigMap
metadata:
  name: web-config
  namespace: shop
data:
  app.yaml: |
    listen: :8080
    features: [a, b]
`)

// BenchmarkParseBytes measures the loader on a typical file (fast path).
func BenchmarkParseBytes(b *testing.B) {
	b.SetBytes(int64(len(benchManifest)))
	for b.Loop() {
		if r := ParseBytes("bench.yaml", benchManifest); len(r.Objects) != 2 {
			b.Fatal(r.Errors)
		}
	}
}

// BenchmarkParseBytesYAMLv3 forces the yaml.v3 path (an anchor in a
// comment-free position makes the fast path fall back) for comparison.
func BenchmarkParseBytesYAMLv3(b *testing.B) {
	data := bytes.Replace(benchManifest, []byte("replicas: 3"), []byte("replicas: &r 3"), 1)
	b.SetBytes(int64(len(data)))
	for b.Loop() {
		if r := ParseBytes("bench.yaml", data); len(r.Objects) != 2 {
			b.Fatal(r.Errors)
		}
	}
}

// BenchmarkNewObject makes an object of a Deployment's document (its top
// level and metadata kept as a list) and reads it as the engine does.
func BenchmarkNewObject(b *testing.B) {
	body := map[string]any{"apiVersion": "apps/v1", "kind": "Deployment",
		"metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app": "web"}},
		"spec":     map[string]any{"replicas": int64(3)}}
	b.ReportAllocs()
	for b.Loop() {
		o := NewObject(body, Position{File: "bench.yaml", Line: 1}, -1)
		if o.Name() != "web" || o.Field("spec") == nil || o.MetadataField("labels") == nil {
			b.Fatal("wrong object")
		}
	}
}

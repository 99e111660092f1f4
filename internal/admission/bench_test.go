package admission

import (
	"bytes"
	"io"
	"net/http/httptest"
	"testing"

	"sigs.k8s.io/yaml"
)

// BenchmarkValidate is one admission decision for a realistic Deployment
// (decode, pod view, the whole catalogue, response).
func BenchmarkValidate(b *testing.B) {
	r := reviewer(b, "")
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata: {name: api, namespace: shop, labels: {app: api}}
spec:
  replicas: 3
  selector: {matchLabels: {app: api}}
  template:
    metadata: {labels: {app: api}}
    spec:
      serviceAccountName: api
      securityContext: {seccompProfile: {type: RuntimeDefault}}
      containers:
      - name: main
        image: registry.example.com/api:1.4.2
        ports: [{containerPort: 8080}]
        env: [{name: LOG_LEVEL, value: info}]
        securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, runAsNonRoot: true, capabilities: {drop: [ALL]}}
        resources: {requests: {cpu: 100m, memory: 128Mi}, limits: {cpu: 500m, memory: 256Mi}}
      - name: sidecar
        image: registry.example.com/proxy:2.1
        securityContext: {privileged: true}
`
	if _, err := yaml.YAMLToJSON([]byte(deployment)); err != nil {
		b.Fatal(err)
	}
	req := request(b, deployment)
	b.ReportAllocs()
	for b.Loop() {
		r.Validate(b.Context(), req)
	}
}

// BenchmarkHandler is one /validate round trip through the HTTP handler
// (no TLS, no network): decoding, deciding, encoding, metrics.
func BenchmarkHandler(b *testing.B) {
	r := reviewer(b, "")
	srv := &Server{opts: ServerOptions{}, reviewer: r, metrics: r.metrics, log: r.log}
	srv.opts.defaults()
	srv.slots = make(chan struct{}, srv.opts.MaxInFlight)
	h := srv.Handler()
	body := reviewBody(b, request(b, privilegedPod))
	b.ReportAllocs()
	for b.Loop() {
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest("POST", "/validate", bytes.NewReader(body)))
		if w.Code != 200 {
			b.Fatal(w.Code)
		}
	}
}

// BenchmarkServerTLS is /validate over loopback TLS with keep-alive
// connections, clients in the same process (profile the server side
// with -cpuprofile).
func BenchmarkServerTLS(b *testing.B) {
	r := reviewer(b, "")
	url, client, _, _ := startServer(b, r, ServerOptions{})
	body := reviewBody(b, request(b, hardenedPod))
	b.ReportAllocs()
	b.SetParallelism(8)
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			resp, err := client.Post(url+"/validate", "application/json", bytes.NewReader(body))
			if err != nil {
				b.Error(err)
				return
			}
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
		}
	})
}

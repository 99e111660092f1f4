package checks

import (
	"context"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
)

const benchWorkload = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: web
        image: nginx:latest
        securityContext: {privileged: true, capabilities: {add: [NET_ADMIN]}}
      - name: sidecar
        image: envoy:1.30
`

// BenchmarkEvaluateWorkload runs the whole catalogue on one insecure
// Deployment (most checks fire, so finding construction is included).
func BenchmarkEvaluateWorkload(b *testing.B) {
	reg, err := Registry()
	if err != nil {
		b.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{})
	if err != nil {
		b.Fatal(err)
	}
	res := source.ParseBytes("bench.yaml", []byte(benchWorkload))
	env := check.NewEnv(inventory.Build(res.Objects), check.Settings{})
	obj := res.Objects[0]
	for b.Loop() {
		if out := runner.EvaluateObject(env, obj); len(out.Findings) == 0 {
			b.Fatal("no findings")
		}
	}
}

// BenchmarkRunInventory evaluates 1,000 objects in parallel.
func BenchmarkRunInventory(b *testing.B) {
	reg, _ := Registry()
	runner, _ := check.NewRunner(reg, check.Options{})
	var objs []*source.Object
	for range 1000 {
		objs = append(objs, source.ParseBytes("bench.yaml", []byte(benchWorkload)).Objects...)
	}
	env := check.NewEnv(inventory.Build(objs), check.Settings{})
	b.ResetTimer()
	for b.Loop() {
		if _, err := runner.Run(context.Background(), env); err != nil {
			b.Fatal(err)
		}
	}
}

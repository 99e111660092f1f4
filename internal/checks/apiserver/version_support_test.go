package apiserver

import (
	"context"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

func TestVersionSupport(t *testing.T) {
	reg, err := check.NewRegistry(versionSupport())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := check.NewRunner(reg, check.Options{})
	cases := map[string][]check.Severity{
		"v1.37.2":          nil,
		"v1.35.0":          nil,
		"v1.34.9":          {check.High},
		"v1.33.4-eks-1234": {check.High},
		"v1.31.0+k3s1":     {check.Critical},
		"garbage":          nil,
		"":                 nil,
	}
	for version, want := range cases {
		env := check.NewEnv(inventory.Build(nil), check.Settings{})
		env.Cluster = &check.ClusterFacts{Host: "https://k", Version: version}
		out, err := r.Run(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) != len(want) {
			t.Errorf("%q: %d findings, want %d", version, len(out.Findings), len(want))
			continue
		}
		for i, f := range out.Findings {
			if f.Severity != want[i] {
				t.Errorf("%q: severity %s, want %s", version, f.Severity, want[i])
			}
		}
	}
}

package apiserver

import (
	"context"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

func TestAnonymousAccess(t *testing.T) {
	reg, err := check.NewRegistry(anonymousAccess())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := check.NewRunner(reg, check.Options{})
	cases := []struct {
		name  string
		facts *check.ClusterFacts
		want  []check.Severity
	}{
		{"files: no live cluster, nothing to say", nil, nil},
		{"anonymous refused (401) and nothing granted", &check.ClusterFacts{Host: "https://k"}, nil},
		{"anonymous authenticated", &check.ClusterFacts{Host: "https://k", AnonymousAuthenticated: true}, []check.Severity{check.Medium}},
		{"anonymous may list pods", &check.ClusterFacts{Host: "https://k", AnonymousAuthenticated: true, AnonymousAllowed: []string{"list pods"}},
			[]check.Severity{check.Critical, check.Medium}},
	}
	for _, tc := range cases {
		env := check.NewEnv(inventory.Build(nil), check.Settings{})
		env.Cluster = tc.facts
		out, err := r.Run(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		var got []check.Severity
		for _, f := range out.Findings {
			got = append(got, f.Severity)
			if f.Object.Kind != "Cluster" || f.Object.Name != "https://k" {
				t.Errorf("%s: finding about %+v", tc.name, f.Object)
			}
		}
		if len(got) != len(tc.want) {
			t.Fatalf("%s: severities %v, want %v", tc.name, got, tc.want)
		}
		for i := range got {
			if got[i] != tc.want[i] {
				t.Errorf("%s: severities %v, want %v", tc.name, got, tc.want)
			}
		}
	}
}

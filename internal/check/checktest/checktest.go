// Package checktest runs catalogue checks on inline manifests, for the
// table tests of the check packages.
package checktest

import (
	"context"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Run evaluates checks (with opts) on the objects of manifest and returns
// the findings. A manifest that does not load fails the test.
func Run(t testing.TB, checks []*check.Check, opts check.Options, manifest string) []check.Finding {
	t.Helper()
	return run(t, checks, opts, manifest, nil)
}

// RunCluster is Run with the objects presented as a live cluster's (a
// cluster at 127.0.0.1 with no further facts), for checks that report only
// on live clusters and snapshots. Findings on the cluster itself are left
// out.
func RunCluster(t testing.TB, checks []*check.Check, opts check.Options, manifest string) []check.Finding {
	t.Helper()
	var findings []check.Finding
	for _, f := range run(t, checks, opts, manifest, &check.ClusterFacts{Host: "https://127.0.0.1"}) {
		if f.Object.Kind != "Cluster" {
			findings = append(findings, f)
		}
	}
	return findings
}

func run(t testing.TB, checks []*check.Check, opts check.Options, manifest string, cluster *check.ClusterFacts) []check.Finding {
	t.Helper()
	reg, err := check.NewRegistry(checks...)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := check.NewRunner(reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	res := source.ParseBytes("case.yaml", []byte(manifest))
	if len(res.Errors) > 0 {
		t.Fatalf("manifest does not load: %v", res.Errors)
	}
	env := check.NewEnv(inventory.Build(res.Objects), check.Settings{})
	env.Cluster = cluster
	env.Node = nodeconfig.FromObjects(res.Objects) // as scan does
	out, err := runner.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}

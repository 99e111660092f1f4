package apiserver

import (
	"context"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
)

// evaluate runs c on the objects of manifest.
func evaluate(t *testing.T, c *check.Check, manifest string) []check.Finding {
	t.Helper()
	reg, err := check.NewRegistry(c)
	if err != nil {
		t.Fatal(err)
	}
	r, err := check.NewRunner(reg, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	res := source.ParseBytes("test.yaml", []byte(manifest))
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	out, _, err := r.Evaluate(context.Background(), res.Objects, check.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}

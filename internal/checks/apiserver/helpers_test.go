package apiserver

import (
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
)

// evaluate runs c on the objects of manifest.
func evaluate(t *testing.T, c *check.Check, manifest string) []check.Finding {
	t.Helper()
	return checktest.Run(t, []*check.Check{c}, check.Options{}, manifest)
}

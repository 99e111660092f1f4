package testcluster

import (
	"context"
	"log/slog"
	"os"
	"testing"
)

// TestEnsureBinariesBuild is run by hand to prebuild: go test ./internal/testcluster -run TestEnsureBinariesBuild
func TestEnsureBinariesBuild(t *testing.T) {
	if os.Getenv("KUBEHARDEN_PREBUILD") == "" {
		t.Skip("set KUBEHARDEN_PREBUILD=1")
	}
	b, err := EnsureBinaries(context.Background(), slog.Default())
	if err != nil {
		t.Fatal(err)
	}
	t.Log(b)
}

package main

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// releaseTags are the build tags the README gives for a release binary.
const releaseTags = "kustomize_disable_go_plugin_support"

// TestReleaseBuildHasNoPluginPackage guards the release build: when Go's
// plugin package is linked, the linker exports every symbol and keeps every
// method of every reachable type, which made the binary a fifth larger
// (123 MB against 96 MB) and its start a few MB heavier. Only kustomize
// imports it, and the tag turns that import off; a new dependency
// importing plugin would undo it silently.
func TestReleaseBuildHasNoPluginPackage(t *testing.T) {
	if _, err := exec.LookPath("go"); err != nil {
		t.Skip("no go command on PATH")
	}
	out, err := exec.Command("go", "list", "-tags", releaseTags, "-deps", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	deps := strings.Fields(string(out))
	if len(deps) < 100 {
		t.Fatalf("go list -deps gave %d packages; want the whole dependency graph", len(deps))
	}
	if slices.Contains(deps, "plugin") {
		t.Fatal(`the release build links Go's "plugin" package; find the importer with go list -deps -f '{{.ImportPath}}: {{.Imports}}' and keep it out`)
	}
}

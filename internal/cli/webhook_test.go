package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestWebhookManifestsScanClean(t *testing.T) {
	image := "registry.example.com/kubeharden@sha256:" + strings.Repeat("ab", 32)
	for _, extra := range [][]string{nil, {"--mutate"}, {"--mutate", "--read-rbac"}} {
		args := append([]string{"webhook", "manifests", "-n", "kubeharden", "--image", image}, extra...)
		r := run(t, "", args...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
		}
		for _, want := range []string{"kind: ValidatingWebhookConfiguration", "failurePolicy: Fail", "sideEffects: None", "matchConditions:", "cert-manager.io/inject-ca-from: kubeharden/kubeharden-webhook", "kind: Deployment", "readOnlyRootFilesystem: true"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: manifests lack %q", extra, want)
			}
		}
		if (len(extra) > 0) != strings.Contains(r.stdout, "kind: MutatingWebhookConfiguration") {
			t.Errorf("%v: mutating webhook presence", extra)
		}
		file := filepath.Join(t.TempDir(), "webhook.yaml")
		if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		scan := run(t, "", "scan", file)
		if scan.code != ExitOK || !strings.Contains(scan.stdout, "No findings.") {
			t.Errorf("%v: the generated manifests do not scan clean:\n%s%s", extra, scan.stdout, scan.stderr)
		}
	}
}

func TestWebhookUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("denyAt: high\nrulez: []\n"), 0o644)
	for _, args := range [][]string{
		{"webhook", "manifests", "--image", "x"},
		{"webhook", "manifests", "-n", "k"},
		{"webhook", "manifests", "-n", "k", "--image", "x", "--failure-policy", "Maybe"},
		{"webhook", "manifests", "-n", "k", "--image", "x", "--timeout-seconds", "60"},
		{"webhook", "serve"},
		{"webhook", "serve", "--tls-cert", "c", "--tls-key", "k", "--config", bad},
		{"webhook", "serve", "--tls-cert", "missing.crt", "--tls-key", "missing.key"},
	} {
		if r := run(t, "", args...); r.code != ExitError || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

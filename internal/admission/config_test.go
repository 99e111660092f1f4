package admission

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestLoadConfig(t *testing.T) {
	defaults, err := LoadConfig("")
	if err != nil || defaults.DenyAt != "high" {
		t.Fatalf("defaults: %+v, %v", defaults, err)
	}
	dir := t.TempDir()
	for name, tc := range map[string]struct {
		yaml, err string
	}{
		"full":          {"apiVersion: kubeharden.io/v1alpha1\nkind: WebhookConfiguration\ndenyAt: critical\nrules: [{namespaces: [dev-*], mode: warn}]\nexempt: {serviceAccounts: ['ci:bot']}\n", ""},
		"unknown field": {"denyAt: high\nrulez: []\n", "rulez"},
		"bad mode":      {"rules: [{mode: block}]\n", "want enforce, warn or audit"},
		"bad severity":  {"denyAt: severe\n", "denyAt"},
		"bad glob":      {"rules: [{namespaces: ['[a'], mode: warn}]\n", "namespaces"},
		"bad account":   {"exempt: {serviceAccounts: [bot]}\n", "NAMESPACE:NAME"},
		"wrong kind":    {"kind: Policy\n", "WebhookConfiguration"},
		"wrong version": {"apiVersion: v1\n", "kubeharden.io/v1alpha1"},
	} {
		file := filepath.Join(dir, name+".yaml")
		if err := os.WriteFile(file, []byte(tc.yaml), 0o644); err != nil {
			t.Fatal(err)
		}
		_, err := LoadConfig(file)
		switch {
		case tc.err == "" && err != nil:
			t.Errorf("%s: %v", name, err)
		case tc.err != "" && (err == nil || !strings.Contains(err.Error(), tc.err) || !strings.Contains(err.Error(), file)):
			t.Errorf("%s: error %v, want one naming the file and %q", name, err, tc.err)
		}
	}
	if _, err := LoadConfig(filepath.Join(dir, "missing.yaml")); err == nil {
		t.Error("a missing file is an error")
	}
}

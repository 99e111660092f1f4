package accesscontrol

import (
	"os"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
	sigyaml "sigs.k8s.io/yaml"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
)

// peerMapping reads the peers' risk-rule table of docs/rbac.md: tool and
// rule to check ("—" when none).
func peerMapping(t *testing.T) map[[2]string]string {
	t.Helper()
	doc, err := os.ReadFile("../../../docs/rbac.md")
	if err != nil {
		t.Fatal(err)
	}
	m := map[[2]string]string{}
	for _, line := range strings.Split(string(doc), "\n") {
		cells := strings.Split(line, "|")
		if len(cells) != 6 || (strings.TrimSpace(cells[1]) != "krane" && strings.TrimSpace(cells[1]) != "rbac-tool") {
			continue
		}
		m[[2]string{strings.TrimSpace(cells[1]), strings.TrimSpace(cells[2])}] = strings.TrimSpace(cells[3])
	}
	return m
}

// TestPeerRiskRules proves the mapping in docs/rbac.md: every rule of
// krane and rbac-tool is in the table with a real check (or a reason),
// and every krane risky-role rule, granted by a role, trips its check.
func TestPeerRiskRules(t *testing.T) {
	const corpus = "../../../../shared/corpus/conformance/rbac"
	kraneRules, err := os.ReadFile(corpus + "/krane/rules.yaml")
	if err != nil {
		t.Skipf("../shared corpus not present: %v", err)
	}
	mapping := peerMapping(t)
	ids := map[string]bool{}
	for _, c := range all(t) {
		ids[c.ID] = true
	}
	var krane struct {
		Rules []struct {
			ID       string           `yaml:"id"`
			Template string           `yaml:"template"`
			Disabled bool             `yaml:"disabled"`
			Raw      []map[string]any `yaml:"match_rules"`
		} `yaml:"rules"`
	}
	if err := yaml.Unmarshal(kraneRules, &krane); err != nil {
		t.Fatal(err)
	}
	tested := 0
	for _, r := range krane.Rules {
		if r.Disabled {
			continue
		}
		want, ok := mapping[[2]string{"krane", r.ID}]
		if !ok {
			t.Errorf("krane rule %s is not in docs/rbac.md", r.ID)
			continue
		}
		if want == "—" {
			continue
		}
		if !ids[want] {
			t.Errorf("krane rule %s maps to unknown check %q", r.ID, want)
			continue
		}
		if r.Template != "risky-role" {
			continue
		}
		rules, err := sigyaml.Marshal(r.Raw)
		if err != nil {
			t.Fatal(err)
		}
		manifest := "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: peer}\nrules:\n" + string(rules)
		findings := checktest.Run(t, all(t), check.Options{}, manifest)
		if len(byCheck(findings, want)) == 0 {
			t.Errorf("krane %s: a role granting %s does not trip %s", r.ID, strings.TrimSpace(string(rules)), want)
		}
		tested++
	}
	rbacTool, err := os.ReadFile(corpus + "/rbac-tool/pkg/analysis/default-rules.yaml")
	if err != nil {
		t.Fatal(err)
	}
	var tool struct {
		Rules []struct {
			Name string `yaml:"Name"`
		} `yaml:"Rules"`
	}
	if err := yaml.Unmarshal(rbacTool, &tool); err != nil {
		t.Fatal(err)
	}
	for _, r := range tool.Rules {
		want, ok := mapping[[2]string{"rbac-tool", r.Name}]
		switch {
		case !ok:
			t.Errorf("rbac-tool rule %q is not in docs/rbac.md", r.Name)
		case want != "—" && !ids[want]:
			t.Errorf("rbac-tool rule %q maps to unknown check %q", r.Name, want)
		}
	}
	t.Logf("%d krane risky-role rules trip their check; %d krane and %d rbac-tool rules mapped", tested, len(krane.Rules)-1, len(tool.Rules))
}

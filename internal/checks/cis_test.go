package checks

import (
	"encoding/csv"
	"flag"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the CIS coverage table in docs/cis.md")

const cisCatalogue = "../../../shared/corpus/conformance/kube-bench/cis-1.12-checks.csv"

// cisGuidance says, for each benchmark item no check decides, why and
// what to do instead. Every item of CIS 1.12 is either a check's
// framework id or here.
var cisGuidance = map[string]string{
	"1.3.1": "Manual: the right --terminated-pod-gc-threshold depends on cluster size (the default, 12500, suits most); review it by hand.",
	"3.1.1": "Manual: whether people hold client certificates is not in any configuration; prefer OIDC (`--oidc-*` or an AuthenticationConfiguration) for users and keep certificates for components.",
	"3.1.2": "Manual: service account tokens used by people are indistinguishable from workloads' in configuration; `kubeharden rbac who-can` and the audit log show which accounts act interactively.",
	"3.1.3": "Manual: bootstrap tokens are for node joining; check `kubectl -n kube-system get secrets --field-selector type=bootstrap.kubernetes.io/token` for long-lived ones.",
	"4.2.8": "Manual: the benchmark accepts any eventRecordQPS of 0 or more; the right rate is a judgement on event volume, so no check fires.",
	"5.1.7": "Manual: system:masters membership lives in issued certificates, not in objects; issue administrator certificates with other groups and bind RBAC to them.",
	"5.3.1": "Manual: whether the CNI plugin enforces NetworkPolicy is a property of the plugin; `kubeharden netpol` evaluates the policies as the API defines them.",
	"5.4.1": "Not yet a check: Secrets referenced from environment variables (secretKeyRef, envFrom) are decidable from manifests and planned.",
	"5.4.2": "Manual: external secret storage is an architecture decision.",
	"5.5.1": "Manual: image provenance is checked by the supply-chain checks and signatures, not by ImagePolicyWebhook configuration.",
	"5.6.1": "Manual: namespace boundaries follow the organisation.",
	"5.6.4": "Not yet a check: workloads in the default namespace are decidable from manifests and planned.",
}

// TestCISCoverage: every Automated item of CIS Kubernetes Benchmark 1.12
// sections 1, 2 and 4 (65) has a check, every other item has a check or
// guidance, and docs/cis.md's coverage table is current (-update rewrites
// it).
func TestCISCoverage(t *testing.T) {
	f, err := os.Open(cisCatalogue)
	if err != nil {
		t.Skipf("../shared corpus not present (%v): coverage is measured against the kube-bench catalogue there", err)
	}
	defer f.Close()
	rows, err := csv.NewReader(f).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string][]string{}
	for _, c := range reg.Checks() {
		for _, id := range c.Frameworks.CIS {
			byID[id] = append(byID[id], c.ID)
		}
	}
	var table strings.Builder
	table.WriteString("| CIS 1.12 | assessment | kubeharden check | note |\n| --- | --- | --- | --- |\n")
	automated, covered, decided := 0, 0, 0
	for _, row := range rows[1:] {
		id, assessment := row[0], row[3]
		checks := byID[id]
		slices.Sort(checks)
		if assessment == "Automated" && strings.IndexAny(id[:1], "124") == 0 {
			automated++
			if len(checks) > 0 {
				covered++
			} else {
				t.Errorf("automated CIS %s has no check", id)
			}
		}
		note := cisGuidance[id]
		switch {
		case len(checks) > 0 && note != "":
			t.Errorf("CIS %s has checks %v and guidance: drop the guidance", id, checks)
		case len(checks) == 0 && note == "":
			t.Errorf("CIS %s has neither a check nor guidance", id)
		case len(checks) > 0:
			decided++
		}
		names := make([]string, len(checks))
		for i, c := range checks {
			names[i] = "`" + c + "`"
		}
		fmt.Fprintf(&table, "| %s | %s | %s | %s |\n", id, assessment, strings.Join(names, ", "), note)
	}
	for id := range cisGuidance {
		if !slices.ContainsFunc(rows, func(r []string) bool { return r[0] == id }) {
			t.Errorf("guidance for %s, which is not a CIS 1.12 item", id)
		}
	}
	t.Logf("CIS 1.12: %d of %d automated items in sections 1, 2 and 4 have checks; %d of %d items in all are decided by a check", covered, automated, decided, len(rows)-1)

	const doc = "../../docs/cis.md"
	const begin, end = "<!-- coverage:begin -->\n", "<!-- coverage:end -->"
	data, err := os.ReadFile(doc)
	if err != nil {
		t.Fatal(err)
	}
	text := string(data)
	i, j := strings.Index(text, begin), strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the coverage markers", doc)
	}
	current := text[i+len(begin) : j]
	if current == table.String() {
		return
	}
	if !*update {
		t.Fatalf("%s coverage table is out of date: go test ./internal/checks -run TestCISCoverage -update", doc)
	}
	if err := os.WriteFile(doc, []byte(text[:i+len(begin)]+table.String()+text[j:]), 0o644); err != nil {
		t.Fatal(err)
	}
}

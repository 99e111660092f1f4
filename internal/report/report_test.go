package report

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

func sampleChecks() []*check.Check {
	return []*check.Check{
		{Metadata: check.Metadata{ID: "privileged-container", Title: "Privileged container", Severity: check.Critical, Category: check.Workload,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.2"}, PSS: []string{"privileged"}, MITRE: []string{"T1611"}},
			Description: "A privileged container is root on the node.", Remediation: "Set privileged to false."}},
		{Metadata: check.Metadata{ID: "image-tag-latest", Title: "Image tag missing or latest", Severity: check.Medium, Category: check.SupplyChain,
			Description: "Mutable tags change under the workload.", Remediation: "Use an immutable tag."}},
		{Metadata: check.Metadata{ID: "cpu-limit-missing", Title: "No CPU limit", Severity: check.Low, Category: check.Workload,
			Description: "Without a CPU limit a container can take every core.", Remediation: "Set resources.limits.cpu."}},
	}
}

func sampleReport() *Report {
	web := check.ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	job := check.ObjectRef{APIVersion: "batch/v1", Kind: "CronJob", Namespace: "shop", Name: "backup"}
	f := func(id string, sev check.Severity, cat check.Category, obj check.ObjectRef, container, path, file string, line int, msg, fix string, fw check.Frameworks) check.Finding {
		return check.Finding{Rule: &check.Rule{Check: id, Severity: sev, Category: cat, Remediation: fix, Frameworks: &fw}, Object: &obj, Container: container, Path: path,
			Source: check.Source{File: file, Line: line}, Message: msg}
	}
	findings := []check.Finding{
		f("privileged-container", check.Critical, check.Workload, web, "nginx", "spec.template.spec.containers[0].securityContext.privileged", "k8s/web.yaml", 1,
			`privileged: container "nginx" must not set securityContext.privileged=true`, "Set privileged to false.",
			check.Frameworks{CIS: []string{"5.2.2"}, PSS: []string{"privileged"}, MITRE: []string{"T1611"}}),
		f("image-tag-latest", check.Medium, check.SupplyChain, web, "nginx", "spec.template.spec.containers[0].image", "k8s/web.yaml", 1,
			`container "nginx" image "nginx:latest" uses the mutable tag latest`, "Use an immutable tag.", check.Frameworks{}),
		f("cpu-limit-missing", check.Low, check.Workload, job, "backup", "spec.jobTemplate.spec.template.spec.containers[0].resources.limits.cpu", "k8s/backup.yaml", 3,
			`container "backup" has no cpu limit (resources.limits.cpu) | <pipes> & such`, "Set resources.limits.cpu.", check.Frameworks{}),
	}
	errs := []Error{{Source: "k8s/broken.yaml:4", Message: "invalid YAML at line 5: did not find expected key"}}
	return New("test", 7, check.Findings{findings}, errs, sampleChecks())
}

func TestGolden(t *testing.T) {
	cases := []struct {
		name   string
		format Format
		opts   Options
	}{
		{"table.golden", Table, Options{}},
		{"table-color.golden", Table, Options{Color: true}},
		{"report.json.golden", JSON, Options{}},
		{"report.sarif.golden", SARIF, Options{}},
		{"report.junit.golden", JUnit, Options{}},
		{"report.md.golden", Markdown, Options{}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, tc.format, sampleReport(), tc.opts); err != nil {
				t.Fatal(err)
			}
			golden(t, tc.name, buf.Bytes())
		})
	}
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/report -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (go test ./internal/report -update to accept):\n--- got\n%s\n--- want\n%s", name, got, want)
	}
}

// TestJSONSchema checks the JSON report against the documented
// kubeharden.io/report/v1 shape, field by field.
func TestJSONSchema(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, JSON, sampleReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(buf.Bytes(), &doc); err != nil {
		t.Fatalf("not JSON: %v", err)
	}
	keys := func(m map[string]any) string {
		var ks []string
		for k := range m {
			ks = append(ks, k)
		}
		return strings.Join(sortStrings(ks), ",")
	}
	if got := keys(doc); got != "errors,findings,schemaVersion,summary,tool" {
		t.Errorf("top-level keys = %s", got)
	}
	if doc["schemaVersion"] != "kubeharden.io/report/v1" {
		t.Errorf("schemaVersion = %v", doc["schemaVersion"])
	}
	summary := doc["summary"].(map[string]any)
	if got := keys(summary["bySeverity"].(map[string]any)); got != "critical,high,info,low,medium" {
		t.Errorf("bySeverity keys = %s", got)
	}
	if summary["objects"].(float64) != 7 || summary["findings"].(float64) != 3 {
		t.Errorf("summary = %v", summary)
	}
	f := doc["findings"].([]any)[0].(map[string]any)
	if got := keys(f); got != "category,check,container,fingerprint,frameworks,message,object,path,remediation,severity,source" {
		t.Errorf("finding keys = %s", got)
	}
	if got := keys(f["object"].(map[string]any)); got != "apiVersion,kind,name,namespace" {
		t.Errorf("object keys = %s", got)
	}
	if got := keys(f["source"].(map[string]any)); got != "file,line" {
		t.Errorf("source keys = %s", got)
	}
	if f["severity"] != "critical" || f["category"] != "workload" {
		t.Errorf("severity/category = %v/%v", f["severity"], f["category"])
	}
	e := doc["errors"].([]any)[0].(map[string]any)
	if got := keys(e); got != "message,source" {
		t.Errorf("error keys = %s", got)
	}
	// An empty report still has empty arrays, never null.
	buf.Reset()
	if err := Write(&buf, JSON, New("test", 0, nil, nil, nil), Options{}); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(buf.String(), `"findings": []`) || !strings.Contains(buf.String(), `"errors": []`) {
		t.Errorf("empty report:\n%s", buf.String())
	}
}

func sortStrings(s []string) []string {
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s
}

func TestSARIFShape(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, SARIF, sampleReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Version string `json:"version"`
		Runs    []struct {
			Tool struct {
				Driver struct {
					Rules []struct {
						ID         string `json:"id"`
						Properties struct {
							SecuritySeverity string `json:"security-severity"`
						} `json:"properties"`
					} `json:"rules"`
				} `json:"driver"`
			} `json:"tool"`
			Results []struct {
				RuleID    string `json:"ruleId"`
				RuleIndex int    `json:"ruleIndex"`
				Level     string `json:"level"`
				Locations []struct {
					PhysicalLocation struct {
						ArtifactLocation struct{ URI string }    `json:"artifactLocation"`
						Region           struct{ StartLine int } `json:"region"`
					} `json:"physicalLocation"`
				} `json:"locations"`
				PartialFingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(buf.Bytes(), &log); err != nil {
		t.Fatal(err)
	}
	if log.Version != "2.1.0" || len(log.Runs) != 1 {
		t.Fatalf("version %s, %d runs", log.Version, len(log.Runs))
	}
	run := log.Runs[0]
	if len(run.Tool.Driver.Rules) != 3 || len(run.Results) != 3 {
		t.Fatalf("%d rules, %d results", len(run.Tool.Driver.Rules), len(run.Results))
	}
	for _, r := range run.Results {
		rule := run.Tool.Driver.Rules[r.RuleIndex]
		if rule.ID != r.RuleID {
			t.Errorf("result %s points at rule %s", r.RuleID, rule.ID)
		}
		loc := r.Locations[0].PhysicalLocation
		if loc.ArtifactLocation.URI == "" || loc.Region.StartLine == 0 {
			t.Errorf("result %s has no physical location: %+v", r.RuleID, loc)
		}
		if r.PartialFingerprints["kubeharden/v1"] == "" {
			t.Errorf("result %s has no fingerprint", r.RuleID)
		}
	}
	if run.Results[0].Level != "error" || run.Tool.Driver.Rules[0].Properties.SecuritySeverity != "9.5" {
		t.Errorf("critical finding: level %s, security-severity %s", run.Results[0].Level, run.Tool.Driver.Rules[0].Properties.SecuritySeverity)
	}
}

func TestJUnitIsValidXML(t *testing.T) {
	var buf bytes.Buffer
	if err := Write(&buf, JUnit, sampleReport(), Options{}); err != nil {
		t.Fatal(err)
	}
	var suites junitSuites
	if err := xml.Unmarshal(buf.Bytes(), &suites); err != nil {
		t.Fatal(err)
	}
	// 3 checks (2 with one finding each, the low one with one) + inputs.
	if suites.Tests != 4 || suites.Failures != 3 || suites.Errors != 1 {
		t.Errorf("tests=%d failures=%d errors=%d", suites.Tests, suites.Failures, suites.Errors)
	}
}

func TestCatalogueFormats(t *testing.T) {
	for _, f := range []Format{Table, JSON, Markdown} {
		var buf bytes.Buffer
		if err := WriteCatalogue(&buf, f, sampleChecks()); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if !strings.Contains(buf.String(), "privileged-container") {
			t.Errorf("%s catalogue lacks a check:\n%s", f, buf.String())
		}
	}
	if err := WriteCatalogue(&bytes.Buffer{}, SARIF, sampleChecks()); err == nil {
		t.Error("catalogue as SARIF should be refused")
	}
	golden(t, "catalogue.md.golden", func() []byte {
		var buf bytes.Buffer
		_ = WriteCatalogue(&buf, Markdown, sampleChecks())
		return buf.Bytes()
	}())
}

// TestJSONMatchesEncodingJSON: the streaming writer must produce exactly
// what encoding/json produces for the same report.
func TestJSONMatchesEncodingJSON(t *testing.T) {
	rep := sampleReport()
	odd := check.Finding{
		Rule:    &check.Rule{Check: "x", Severity: check.Info, Category: check.Secrets, Frameworks: &check.Frameworks{}},
		Object:  &check.ObjectRef{APIVersion: "v1", Kind: "Secret", Name: "tab\there \"quoted\" back\\slash \u2028 ünï <&> \x01 \b\f"},
		Message: "line1\nline2\r\u00e9\U0001F600 \xff invalid",
		Source:  check.Source{File: "-"},
	}
	// A second part: the writers read findings across parts.
	rep.Findings = append(rep.Findings, []check.Finding{odd, {Rule: &check.Rule{Check: "y", Severity: check.Low, Category: check.Workload}, Object: &check.ObjectRef{Kind: "K", Name: "n"}}})
	if got, want := streamedAndEncoded(t, rep); got != want {
		t.Errorf("streamed JSON differs from encoding/json:\n--- got\n%s\n--- want\n%s", got, want)
	}
}

// streamedAndEncoded returns the report as the JSON writer streams it, and
// as encoding/json encodes it with two-space indentation and HTML escaping
// off (which the writer promises to match).
func streamedAndEncoded(t *testing.T, rep *Report) (streamed, encoded string) {
	t.Helper()
	var got bytes.Buffer
	if err := Write(&got, JSON, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	enc := json.NewEncoder(&want)
	enc.SetEscapeHTML(false)
	enc.SetIndent("", "  ")
	if err := enc.Encode(rep); err != nil {
		t.Fatal(err)
	}
	return got.String(), want.String()
}

// FuzzAppendString: the streaming encoders quote every string exactly as
// encoding/json does with HTML escaping off.
func FuzzAppendString(f *testing.F) {
	for _, s := range []string{"", "plain", `quote " and \ backslash`, "tab\there", "<b>&</b>", "é ünïcode", "\xff invalid", "\u2028", `\"\\"`, "end\\"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		want, err := marshalCompact(s)
		if err != nil {
			t.Fatal(err)
		}
		if got := appendString([]byte("prefix"), s); string(got) != "prefix"+string(want) {
			t.Errorf("appendString(%q) = %s, encoding/json %s", s, got[len("prefix"):], want)
		}
		// In parts cut between characters, as messages are written.
		for k := range s {
			if got := appendStrings(nil, s[:k], s[k:]); string(got) != string(want) {
				t.Errorf("appendStrings(%q, %q) = %s, encoding/json %s", s[:k], s[k:], got, want)
			}
		}
	})
}

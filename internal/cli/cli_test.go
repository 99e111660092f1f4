package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/report"
)

type result struct {
	code           int
	stdout, stderr string
}

func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(context.Background(), args, IO{In: strings.NewReader(stdin), Out: &out, Err: &errOut, Getenv: func(string) string { return "" }})
	return result{code: code, stdout: out.String(), stderr: errOut.String()}
}

// scanReport is a decoded -o json report with its findings in one slice.
type scanReport struct {
	report.Report
	Findings []check.Finding `json:"findings"` // shadows Report's parts
}

func jsonReport(t *testing.T, r result) scanReport {
	t.Helper()
	var rep scanReport
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("output is not a JSON report: %v\n%s\nstderr: %s", err, r.stdout, r.stderr)
	}
	return rep
}

func checkIDs(rep scanReport) map[string]int {
	ids := map[string]int{}
	for _, f := range rep.Findings {
		ids[f.Check]++
	}
	return ids
}

func TestScanExamples(t *testing.T) {
	insecure := run(t, "", "scan", "../../examples/insecure", "-o", "json")
	if insecure.code != ExitFindings {
		t.Fatalf("insecure example: exit %d, want %d; stderr %s", insecure.code, ExitFindings, insecure.stderr)
	}
	rep := jsonReport(t, insecure)
	ids := checkIDs(rep)
	catalogue := run(t, "", "checks", "-o", "json")
	var entries []struct {
		ID       string `json:"id"`
		Enabled  bool   `json:"enabledByDefault"`
		LiveOnly bool   `json:"liveClusterOnly"`
		NodeOnly bool   `json:"nodeOnly"`
	}
	if err := json.Unmarshal([]byte(catalogue.stdout), &entries); err != nil {
		t.Fatal(err)
	}
	// Node checks that exclude one another (one provider writes first; a
	// policy that records nothing cannot also leak) are each proven by
	// internal/checks TestNodeChecksFireAndStayQuiet.
	exclusive := map[string]string{
		"audit-policy-records-nothing": "the example's audit policy records too much",
		"encryption-weak-provider":     "the example's encryption config writes with identity",
		"encryption-aesgcm-rotation":   "the example's encryption config writes with identity",
		"kubelet-hostname-override":    "a kubelet flag; the example has the kubelet's config file",
	}
	for _, e := range entries {
		if e.Enabled && !e.LiveOnly && !e.NodeOnly && exclusive[e.ID] == "" && ids[e.ID] == 0 {
			t.Errorf("examples/insecure does not trip check %s", e.ID)
		}
	}

	hardened := run(t, "", "scan", "../../examples/hardened")
	if hardened.code != ExitOK || !strings.Contains(hardened.stdout, "No findings.") {
		t.Fatalf("hardened example: exit %d\n%s%s", hardened.code, hardened.stdout, hardened.stderr)
	}
	for _, format := range []string{"table", "json", "sarif", "junit", "markdown"} {
		if r := run(t, "", "scan", "../../examples/insecure", "-o", format, "--fail-on", "none"); r.code != ExitOK || r.stdout == "" {
			t.Errorf("-o %s: exit %d, %d bytes; %s", format, r.code, len(r.stdout), r.stderr)
		}
	}
}

// TestFieldLines: findings point at the line of the field they name
// (examples/insecure/web.yaml: privileged: true is on line 23, image on 17).
func TestFieldLines(t *testing.T) {
	rep := jsonReport(t, run(t, "", "scan", "../../examples/insecure/web.yaml", "-o", "json", "--fail-on", "none"))
	want := map[string]int{"privileged-container": 23, "image-tag-latest": 17, "host-ports": 19}
	for _, f := range rep.Findings {
		if line, ok := want[f.Check]; ok {
			if f.Source.Line != line {
				t.Errorf("%s at %+v, want line %d", f.Check, f.Source, line)
			}
			delete(want, f.Check)
		}
	}
	if len(want) > 0 {
		t.Errorf("findings missing: %v", want)
	}
	table := run(t, "", "scan", "../../examples/insecure/web.yaml", "--fail-on", "none")
	if !strings.Contains(table.stdout, "at spec.template.spec.containers[0].securityContext.privileged (line 23)") {
		t.Errorf("table does not show the field's line:\n%s", table.stdout)
	}
}

func TestFailOn(t *testing.T) {
	// backup.yaml's worst finding is medium; web.yaml has a critical one.
	cases := []struct {
		file, failOn string
		want         int
	}{
		{"backup.yaml", "high", ExitOK},
		{"backup.yaml", "medium", ExitFindings},
		{"backup.yaml", "none", ExitOK},
		{"web.yaml", "critical", ExitFindings},
		{"web.yaml", "none", ExitOK},
	}
	for _, tc := range cases {
		if r := run(t, "", "scan", "../../examples/insecure/"+tc.file, "--fail-on", tc.failOn); r.code != tc.want {
			t.Errorf("%s --fail-on %s: exit %d, want %d", tc.file, tc.failOn, r.code, tc.want)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"scan"},
		{"scan", ".", "-o", "yaml"},
		{"scan", ".", "--fail-on", "severe"},
		{"scan", ".", "--checks", "no-such-check"},
		{"scan", ".", "--categories", "nope"},
		{"scan", ".", "--pss-version", "v2"},
		{"scan", ".", "--pss-level", "privileged"},
		{"scan", ".", "--max-file-size", "lots"},
		{"scan", ".", "--no-such-flag"},
		{"checks", "-o", "sarif"},
	} {
		if r := run(t, "", args...); r.code != ExitError || !strings.Contains(r.stderr, "Error:") {
			t.Errorf("%v: exit %d, stderr %q; want exit 2 with an error", args, r.code, r.stderr)
		}
	}
}

// TestBadInput: every unreadable input is reported with its path, the
// rest is still scanned, and the exit code is 2.
// TestErrorMessages: errors say what is wrong with which input.
func TestErrorMessages(t *testing.T) {
	cases := []struct {
		args []string
		want string
	}{
		{[]string{"snapshot"}, "snapshot needs -o FILE"},
		{[]string{"snapshot", "-o", "x.json", "extra-arg"}, "unknown command"},
		{[]string{"scan", "--snapshot", "testdata/chart/values.yaml"}, "testdata/chart/values.yaml is not a kubeharden snapshot"},
		{[]string{"scan", "testdata/chart", "--kube-version", "not-a-version"}, "--kube-version"},
		{[]string{"scan", "--cluster", "--kubeconfig", "testdata/missing.kubeconfig"}, "missing.kubeconfig"},
	}
	for _, tc := range cases {
		r := run(t, "", tc.args...)
		if r.code != ExitError || !strings.Contains(r.stdout+r.stderr, tc.want) {
			t.Errorf("%v: exit %d, output %q; want exit 2 mentioning %q", tc.args, r.code, r.stdout+r.stderr, tc.want)
		}
	}
}

func TestBadInput(t *testing.T) {
	dir := t.TempDir()
	files := map[string]string{
		"good.yaml":      "apiVersion: v1\nkind: Pod\nmetadata: {name: good}\nspec:\n  containers:\n  - {name: c, image: 'x:1', securityContext: {privileged: true}}\n",
		"malformed.yaml": "apiVersion: v1\nkind: Pod\nmetadata:\n  name: [oops\n",
		"binary.yaml":    "\x00\x01\x02ELF\x00",
		"utf8.yaml":      "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xc3\x28}\n",
		"nested.json":    strings.Repeat(`{"a":`, 3000) + "1" + strings.Repeat("}", 3000),
		"nokind.yaml":    "apiVersion: v1\nmetadata: {name: nokind}\n",
		"big.yaml":       "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {x: '" + strings.Repeat("a", 100_000) + "'}\n",
		"unknown.yaml":   "apiVersion: example.com/v1\nkind: Gadget\nmetadata: {name: g}\n",
	}
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, "", "scan", dir, "-o", "json", "--max-file-size", "64Ki")
	if r.code != ExitError {
		t.Errorf("exit %d, want 2", r.code)
	}
	rep := jsonReport(t, r)
	if rep.Summary.Objects != 2 || checkIDs(rep)["privileged-container"] != 1 {
		t.Errorf("objects=%d findings=%v; want good.yaml and unknown.yaml scanned", rep.Summary.Objects, checkIDs(rep))
	}
	bad := []string{"malformed.yaml", "binary.yaml", "utf8.yaml", "nested.json", "nokind.yaml", "big.yaml"}
	if len(rep.Errors) != len(bad) {
		t.Errorf("errors = %+v, want one for each of %v", rep.Errors, bad)
	}
	for _, name := range bad {
		found := false
		for _, e := range rep.Errors {
			if strings.Contains(e.Source, name) && e.Message != "" {
				found = true
			}
		}
		if !found {
			t.Errorf("no error names %s: %+v", name, rep.Errors)
		}
	}
}

func TestStdin(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers: [{name: c, image: 'x:1'}]\n"
	r := run(t, pod, "scan", "-", "-o", "json")
	rep := jsonReport(t, r)
	if checkIDs(rep)["host-namespaces"] != 1 || rep.Findings[0].Source.File != "-" {
		t.Errorf("stdin scan: %+v", rep.Findings)
	}
}

func TestHelmChart(t *testing.T) {
	r := run(t, "", "scan", "testdata/chart", "-o", "json", "--fail-on", "none")
	rep := jsonReport(t, r)
	if len(rep.Errors) != 0 || rep.Summary.Objects != 1 {
		t.Fatalf("chart: %d objects, errors %+v", rep.Summary.Objects, rep.Errors)
	}
	if checkIDs(rep)["privileged-container"] != 0 {
		t.Errorf("default values are not privileged")
	}
	f := rep.Findings[0]
	if f.Object.Name != "release-demo" || f.Object.Namespace != "default" || f.Source.File != filepath.Join("testdata/chart", "templates", "deployment.yaml") {
		t.Errorf("rendered object or source wrong: %+v %+v", f.Object, f.Source)
	}

	r = run(t, "", "scan", "testdata/chart", "-o", "json", "--values", "testdata/chart/prod-values.yaml",
		"--set", "privileged=true", "--release-name", "shop", "--release-namespace", "prod")
	rep = jsonReport(t, r)
	if r.code != ExitFindings || checkIDs(rep)["privileged-container"] != 1 || rep.Findings[0].Object.Name != "shop-demo" || rep.Findings[0].Object.Namespace != "prod" {
		t.Errorf("--set privileged=true: exit %d, %+v", r.code, rep.Findings)
	}

	r = run(t, "", "scan", "testdata/chart", "--values", "testdata/chart/missing.yaml")
	if r.code != ExitError || !strings.Contains(r.stdout, "missing.yaml") {
		t.Errorf("missing values file: exit %d\n%s", r.code, r.stdout)
	}
}

func TestKustomize(t *testing.T) {
	r := run(t, "", "scan", "testdata/kustomize/overlays/prod", "-o", "json")
	rep := jsonReport(t, r)
	if len(rep.Errors) != 0 || checkIDs(rep)["privileged-container"] != 1 {
		t.Fatalf("overlay: errors %+v findings %v", rep.Errors, checkIDs(rep))
	}
	// A field the overlay's patch set points at the overlay; one the base
	// file spells, and the build left alone, at the base file's line.
	for _, f := range rep.Findings {
		switch f.Check {
		case "privileged-container":
			if f.Object.Namespace != "prod" || f.Source.File != filepath.Join("testdata", "kustomize", "overlays", "prod", "kustomization.yaml") || f.Source.Line != 0 {
				t.Errorf("privileged: object %+v source %+v", f.Object, f.Source)
			}
		case "image-not-pinned-by-digest":
			if f.Source.File != filepath.Join("testdata", "kustomize", "base", "deployment.yaml") || f.Source.Line != 14 {
				t.Errorf("image: source %+v, want base/deployment.yaml:14 (image:)", f.Source)
			}
		}
	}
	base := jsonReport(t, run(t, "", "scan", "testdata/kustomize/base", "-o", "json"))
	if checkIDs(base)["privileged-container"] != 0 {
		t.Errorf("the base is not privileged")
	}
}

func TestSuppression(t *testing.T) {
	dir := t.TempDir()
	manifest := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: agent
  namespace: infra
  annotations:
    kubeharden.io/ignore: read-only-root-filesystem
    kubeharden.io/ignore-reason: writes its buffer to the root filesystem
spec:
  template:
    metadata:
      annotations:
        kubeharden.io/ignore.sidecar: privileged-container
    spec:
      containers:
      - {name: main, image: 'a:1', securityContext: {privileged: true}}
      - {name: sidecar, image: 'b:1', securityContext: {privileged: true}}
`
	path := filepath.Join(dir, "agent.yaml")
	if err := os.WriteFile(path, []byte(manifest), 0o644); err != nil {
		t.Fatal(err)
	}
	rep := jsonReport(t, run(t, "", "scan", path, "-o", "json"))
	ids := checkIDs(rep)
	if ids["read-only-root-filesystem"] != 0 {
		t.Error("object annotation did not suppress read-only-root-filesystem")
	}
	if ids["privileged-container"] != 1 || rep.Findings[0].Container != "main" {
		t.Errorf("container annotation: privileged findings %d, first %+v", ids["privileged-container"], rep.Findings[0])
	}

	config := filepath.Join(dir, "config.yaml")
	write := func(s string) {
		if err := os.WriteFile(config, []byte(s), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(`checks:
  disable: [cpu-limit-missing]
severity:
  memory-limit-missing: critical
exemptions:
- checks: ["privileged-*"]
  namespaces: [infra]
  kinds: [Deployment]
  reason: node agent, reviewed in SEC-42
- checks: [image-not-pinned-by-digest]
  names: ["agent*"]
  reason: temporary
  expires: "2000-01-01"
`)
	rep = jsonReport(t, run(t, "", "scan", path, "-o", "json", "--config", config))
	ids = checkIDs(rep)
	if ids["cpu-limit-missing"] != 0 || ids["privileged-container"] != 0 {
		t.Errorf("config did not disable/exempt: %v", ids)
	}
	if ids["image-not-pinned-by-digest"] != 2 {
		t.Errorf("an expired exemption must no longer apply: %v", ids)
	}
	for _, f := range rep.Findings {
		if f.Check == "memory-limit-missing" && f.Severity.String() != "critical" {
			t.Errorf("severity override not applied: %+v", f)
		}
	}

	write("exemptions:\n- checks: [privileged-container]\n")
	if r := run(t, "", "scan", path, "--config", config); r.code != ExitError || !strings.Contains(r.stderr, "reason is required") {
		t.Errorf("exemption without reason: exit %d, %s", r.code, r.stderr)
	}
	write("checks:\n  disabel: [x]\n")
	if r := run(t, "", "scan", path, "--config", config); r.code != ExitError || !strings.Contains(r.stderr, "disabel") {
		t.Errorf("typo in config: exit %d, %s", r.code, r.stderr)
	}
}

func TestBaseline(t *testing.T) {
	dir := t.TempDir()
	old := run(t, "", "scan", "../../examples/insecure/backup.yaml", "-o", "json")
	baseline := filepath.Join(dir, "baseline.json")
	if err := os.WriteFile(baseline, []byte(old.stdout), 0o644); err != nil {
		t.Fatal(err)
	}
	same := jsonReport(t, run(t, "", "scan", "../../examples/insecure/backup.yaml", "-o", "json", "--baseline", baseline))
	if len(same.Findings) != 0 {
		t.Errorf("unchanged input against its own baseline: %d findings", len(same.Findings))
	}
	more := jsonReport(t, run(t, "", "scan", "../../examples/insecure/backup.yaml", "../../examples/insecure/web.yaml", "-o", "json", "--baseline", baseline))
	for _, f := range more.Findings {
		if !strings.HasSuffix(f.Source.File, "web.yaml") {
			t.Errorf("finding already in the baseline reported again: %+v", f)
		}
	}
	if len(more.Findings) == 0 {
		t.Error("new findings were dropped")
	}
}

// TestChecksDocIsCurrent fails when docs/checks.md drifts from the
// catalogue. Regenerate with: go run ./cmd/kubeharden checks -o markdown > docs/checks.md
func TestChecksDocIsCurrent(t *testing.T) {
	want, err := os.ReadFile("../../docs/checks.md")
	if err != nil {
		t.Fatal(err)
	}
	got := run(t, "", "checks", "-o", "markdown")
	if got.stdout != string(want) {
		t.Error("docs/checks.md is out of date: run `go run ./cmd/kubeharden checks -o markdown > docs/checks.md`")
	}
}

func TestVersion(t *testing.T) {
	if r := run(t, "", "version"); r.code != 0 || !strings.HasPrefix(r.stdout, "kubeharden ") {
		t.Errorf("version: %d %q", r.code, r.stdout)
	}
}

func TestScanFlags(t *testing.T) {
	// --color always paints the table; NO_COLOR-free auto on a non-terminal does not.
	if r := run(t, "", "scan", "../../examples/insecure/web.yaml", "--color", "always", "--fail-on", "none"); !strings.Contains(r.stdout, "\x1b[") {
		t.Error("--color always: no ANSI colours")
	}
	if r := run(t, "", "scan", "../../examples/insecure/web.yaml", "--fail-on", "none"); strings.Contains(r.stdout, "\x1b[") {
		t.Error("colour written to a non-terminal")
	}

	// --pss-level baseline drops the restricted controls.
	all := checkIDs(jsonReport(t, run(t, "", "scan", "../../examples/insecure/backup.yaml", "-o", "json")))
	baseline := checkIDs(jsonReport(t, run(t, "", "scan", "../../examples/insecure/backup.yaml", "-o", "json", "--pss-level", "baseline")))
	if all["run-as-non-root"] == 0 || baseline["run-as-non-root"] != 0 {
		t.Errorf("--pss-level baseline: restricted control still reported (%v / %v)", all, baseline)
	}

	// --pss-version: hostProbesAndHostLifecycle exists from v1.34 on.
	probe := "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    image: x:1\n    livenessProbe: {httpGet: {host: 10.0.0.1, port: 80}}\n"
	if ids := checkIDs(jsonReport(t, run(t, probe, "scan", "-", "-o", "json", "--pss-version", "v1.33"))); ids["host-probes-lifecycle"] != 0 {
		t.Error("--pss-version v1.33 applied a v1.34 control")
	}
	if ids := checkIDs(jsonReport(t, run(t, probe, "scan", "-", "-o", "json", "--pss-version", "v1.34"))); ids["host-probes-lifecycle"] != 1 {
		t.Error("--pss-version v1.34 missed the host probe")
	}

	// --include-control-plane runs every check on kubeadm's static pods.
	static := "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system, labels: {component: etcd, tier: control-plane}}\nspec:\n  hostNetwork: true\n  containers: [{name: etcd, image: 'registry.k8s.io/etcd:3.6.0-0'}]\n"
	quiet := jsonReport(t, run(t, static, "scan", "-", "-o", "json"))
	loud := jsonReport(t, run(t, static, "scan", "-", "-o", "json", "--include-control-plane"))
	if len(quiet.Findings) != 0 || len(loud.Findings) == 0 {
		t.Errorf("control-plane pod: %d findings by default, %d with --include-control-plane", len(quiet.Findings), len(loud.Findings))
	}
}

// TestCollectorPhases: loading runs without collections under a memory
// limit that grows with the bytes read; evaluation runs with twice the
// previous GOGC and the previous limit; the settings come back afterwards,
// once. GOGC or GOMEMLIMIT in the environment leave the collector alone.
func TestCollectorPhases(t *testing.T) {
	before := debug.SetGCPercent(100)
	defer debug.SetGCPercent(before)
	limitBefore := debug.SetMemoryLimit(-1)

	read, evaluate, done := collectorPhases(IO{Getenv: func(string) string { return "" }})
	if read == nil {
		t.Fatal("no read callback")
	}
	read(1 << 20)
	read(1 << 20)
	if got, want := debug.SetMemoryLimit(-1), int64(loadingHeadroom+loadingBytesFactor*2<<20); got != want {
		t.Errorf("memory limit while loading = %d, want %d", got, want)
	}
	if paused := debug.SetGCPercent(-1); paused != -1 {
		t.Errorf("GOGC while loading = %d, want off", paused)
	}
	evaluate()
	if got := debug.SetGCPercent(200); got != 200 {
		t.Errorf("GOGC while evaluating = %d, want 200", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limitBefore {
		t.Errorf("memory limit while evaluating = %d, want %d", got, limitBefore)
	}
	done()
	if got := debug.SetGCPercent(100); got != 100 {
		t.Errorf("GOGC after evaluating = %d, want 100", got)
	}
	if got := debug.SetMemoryLimit(-1); got != limitBefore {
		t.Errorf("memory limit after evaluating = %d, want %d", got, limitBefore)
	}
	debug.SetGCPercent(50)
	done() // scan defers it for its early returns too
	if got := debug.SetGCPercent(100); got != 50 {
		t.Errorf("a second done changed GOGC to %d", got)
	}

	for _, env := range []string{"GOGC", "GOMEMLIMIT"} {
		read, evaluate, done := collectorPhases(IO{Getenv: func(k string) string {
			if k == env {
				return "200"
			}
			return ""
		}})
		if read != nil {
			t.Errorf("%s set: the collector was paused", env)
		}
		evaluate()
		done()
		if got := debug.SetGCPercent(100); got != 100 {
			t.Errorf("%s set: GOGC changed to %d", env, got)
		}
	}
}

package check

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
)

func podCheck(id string, sev Severity, fn func(*Env, *inventory.Pod) []Result) *Check {
	return &Check{Metadata: Metadata{ID: id, Title: id, Severity: sev, Category: Workload, Description: "d", Remediation: "r"}, Pod: fn}
}

// hostPIDCheck fires on pods with hostPID, once per container too, so
// tests see container-level suppression.
func hostPIDCheck() *Check {
	return podCheck("host-pid", High, func(_ *Env, p *inventory.Pod) []Result {
		if !p.Spec.HostPID {
			return nil
		}
		out := []Result{{Path: p.SpecPath + ".hostPID", Message: "hostPID"}}
		for _, c := range p.Containers() {
			out = append(out, Result{Container: c.Container.Name, Path: c.Path, Message: "container in host PID namespace"})
		}
		return out
	})
}

func TestRegistryValidation(t *testing.T) {
	ok := hostPIDCheck()
	cases := map[string]*Check{
		"bad id":           {Metadata: Metadata{ID: "Bad_ID", Title: "t", Severity: Low, Category: Workload, Description: "d", Remediation: "r"}, Pod: ok.Pod},
		"unknown category": {Metadata: Metadata{ID: "x", Title: "t", Severity: Low, Category: "misc", Description: "d", Remediation: "r"}, Pod: ok.Pod},
		"no severity":      {Metadata: Metadata{ID: "x", Title: "t", Category: Workload, Description: "d", Remediation: "r"}, Pod: ok.Pod},
		"no function":      {Metadata: Metadata{ID: "x", Title: "t", Severity: Low, Category: Workload, Description: "d", Remediation: "r"}},
		"no remediation":   {Metadata: Metadata{ID: "x", Title: "t", Severity: Low, Category: Workload, Description: "d"}, Pod: ok.Pod},
	}
	for name, c := range cases {
		if _, err := NewRegistry(c); err == nil {
			t.Errorf("%s: registry accepted it", name)
		}
	}
	if _, err := NewRegistry(hostPIDCheck(), hostPIDCheck()); err == nil || !strings.Contains(err.Error(), "twice") {
		t.Errorf("duplicate id: %v", err)
	}
	if _, err := NewRegistry(ok); err != nil {
		t.Errorf("valid check refused: %v", err)
	}
}

func TestSelection(t *testing.T) {
	opt := podCheck("optional-one", Low, hostPIDCheck().Pod)
	opt.Optional = true
	other := podCheck("other", Medium, hostPIDCheck().Pod)
	other.Category = SupplyChain
	reg, err := NewRegistry(hostPIDCheck(), opt, other)
	if err != nil {
		t.Fatal(err)
	}
	ids := func(o Options) string {
		r, err := NewRunner(reg, o)
		if err != nil {
			return "error: " + err.Error()
		}
		var out []string
		for _, c := range r.Checks() {
			out = append(out, c.ID)
		}
		return strings.Join(out, ",")
	}
	cfg := &Config{}
	cfg.Checks.Enable = []string{"optional-one"}
	cfg.Checks.Disable = []string{"host-pid"}
	cases := []struct {
		name string
		opts Options
		want string
	}{
		{"defaults leave optional checks off", Options{}, "host-pid,other"},
		{"--checks enables optional ones", Options{Selection: Selection{Only: []string{"optional-one"}}}, "optional-one"},
		{"--skip-checks", Options{Selection: Selection{Skip: []string{"other"}}}, "host-pid"},
		{"--categories", Options{Selection: Selection{Categories: []Category{SupplyChain}}}, "other"},
		{"config enable and disable", Options{Config: cfg}, "optional-one,other"},
		{"unknown check", Options{Selection: Selection{Only: []string{"nope"}}}, `error: --checks: unknown check "nope" (see ` + "`kubeharden checks`)"},
	}
	for _, tc := range cases {
		if got := ids(tc.opts); got != tc.want {
			t.Errorf("%s: %s, want %s", tc.name, got, tc.want)
		}
	}
}

func TestFingerprintIsStable(t *testing.T) {
	obj := ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ns", Name: "web"}
	a := Fingerprint("c", obj, "app", "spec.x")
	if a != Fingerprint("c", ObjectRef{APIVersion: "apps/v1beta2", Kind: "Deployment", Namespace: "ns", Name: "web"}, "app", "spec.x") {
		t.Error("the API version (not the group) changed the fingerprint")
	}
	for _, other := range []string{
		Fingerprint("d", obj, "app", "spec.x"),
		Fingerprint("c", obj, "sidecar", "spec.x"),
		Fingerprint("c", obj, "app", "spec.y"),
		Fingerprint("c", ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "ns2", Name: "web"}, "app", "spec.x"),
		// Field separators: ("ab","c") and ("a","bc") must differ.
		Fingerprint("c", ObjectRef{Kind: "Deployment", Namespace: "n", Name: "sweb"}, "app", "spec.x"),
	} {
		if other == a {
			t.Error("different findings share a fingerprint")
		}
	}
	if len(a) != 32 {
		t.Errorf("fingerprint %q is not 128 bits of hex", a)
	}
}

const podYAML = `apiVersion: apps/v1
kind: Deployment
metadata:
  name: d
  namespace: ns
  annotations: %s
spec:
  template:
    metadata:
      annotations: %s
    spec:
      hostPID: true
      containers: [{name: app}, {name: sidecar}]
`

func evaluate(t *testing.T, manifest string, opts Options) *Outcome {
	t.Helper()
	reg, err := NewRegistry(hostPIDCheck())
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(reg, opts)
	if err != nil {
		t.Fatal(err)
	}
	res := source.ParseBytes("x.yaml", []byte(manifest))
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	out, _, err := r.Evaluate(context.Background(), res.Objects, Settings{})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestAnnotations(t *testing.T) {
	cases := []struct {
		objAnn, podAnn string
		want, supp     int
	}{
		{"{}", "{}", 3, 0},
		{"{kubeharden.io/ignore: host-pid}", "{}", 0, 3},
		{"{kubeharden.io/ignore: '*'}", "{}", 0, 3},
		{"{kubeharden.io/ignore: 'other, checks'}", "{}", 3, 0},
		{"{}", "{kubeharden.io/ignore: host-pid}", 0, 3},
		{"{kubeharden.io/ignore.sidecar: host-pid}", "{}", 2, 1},
		{"{}", "{kubeharden.io/ignore.app: host-pid, kubeharden.io/ignore.sidecar: host-pid}", 1, 2},
	}
	for _, tc := range cases {
		out := evaluate(t, fmt.Sprintf(podYAML, tc.objAnn, tc.podAnn), Options{})
		if len(out.Findings) != tc.want || out.Suppressed != tc.supp {
			t.Errorf("annotations %s / %s: %d findings, %d suppressed; want %d, %d", tc.objAnn, tc.podAnn, len(out.Findings), out.Suppressed, tc.want, tc.supp)
		}
	}
}

func TestStrictChecksIgnoreAnnotations(t *testing.T) {
	manifest := fmt.Sprintf(podYAML, "{kubeharden.io/ignore: host-pid}", "{}")
	if out := evaluate(t, manifest, Options{Strict: []string{"host-pid"}}); len(out.Findings) != 3 || out.Suppressed != 0 {
		t.Errorf("a strict check is not suppressed by annotations: %d findings, %d suppressed", len(out.Findings), out.Suppressed)
	}
	reg, _ := NewRegistry(hostPIDCheck())
	if _, err := NewRunner(reg, Options{Strict: []string{"no-such-check"}}); err == nil {
		t.Error("an unknown strict check is an error")
	}
}

func TestExemptions(t *testing.T) {
	manifest := fmt.Sprintf(podYAML, "{}", "{}")
	now := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	cases := []struct {
		config string
		want   int
	}{
		{"exemptions: [{namespaces: [ns], reason: r}]", 0},
		{"exemptions: [{namespaces: [other], reason: r}]", 3},
		{"exemptions: [{checks: ['host-*'], kinds: [Deployment], names: ['d'], reason: r}]", 0},
		{"exemptions: [{checks: [host-pid], kinds: [StatefulSet], reason: r}]", 3},
		{"exemptions: [{namespaces: [ns], reason: r, expires: '2026-06-02'}]", 0},
		{"exemptions: [{namespaces: [ns], reason: r, expires: '2026-06-01'}]", 3},
	}
	for _, tc := range cases {
		cfg, err := ParseConfig("c", []byte(tc.config))
		if err != nil {
			t.Fatalf("%s: %v", tc.config, err)
		}
		out := evaluate(t, manifest, Options{Config: cfg, Now: func() time.Time { return now }})
		if len(out.Findings) != tc.want {
			t.Errorf("%s: %d findings, want %d", tc.config, len(out.Findings), tc.want)
		}
	}
	for _, bad := range []string{
		"exemptions: [{namespaces: [ns]}]",
		"exemptions: [{reason: r, expires: tomorrow}]",
		"exemptions: [{reason: r, names: ['[']}]",
		"severity: {x: severe}",
		"unknown: 1",
	} {
		if _, err := ParseConfig("c", []byte(bad)); err == nil {
			t.Errorf("config %q accepted", bad)
		}
	}
}

// TestSingleObjectMatchesInventory: the admission webhook evaluates one
// object with an inventory of just that object; a scan evaluates it among
// many. For checks that do not look at neighbours the verdicts must be
// identical, finding for finding.
func TestSingleObjectMatchesInventory(t *testing.T) {
	var docs []string
	for i, ann := range []string{"{}", "{kubeharden.io/ignore.app: host-pid}", "{}"} {
		docs = append(docs, strings.Replace(fmt.Sprintf(podYAML, ann, "{}"), "name: d\n", "name: d"+string(rune('0'+i))+"\n", 1))
	}
	whole := evaluate(t, strings.Join(docs, "---\n"), Options{Workers: 4})
	reg, _ := NewRegistry(hostPIDCheck())
	r, _ := NewRunner(reg, Options{})
	var single []Finding
	for _, d := range docs {
		res := source.ParseBytes("x.yaml", []byte(d))
		env := NewEnv(inventory.Build(res.Objects), Settings{})
		single = append(single, r.EvaluateObject(env, res.Objects[0]).Findings...)
	}
	if len(single) != len(whole.Findings) {
		t.Fatalf("single-object evaluation found %d, whole inventory %d", len(single), len(whole.Findings))
	}
	for i := range single {
		a, b := single[i], whole.Findings[i]
		if a.Fingerprint() != b.Fingerprint() || a.Message != b.Message || a.Severity != b.Severity {
			t.Errorf("finding %d differs:\n single %+v\n whole  %+v", i, a, b)
		}
	}
}

func TestSeverity(t *testing.T) {
	for _, s := range Severities() {
		got, err := ParseSeverity(strings.ToUpper(s.String()))
		if err != nil || got != s {
			t.Errorf("round trip of %s: %v %v", s, got, err)
		}
	}
	if _, err := ParseSeverity("severe"); err == nil {
		t.Error("unknown severity accepted")
	}
	if !(Critical > High && High > Medium && Medium > Low && Low > Info) {
		t.Error("severities out of order")
	}
}

func TestBaselineFilter(t *testing.T) {
	f := func(id string) Finding {
		return Finding{Rule: &Rule{Check: "c" + id}, Object: &ObjectRef{Kind: "Pod", Name: "web"}}
	}
	parts := Findings{{f("1"), f("2")}, {f("1")}, {f("3"), f("1"), f("4")}}
	old := f("1")
	got := Baseline{old.Fingerprint(): true}.FilterNew(parts)
	var checks []string
	for _, g := range got.All() {
		checks = append(checks, g.Check)
	}
	if !slices.Equal(checks, []string{"c2", "c3", "c4"}) || len(got) != 2 {
		t.Errorf("FilterNew kept %v in %d parts, want [c2 c3 c4] in 2", checks, len(got))
	}
	if got := (Baseline{}).FilterNew(nil); got.Len() != 0 {
		t.Errorf("FilterNew(nil) = %v", got)
	}
}

func TestSortWithinObjectIsStableSort(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for n := range 70 {
		fs := make([]Finding, n)
		for i := range fs {
			fs[i] = Finding{
				Rule:      &Rule{Severity: Severity(1 + rng.IntN(5)), Check: []string{"a", "b", "c"}[rng.IntN(3)]},
				Container: []string{"", "x"}[rng.IntN(2)],
				Path:      []string{"", "spec", "spec.x"}[rng.IntN(3)],
				Message:   strconv.Itoa(i), // tells equal keys apart
			}
		}
		want := slices.Clone(fs)
		slices.SortStableFunc(want, compareWithinObject)
		sortWithinObject(fs)
		if !slices.Equal(fs, want) {
			t.Fatalf("%d findings: got %v, want %v", n, fs, want)
		}
	}
}

// TestModelsBuiltBeforeEvaluation: a whole-inventory run builds the models
// its checks declare, each once, before any object is evaluated; a check
// without a Build function is refused.
func TestModelsBuiltBeforeEvaluation(t *testing.T) {
	type key struct{ name string }
	var builds atomic.Int32
	model := func(name string) *Model {
		return &Model{Name: name, Build: func(env *Env) {
			env.Memo(key{name}, func() any { builds.Add(1); return name })
		}}
	}
	a, b := model("a"), model("b")
	var builtFirst atomic.Bool
	var evaluated atomic.Int32
	builtFirst.Store(true)
	check := func(id string, models ...*Model) *Check {
		c := podCheck(id, High, func(env *Env, _ *inventory.Pod) []Result {
			evaluated.Add(1)
			if builds.Load() != 2 {
				builtFirst.Store(false)
			}
			return nil
		})
		c.Models = models
		return c
	}
	reg, err := NewRegistry(check("uses-a", a), check("uses-both", a, b), check("uses-b", b))
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewRunner(reg, Options{Workers: 2})
	if err != nil {
		t.Fatal(err)
	}
	res := source.ParseBytes("x.yaml", []byte(strings.Repeat(fmt.Sprintf(podYAML, "{}", "{}")+"---\n", 20)))
	if _, err := r.Run(context.Background(), NewEnv(inventory.Build(res.Objects), Settings{})); err != nil {
		t.Fatal(err)
	}
	if got := builds.Load(); got != 2 {
		t.Errorf("models built %d times, want 2", got)
	}
	if evaluated.Load() == 0 || !builtFirst.Load() {
		t.Errorf("%d evaluations; an object was evaluated before both models were built: %v", evaluated.Load(), !builtFirst.Load())
	}
	broken := check("broken", &Model{Name: "no build"})
	if _, err := NewRegistry(broken); err == nil || !strings.Contains(err.Error(), "without a Build") {
		t.Errorf("a model without Build was accepted: %v", err)
	}
}

func TestInterner(t *testing.T) {
	in := newInterner()
	a := in.intern(strings.Repeat("x", 40))
	b := in.intern(strings.Repeat("x", 40)) // equal, built separately
	if a != b || unsafe.StringData(a) != unsafe.StringData(b) {
		t.Error("equal strings not shared")
	}
	if c := in.intern("other"); c != "other" {
		t.Errorf("intern changed a string: %q", c)
	}
	var none *interner
	if s := none.intern("x"); s != "x" {
		t.Errorf("nil interner: %q", s)
	}
	p, q := in.fieldPath(strings.Repeat("spec.y", 5)), in.fieldPath(strings.Repeat("spec.y", 5))
	if p.Path() != q.Path() || unsafe.StringData(p.Path()) != unsafe.StringData(q.Path()) {
		t.Error("equal paths not shared")
	}
	for i := range internerMax + 10 {
		in.intern(strconv.Itoa(i))
		in.fieldPath("spec.x" + strconv.Itoa(i))
	}
	if len(in.m) != internerMax || len(in.paths) > internerMax {
		t.Errorf("interner holds %d strings and %d paths, want at most %d", len(in.m), len(in.paths), internerMax)
	}
	if got := none.fieldPath("spec.z").Path(); got != "spec.z" {
		t.Errorf("nil interner: path %q", got)
	}
}

// TestRunParts: the parts of a run, in order, are Run's outcome, for any
// number of workers and chunks.
func TestRunParts(t *testing.T) {
	var docs []string
	for i := range 700 { // several chunks per worker
		ann := "{}"
		if i%5 == 0 {
			ann = "{kubeharden.io/ignore: host-pid}"
		}
		docs = append(docs, strings.Replace(fmt.Sprintf(podYAML, ann, "{}"), "name: d\n", "name: d"+strconv.Itoa(i)+"\n", 1))
	}
	res := source.ParseBytes("x.yaml", []byte(strings.Join(docs, "---\n")))
	reg, err := NewRegistry(hostPIDCheck())
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 3} {
		r, err := NewRunner(reg, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		env := NewEnv(inventory.Build(res.Objects), Settings{})
		want, err := r.Run(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		parts, suppressed, err := r.RunParts(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		if parts.Len() != len(want.Findings) || len(parts) < 2 {
			t.Errorf("%d workers: %d findings in %d parts, Run found %d", workers, parts.Len(), len(parts), len(want.Findings))
		}
		got := parts.Flat()
		if !slices.EqualFunc(got, want.Findings, func(a, b Finding) bool { return a.Fingerprint() == b.Fingerprint() && a.Message == b.Message }) ||
			suppressed != want.Suppressed || want.Suppressed != 140*3 { // every fifth object ignores its 3 findings
			t.Errorf("%d workers: the parts differ from Run: %d findings (%d suppressed) against %d (%d)",
				workers, len(got), suppressed, len(want.Findings), want.Suppressed)
		}
		index := parts.Index()
		for i, f := range parts.All() {
			if index.At(i) != f {
				t.Fatalf("%d workers: Index().At(%d) is not the %d'th finding", workers, i, i)
			}
		}
	}
}

// TestRunPartsKeepsObjectsWhole: whatever the workers and objects with
// very different numbers of findings (some with hundreds), the parts are
// what evaluating each object alone gives, in order; each object's
// findings are in one part, and appending to a part does not write into
// another.
func TestRunPartsKeepsObjectsWhole(t *testing.T) {
	many := &Check{
		Metadata: Metadata{ID: "many", Title: "t", Severity: Low, Category: Workload, Description: "d", Remediation: "r"},
		Object: func(_ *Env, o *source.Object) []Result {
			n, _ := strconv.Atoi(o.Annotations()["n"])
			out := make([]Result, n)
			for i := range out {
				out[i] = Result{Path: fmt.Sprintf("data.k%04d", i), Message: o.Name()}
			}
			return out
		},
	}
	reg, err := NewRegistry(many)
	if err != nil {
		t.Fatal(err)
	}
	var docs []string
	for i := range 300 {
		n := (i * 37) % 101
		if i%50 == 7 {
			n = 300
		}
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d, annotations: {n: %q}}\n", i, strconv.Itoa(n)))
	}
	objs := source.ParseBytes("x.yaml", []byte(strings.Join(docs, "---\n"))).Objects
	env := NewEnv(inventory.Build(objs), Settings{})
	for _, workers := range []int{1, 2, 5} {
		r, err := NewRunner(reg, Options{Workers: workers})
		if err != nil {
			t.Fatal(err)
		}
		var want []Finding
		for _, o := range objs {
			want = append(want, r.EvaluateObject(env, o).Findings...)
		}
		parts, _, err := r.RunParts(context.Background(), env)
		if err != nil {
			t.Fatal(err)
		}
		got := parts.Flat()
		if !slices.EqualFunc(got, want, func(a, b Finding) bool { return a.Message == b.Message && a.Path == b.Path }) {
			t.Fatalf("%d workers: %d findings, not those of each object alone (%d)", workers, len(got), len(want))
		}
		for _, part := range parts {
			_ = append(part, Finding{Message: "appended"})
		}
		if again := parts.Flat(); !slices.EqualFunc(again, want, func(a, b Finding) bool { return a.Message == b.Message && a.Path == b.Path }) {
			t.Fatalf("%d workers: appending to a part changed another", workers)
		}
		seen := map[string]int{} // object -> its part
		for p, part := range parts {
			for _, f := range part {
				if q, ok := seen[f.Message]; ok && q != p {
					t.Fatalf("%d workers: the findings of %s are split between parts %d and %d", workers, f.Message, q, p)
				}
				seen[f.Message] = p
			}
		}
	}
}

// TestLoadBaseline: a baseline finding is known by its fingerprint, or,
// written without one (by hand or by an older version), by the
// fingerprint of its check, object, container and path.
func TestLoadBaseline(t *testing.T) {
	web := &ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"}
	byPrint := Finding{Rule: &Rule{Check: "privileged-container"}, Object: web, Container: "app", Path: "spec.template.spec.containers[0].securityContext.privileged"}
	byFields := Finding{Rule: &Rule{Check: "image-tag-latest"}, Object: web, Container: "app", Path: "spec.template.spec.containers[0].image"}
	fresh := Finding{Rule: &Rule{Check: "cpu-limit-missing"}, Object: web, Container: "app", Path: "spec.template.spec.containers[0].resources.limits.cpu"}
	file := filepath.Join(t.TempDir(), "baseline.json")
	doc := `{"findings": [
		{"fingerprint": "` + byPrint.Fingerprint() + `"},
		{"check": "image-tag-latest", "object": {"apiVersion": "apps/v1", "kind": "Deployment", "namespace": "shop", "name": "web"},
		 "container": "app", "path": "spec.template.spec.containers[0].image"}]}`
	if err := os.WriteFile(file, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	b, err := LoadBaseline(file)
	if err != nil {
		t.Fatal(err)
	}
	got := b.FilterNew(Findings{{byPrint, byFields, fresh}}).Flat()
	if len(got) != 1 || got[0].Check != fresh.Check {
		t.Errorf("new against the baseline: %v, want only %s", got, fresh.Check)
	}
	if err := os.WriteFile(file, []byte("not json"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := LoadBaseline(file); err == nil || !strings.Contains(err.Error(), "not a kubeharden JSON report") {
		t.Errorf("a file that is not a report: %v", err)
	}
}

// TestFindingRules: the findings of a check share one rule with the
// check's metadata; a result that overrides the severity or remediation
// gets a rule of its own (shared by the results that override alike), and
// the configuration's severity for the check wins over both.
func TestFindingRules(t *testing.T) {
	overriding := podCheck("overrides", Medium, func(_ *Env, p *inventory.Pod) []Result {
		return []Result{
			{Path: "a", Message: "default"},
			{Path: "b", Message: "default again"},
			{Path: "c", Message: "raised", Severity: Critical},
			{Path: "d", Message: "raised again", Severity: Critical},
			{Path: "e", Message: "own fix", Remediation: "do this"},
			{Path: "f", Message: "same as the check", Severity: Medium, Remediation: "r"},
		}
	})
	overriding.Frameworks = Frameworks{CIS: []string{"5.0.0"}}
	reg, err := NewRegistry(overriding)
	if err != nil {
		t.Fatal(err)
	}
	objects := source.ParseBytes("x.yaml", []byte(fmt.Sprintf(podYAML, "{}", "{}"))).Objects
	for _, tc := range []struct {
		name   string
		config string
		want   map[string]Rule // by path
	}{
		{"check's own", "", map[string]Rule{
			"a": {Severity: Medium, Remediation: "r"}, "b": {Severity: Medium, Remediation: "r"},
			"c": {Severity: Critical, Remediation: "r"}, "d": {Severity: Critical, Remediation: "r"},
			"e": {Severity: Medium, Remediation: "do this"}, "f": {Severity: Medium, Remediation: "r"},
		}},
		{"configured severity", "severity: {overrides: low}", map[string]Rule{
			"a": {Severity: Low, Remediation: "r"}, "b": {Severity: Low, Remediation: "r"},
			"c": {Severity: Low, Remediation: "r"}, "d": {Severity: Low, Remediation: "r"},
			"e": {Severity: Low, Remediation: "do this"}, "f": {Severity: Low, Remediation: "r"},
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var opts Options
			if tc.config != "" {
				if opts.Config, err = ParseConfig("c", []byte(tc.config)); err != nil {
					t.Fatal(err)
				}
			}
			r, err := NewRunner(reg, opts)
			if err != nil {
				t.Fatal(err)
			}
			out, _, err := r.Evaluate(context.Background(), objects, Settings{})
			if err != nil {
				t.Fatal(err)
			}
			byPath := map[string]*Rule{}
			for _, f := range out.Findings {
				want := tc.want[f.Path]
				if f.Check != "overrides" || f.Category != Workload || f.Frameworks != &overriding.Frameworks ||
					f.Severity != want.Severity || f.Remediation != want.Remediation {
					t.Errorf("%s: rule %+v, want severity %s and remediation %q of check overrides", f.Path, *f.Rule, want.Severity, want.Remediation)
				}
				byPath[f.Path] = f.Rule
			}
			if len(byPath) != len(tc.want) {
				t.Fatalf("%d findings, want %d", len(byPath), len(tc.want))
			}
			for path, rule := range byPath {
				for other, otherRule := range byPath {
					if same := tc.want[path] == tc.want[other]; same != (rule == otherRule) {
						t.Errorf("%s and %s share a rule: %v, want %v", path, other, rule == otherRule, same)
					}
				}
			}
		})
	}
}

package netpol

import (
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

const analyzerCorpus = "../../../shared/corpus/conformance/netpol-analyzer"

// notPlain marks scenarios beyond plain NetworkPolicy: admin policies,
// multi-network, OpenShift Routes and Ingress (which add the ingress
// controller as an endpoint).
var notPlain = regexp.MustCompile(`anp|banp|udn|nad|virtual_machines`)

// endpoint matches ns/name[Kind] and IPv4 ranges a.b.c.d-e.f.g.h[External]
// (not the ingress controller of Route and Ingress scenarios).
var endpoint = regexp.MustCompile(`^([^/\[\]]+/[^/\[\]]+\[[A-Za-z]+\]|[0-9.]+-[0-9.]+\[External\]|\{ingress-controller\})$`)

// TestAnalyzerConformance compares the allowed workload-to-workload
// connections of every plain-NetworkPolicy scenario of netpol-analyzer
// with its golden output; every scenario must match exactly. Connections
// from and to IP blocks and the ingress controller are not compared yet.
func TestAnalyzerConformance(t *testing.T) {
	outputs, err := filepath.Glob(filepath.Join(analyzerCorpus, "test_outputs/connlist/*_connlist_output.txt"))
	if err != nil || len(outputs) == 0 {
		t.Skipf("../shared corpus not present: the netpol-analyzer fixtures live beside the project")
	}
	exact, compared := 0, 0
	var pairsExpected, pairsFound, pairsRight int
	for _, out := range outputs {
		name := strings.TrimSuffix(filepath.Base(out), "_connlist_output.txt")
		dir := filepath.Join(analyzerCorpus, "tests", name)
		if notPlain.MatchString(name) || strings.Contains(name, "focus") || strings.Contains(name, "exposure") {
			continue
		}
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		want := goldenLines(t, out)
		loaded := source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, dir)
		m := Build(loaded.Objects)
		got := computedLines(m)
		compared++
		pairsExpected += len(want)
		pairsFound += len(got)
		for _, g := range got {
			if slices.Contains(want, g) {
				pairsRight++
			}
		}
		if slices.Equal(got, want) {
			exact++
			continue
		}
		missing, extra := setDiff(want, got), setDiff(got, want)
		t.Errorf("%s: %d missing, %d extra; e.g. missing %q extra %q (errors %v)", name, len(missing), len(extra), first(missing), first(extra), m.Errors)
	}
	t.Logf("netpol-analyzer plain scenarios: %d/%d exact; pairs: %d expected, %d found, %d right", exact, compared, pairsExpected, pairsFound, pairsRight)
}

// goldenLines are the connection lines of a netpol-analyzer output whose
// endpoints the model can produce, sorted.
func goldenLines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, line := range strings.Split(string(data), "\n") {
		src, rest, ok := strings.Cut(line, " => ")
		dst, conn, ok2 := strings.Cut(rest, " : ")
		if ok && ok2 && endpoint.MatchString(src) && endpoint.MatchString(dst) {
			out = append(out, src+" => "+dst+" : "+strings.TrimSpace(conn))
		}
	}
	slices.Sort(out)
	return out
}

// computedLines are the model's connections in netpol-analyzer's form:
// between workloads, with outside ranges and from the ingress controller,
// sorted.
func computedLines(m *Model) []string {
	var out []string
	for _, c := range m.Connections() {
		out = append(out, c.Src.String()+" => "+c.Dst.String()+" : "+c.Conns.String())
	}
	for _, e := range m.ExternalConnections() {
		out = append(out, e.String())
	}
	for _, c := range m.IngressControllerConnections() {
		out = append(out, IngressController+" => "+c.Dst.String()+" : "+c.Conns.String())
	}
	slices.Sort(out)
	return out
}

// setDiff is the elements of a missing from b.
func setDiff(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

func first(s []string) string {
	if len(s) == 0 {
		return ""
	}
	return s[0]
}

// TestAnalyzerFatalErrors: the plain-NetworkPolicy inputs netpol-analyzer
// must reject are rejected here too, with an error naming the source.
func TestAnalyzerFatalErrors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(analyzerCorpus, "expected_fatal_errors.csv"))
	if err != nil {
		t.Skipf("../shared corpus not present: %v", err)
	}
	rejected, cases := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		fields := strings.SplitN(line, ",", 3)
		name, dir := fields[0], fields[1]
		if notPlain.MatchString(dir) || strings.Contains(name, "multiple_networks") {
			continue
		}
		cases++
		path := filepath.Join(analyzerCorpus, "tests", dir)
		loaded := source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, path)
		m := Build(loaded.Objects)
		switch {
		case len(m.Errors) > 0:
			rejected++
			t.Logf("%s: %v", dir, m.Errors[0])
		case len(loaded.Errors) > 0 && len(loaded.Objects) == 0:
			rejected++
			t.Logf("%s: %v", dir, loaded.Errors[0])
		default:
			t.Errorf("%s (%s): accepted", dir, name)
		}
	}
	t.Logf("netpol-analyzer fatal-error inputs (plain NetworkPolicy): %d/%d rejected", rejected, cases)
}

// diffLine matches netpol-analyzer's diff lines (old/new or ref1/ref2).
var diffLine = regexp.MustCompile(`^diff-type: (\w+), source: (.+), destination: (.+), (?:old|ref1): (.+), (?:new|ref2): ([^,]+(?:,[0-9-]+)*(?:,[A-Z]+ [0-9,-]+)*)`)

// knownDiffDifferences are diffs where kubeharden and netpol-analyzer
// describe the same connections in different address ranges.
var knownDiffDifferences = map[string]string{
	"semanticDiff-different-topologies-policy-b-with-ipblock_and_semanticDiff-different-topologies-policy-a-with-ipblock": "for a workload only the new input has, netpol-analyzer lists its (unrestricted) outside connections as one range, 0.0.0.0-255.255.255.255, where kubeharden splits at the ranges that input's policies tell apart; each range has the same connections",
}

// TestAnalyzerDiff compares Diff with netpol-analyzer's connectivity
// diffs between plain-NetworkPolicy scenarios.
func TestAnalyzerDiff(t *testing.T) {
	outputs, _ := filepath.Glob(filepath.Join(analyzerCorpus, "test_outputs/diff/diff_between_*_and_*.txt"))
	if len(outputs) == 0 {
		t.Skip("../shared corpus not present")
	}
	exact, compared := 0, 0
	for _, out := range outputs {
		name := strings.TrimSuffix(strings.TrimPrefix(filepath.Base(out), "diff_between_"), ".txt")
		newDir, oldDir, ok := strings.Cut(name, "_and_")
		if !ok || notPlain.MatchString(name) {
			continue
		}
		newPath, oldPath := filepath.Join(analyzerCorpus, "tests", newDir), filepath.Join(analyzerCorpus, "tests", oldDir)
		if _, err := os.Stat(newPath); err != nil {
			continue
		}
		if _, err := os.Stat(oldPath); err != nil {
			continue
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var want []string
		for _, line := range strings.Split(string(data), "\n") {
			if strings.Contains(line, "{ingress-controller}") {
				continue
			}
			if m := diffLine.FindStringSubmatch(line); m != nil {
				want = append(want, strings.Join(m[1:], " | "))
			}
		}
		oldM := Build(source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, oldPath).Objects)
		newM := Build(source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, newPath).Objects)
		var got []string
		for _, c := range Diff(oldM, newM) {
			got = append(got, strings.Join([]string{c.Type, c.Src, c.Dst, c.Old.String(), c.New.String()}, " | "))
		}
		slices.Sort(got)
		slices.Sort(want)
		compared++
		if slices.Equal(got, want) {
			exact++
			continue
		}
		missing, extra := setDiff(want, got), setDiff(got, want)
		if reason, known := knownDiffDifferences[name]; known {
			t.Logf("%s: known difference: %s", name, reason)
			continue
		}
		t.Errorf("%s: %d missing, %d extra; e.g. missing %q extra %q", name, len(missing), len(extra), first(missing), first(extra))
	}
	t.Logf("netpol-analyzer diffs (plain NetworkPolicy): %d/%d exact, %d known difference", exact, compared, len(knownDiffDifferences))
}

// adminScenario marks netpol-analyzer scenarios with AdminNetworkPolicies
// or a BaselineAdminNetworkPolicy; the ones that also need what the model
// does not have (multi-network, Routes, Ingress controllers, nodes) are
// left out by notAdmin.
var (
	adminScenario = regexp.MustCompile(`anp|banp`)
	notAdmin      = regexp.MustCompile(`udn|nad|route|virtual_machines`)
)

// TestAnalyzerAdminConformance compares every AdminNetworkPolicy and
// BaselineAdminNetworkPolicy scenario of netpol-analyzer (connections
// between workloads and with outside IPv4 ranges) with its golden output.
func TestAnalyzerAdminConformance(t *testing.T) {
	outputs, err := filepath.Glob(filepath.Join(analyzerCorpus, "test_outputs/connlist/*_connlist_output.txt"))
	if err != nil || len(outputs) == 0 {
		t.Skipf("../shared corpus not present: the netpol-analyzer fixtures live beside the project")
	}
	exact, compared, conns := 0, 0, 0
	for _, out := range outputs {
		name := strings.TrimSuffix(filepath.Base(out), "_connlist_output.txt")
		dir := filepath.Join(analyzerCorpus, "tests", name)
		if !adminScenario.MatchString(name) || notAdmin.MatchString(name) || strings.Contains(name, "focus") || strings.Contains(name, "exposure") || strings.Contains(name, "explain") {
			continue
		}
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		want := goldenLines(t, out)
		m := Build(source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, dir).Objects)
		got := computedLines(m)
		compared++
		if slices.Equal(got, want) {
			exact++
			conns += len(want)
			continue
		}
		missing, extra := setDiff(want, got), setDiff(got, want)
		t.Errorf("%s: %d missing, %d extra; e.g. missing %q extra %q (errors %v)", name, len(missing), len(extra), first(missing), first(extra), m.Errors)
	}
	t.Logf("netpol-analyzer admin-policy scenarios: %d/%d exact (%d connections)", exact, compared, conns)
}

// TestAnalyzerAdminFatalErrors: the admin-policy inputs netpol-analyzer
// rejects are rejected here too.
func TestAnalyzerAdminFatalErrors(t *testing.T) {
	data, err := os.ReadFile(filepath.Join(analyzerCorpus, "expected_fatal_errors.csv"))
	if err != nil {
		t.Skipf("../shared corpus not present: %v", err)
	}
	rejected, cases := 0, 0
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n")[1:] {
		fields := strings.SplitN(line, ",", 3)
		name, dir := fields[0], fields[1]
		if !adminScenario.MatchString(dir) || notAdmin.MatchString(dir) {
			continue
		}
		cases++
		loaded := source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, filepath.Join(analyzerCorpus, "tests", dir))
		if m := Build(loaded.Objects); len(m.Errors) > 0 {
			rejected++
			t.Logf("%s: %v", dir, m.Errors[0])
		} else {
			t.Errorf("%s (%s): accepted", dir, name)
		}
	}
	t.Logf("netpol-analyzer fatal-error inputs (admin policies): %d/%d rejected", rejected, cases)
}

// TestAnalyzerIngressControllerConformance compares the ingress
// controller's connections ({ingress-controller} => workload) of every
// netpol-analyzer scenario with Ingress or Route objects (except the
// multi-network and virtual-machine ones) with its golden output.
func TestAnalyzerIngressControllerConformance(t *testing.T) {
	outputs, err := filepath.Glob(filepath.Join(analyzerCorpus, "test_outputs/connlist/*_connlist_output.txt"))
	if err != nil || len(outputs) == 0 {
		t.Skipf("../shared corpus not present: the netpol-analyzer fixtures live beside the project")
	}
	exact, compared, conns := 0, 0, 0
	for _, out := range outputs {
		name := strings.TrimSuffix(filepath.Base(out), "_connlist_output.txt")
		dir := filepath.Join(analyzerCorpus, "tests", name)
		if regexp.MustCompile(`udn|nad|virtual_machines|focus|exposure|explain`).MatchString(name) {
			continue
		}
		if _, err := os.Stat(dir); err != nil {
			continue
		}
		loaded := source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, dir)
		if !slices.ContainsFunc(loaded.Objects, func(o *source.Object) bool { return o.Kind() == "Ingress" || o.Kind() == "Route" }) {
			continue
		}
		fromController := func(l string) bool { return strings.HasPrefix(l, IngressController+" => ") }
		want := slices.DeleteFunc(goldenLines(t, out), func(l string) bool { return !fromController(l) })
		got := slices.DeleteFunc(computedLines(Build(loaded.Objects)), func(l string) bool { return !fromController(l) })
		compared++
		if slices.Equal(got, want) {
			exact++
			conns += len(want)
			continue
		}
		t.Errorf("%s: missing %q, extra %q", name, setDiff(want, got), setDiff(got, want))
	}
	t.Logf("netpol-analyzer Ingress/Route scenarios: %d/%d exact (%d ingress-controller connections)", exact, compared, conns)
}

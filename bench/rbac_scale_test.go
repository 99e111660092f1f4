package main

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/checks"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

// TestRBACScale measures issue #4's targets on a generated world of 25,000
// roles, 25,000 bindings and 20,000 service accounts: who-can per query
// after load (< 50 ms), and the full risk and paths analysis (< 5 s).
// Opt-in: KUBEHARDEN_SCALE=1 go test ./bench -run TestRBACScale -v
func TestRBACScale(t *testing.T) {
	if os.Getenv("KUBEHARDEN_SCALE") == "" {
		t.Skip("set KUBEHARDEN_SCALE=1 to run the RBAC scale measurement")
	}
	dir := t.TempDir()
	n, err := generateRBACWorld(dir, defaultRBACWorld, 1)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	loaded := source.Load(ctx, source.Options{MaxFileSize: 64 << 20}, dir)
	if len(loaded.Errors) > 0 {
		t.Fatal(loaded.Errors[0])
	}
	w := rbac.Build(loaded.Objects, rbac.Options{})
	load := time.Since(start)
	t.Logf("loaded %d objects and built the world in %v", n, load.Round(time.Millisecond))

	var queries []rbac.Request
	for _, q := range []struct{ verb, res string }{
		{"get", "secrets"}, {"create", "pods"}, {"create", "pods/exec"}, {"list", "configmaps"}, {"escalate", "clusterroles.rbac.authorization.k8s.io"},
		{"get", "nodes/proxy"}, {"create", "serviceaccounts/token"}, {"patch", "deployments"}, {"get", "/metrics"}, {"delete", "leases"},
	} {
		reqs, err := w.ParseResource(q.res)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range reqs {
			r.Verb = q.verb
			queries = append(queries, r)
		}
	}
	// The first query builds the who-can index; it belongs to loading.
	s := time.Now()
	w.WhoCan(queries[0], true)
	t.Logf("who-can index built by the first query in %v", time.Since(s).Round(time.Millisecond))
	var times []time.Duration
	for i := range 100 {
		q := queries[i%len(queries)]
		all := i%2 == 0
		if !all && q.IsResource() {
			q.Namespace = fmt.Sprintf("team-%d", i)
		}
		s := time.Now()
		answers := w.WhoCan(q, all)
		times = append(times, time.Since(s))
		if len(answers) == 0 {
			t.Fatalf("who-can %s: no answer at all", q)
		}
	}
	slices.Sort(times)
	var sum time.Duration
	for _, d := range times {
		sum += d
	}
	t.Logf("who-can: 100 queries, mean %v, p50 %v, max %v", (sum / 100).Round(time.Microsecond), times[50].Round(time.Microsecond), times[99].Round(time.Microsecond))
	if times[99] > 50*time.Millisecond {
		t.Errorf("slowest who-can took %v (target < 50 ms)", times[99])
	}

	start = time.Now()
	g := w.Escalation(loaded.Objects)
	reaching := 0
	for _, s := range g.Subjects() {
		if len(g.Paths(s)) > 0 {
			reaching++
		}
	}
	graph := time.Since(start)
	reg, err := checks.Registry()
	if err != nil {
		t.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{Selection: check.Selection{Categories: []check.Category{check.AccessControl}}})
	if err != nil {
		t.Fatal(err)
	}
	env := check.NewEnv(inventory.Build(loaded.Objects), check.Settings{})
	out, err := runner.Run(ctx, env)
	if err != nil {
		t.Fatal(err)
	}
	full := time.Since(start)
	byCheck := map[string]int{}
	for _, f := range out.Findings {
		byCheck[f.Check]++
	}
	t.Logf("escalation graph and every subject's paths: %v (%d subjects, %d reach cluster-admin-equivalent power)", graph.Round(time.Millisecond), len(g.Subjects()), reaching)
	t.Logf("full analysis (graph, paths, every access-control check): %v, %d findings %v", full.Round(time.Millisecond), len(out.Findings), byCheck)
	t.Logf("peak RSS %s", peakRSS())
	if full > 5*time.Second {
		t.Errorf("full analysis took %v (target < 5 s)", full)
	}
	runtime.KeepAlive(w)
}

// peakRSS reads this process's VmHWM.
func peakRSS() string {
	data, err := os.ReadFile("/proc/self/status")
	if err != nil {
		return "unknown"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if strings.HasPrefix(line, "VmHWM:") {
			return strings.TrimSpace(strings.TrimPrefix(line, "VmHWM:"))
		}
	}
	return "unknown"
}

package cli

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"runtime/debug"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/spf13/cobra"
	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/checks"
	"github.com/kubeharden/kubeharden/internal/checks/workload"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/report"
	"github.com/kubeharden/kubeharden/internal/source"
)

type scanFlags struct {
	output              string
	failOn              string
	checks, skipChecks  []string
	categories          []string
	configFile          string
	baselineFile        string
	pssVersion          string
	pssLevel            string
	maxFileSize         string
	includeControlPlane bool
	color               string
	helm                source.HelmOptions
	cluster             bool
	snapshot            string
	clusterFlags        clusterFlags
}

func newScanCommand(stdio IO, g *globalFlags) *cobra.Command {
	f := &scanFlags{}
	cmd := &cobra.Command{
		Use:   "scan [PATH...] [--cluster] [--snapshot FILE]",
		Short: "Scan manifests, Helm charts, Kustomize directories, a live cluster or a snapshot",
		Long: "Scan reads YAML and JSON manifests (files, directories walked recursively, or - for stdin),\n" +
			"renders Helm charts (a directory with Chart.yaml, or a .tgz) and builds Kustomize directories\n" +
			"in-process, and reports every finding of the check catalogue. With --cluster it reads every\n" +
			"listable resource of a live cluster (kubeconfig as kubectl), with --snapshot a file written by\n" +
			"`kubeharden snapshot`. Objects a controller created from its template (ReplicaSets, Pods, Jobs)\n" +
			"are reported at their top-level owner unless they differ from the template.\n\n" +
			"Exit codes: 0 nothing at or above --fail-on; 1 findings at or above it;\n" +
			"2 a usage error or an input that could not be read (the rest is still scanned and reported).",
		Example: "  kubeharden scan examples/insecure\n" +
			"  kubeharden scan ./k8s -o sarif > out.sarif\n" +
			"  kubeharden scan chart/ --values prod.yaml\n" +
			"  kubeharden scan overlays/prod\n" +
			"  helm template x chart | kubeharden scan -\n" +
			"  kubeharden scan --cluster --context prod -n payments --kinds Deployment,Role\n" +
			"  kubeharden scan --snapshot prod.json.gz -o sarif",
		RunE: func(cmd *cobra.Command, args []string) error {
			return runScan(cmd, stdio, g, f, args)
		},
	}
	fl := cmd.Flags()
	f.registerReportFlags(fl)
	fl.StringVar(&f.pssVersion, "pss-version", "latest", "Pod Security Standards version: latest or v1.N")
	fl.StringVar(&f.pssLevel, "pss-level", "restricted", "Pod Security Standards level: restricted (baseline and restricted controls) or baseline")
	fl.StringVar(&f.maxFileSize, "max-file-size", "32Mi", "refuse any single input larger than this (e.g. 512Ki, 32Mi, 1Gi)")
	fl.BoolVar(&f.includeControlPlane, "include-control-plane", false, "run every pod check on control-plane static pods too")
	fl.StringArrayVarP(&f.helm.ValuesFiles, "values", "f", nil, "Helm values file (repeatable)")
	fl.StringArrayVar(&f.helm.Set, "set", nil, "Helm value override key=value (repeatable)")
	fl.StringVar(&f.helm.ReleaseName, "release-name", "release", "Helm release name")
	fl.StringVar(&f.helm.Namespace, "release-namespace", "default", "Helm release namespace")
	fl.StringVar(&f.helm.KubeVersion, "kube-version", "", "Kubernetes version charts are rendered for (helm's default when empty)")
	fl.BoolVar(&f.cluster, "cluster", false, "scan the live cluster of the current kubeconfig context")
	fl.StringVar(&f.snapshot, "snapshot", "", "scan a snapshot written by `kubeharden snapshot`")
	f.clusterFlags.register(fl)
	return cmd
}

// registerReportFlags adds the flags scan shares with node: output,
// exit status, check selection, config, baseline and colour.
func (f *scanFlags) registerReportFlags(fl *pflag.FlagSet) {
	fl.StringVarP(&f.output, "output", "o", "table", "output format: table, json, sarif, junit or markdown")
	fl.StringVar(&f.failOn, "fail-on", "high", "exit 1 when a finding is at or above this severity (critical, high, medium, low, info or none)")
	fl.StringSliceVar(&f.checks, "checks", nil, "run only these checks (comma-separated IDs; enables optional checks)")
	fl.StringSliceVar(&f.skipChecks, "skip-checks", nil, "do not run these checks")
	fl.StringSliceVar(&f.categories, "categories", nil, "run only checks of these categories")
	fl.StringVar(&f.configFile, "config", "", "config file (default ./"+check.DefaultConfigFile+" when it exists)")
	fl.StringVar(&f.baselineFile, "baseline", "", "an earlier -o json report: report only findings not in it")
	fl.StringVar(&f.color, "color", "auto", "colour the table: auto, always or never (NO_COLOR is respected)")
}

// scanPlan is everything the flags decide before any input is read.
type scanPlan struct {
	format   report.Format
	failOn   check.Severity
	colour   bool
	maxSize  int64
	runner   *check.Runner
	baseline check.Baseline
	settings check.Settings
}

// plan validates the flags and loads the config and baseline; every
// problem here is a usage error (exit 2) reported before any work.
func (f *scanFlags) plan(stdio IO, log *slog.Logger) (*scanPlan, error) {
	p := &scanPlan{settings: check.Settings{PSSVersion: f.pssVersion, PSSLevel: f.pssLevel}}
	var err error
	if p.format, err = report.ParseFormat(f.output); err != nil {
		return nil, usageError("%v", err)
	}
	if p.failOn, err = parseFailOn(f.failOn); err != nil {
		return nil, usageError("--fail-on: %v", err)
	}
	if _, err := workload.ParsePSSVersion(f.pssVersion); err != nil {
		return nil, usageError("%v", err)
	}
	if f.pssLevel != "restricted" && f.pssLevel != "baseline" {
		return nil, usageError("--pss-level %q: want restricted or baseline", f.pssLevel)
	}
	maxSize, err := resource.ParseQuantity(f.maxFileSize)
	if err != nil || maxSize.Value() <= 0 {
		return nil, usageError("--max-file-size %q: want a size such as 32Mi", f.maxFileSize)
	}
	p.maxSize = maxSize.Value()
	if p.colour, err = useColour(f.color, stdio); err != nil {
		return nil, usageError("%v", err)
	}
	cfg, err := loadConfig(f.configFile)
	if err != nil {
		return nil, usageError("%v", err)
	}
	if cfg != nil {
		for _, e := range cfg.Expired(time.Now()) {
			log.Warn("exemption has expired and no longer applies", "expires", e.Expires, "reason", e.Reason, "checks", e.Checks)
		}
	}
	if f.baselineFile != "" {
		if p.baseline, err = check.LoadBaseline(f.baselineFile); err != nil {
			return nil, usageError("%v", err)
		}
	}
	reg, err := checks.Registry()
	if err != nil {
		return nil, err
	}
	categories := make([]check.Category, 0, len(f.categories))
	for _, c := range f.categories {
		categories = append(categories, check.Category(c))
	}
	p.runner, err = check.NewRunner(reg, check.Options{
		Selection:           check.Selection{Only: f.checks, Skip: f.skipChecks, Categories: categories},
		Config:              cfg,
		IncludeControlPlane: f.includeControlPlane,
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return p, nil
}

// load reads every input the command names: paths, a snapshot, the live
// cluster. Facts about the cluster come from the snapshot or the cluster.
// read, when not nil, is told the size of each file as it is read.
func (f *scanFlags) load(ctx context.Context, stdio IO, log *slog.Logger, maxSize int64, args []string, read func(int64)) (*source.Result, *check.ClusterFacts, error) {
	var co *source.ClusterOptions
	if f.cluster {
		o := f.clusterFlags.options(stdio.Err, stdio.ErrIsTerminal)
		co = &o
	}
	opts := source.Options{MaxFileSize: maxSize, Stdin: stdio.In, Helm: f.helm, Read: read}
	return loadInputs(ctx, log, opts, args, f.snapshot, co)
}

// collectorPhases sets the garbage collector for the phases of a scan,
// unless the environment sets GOGC or GOMEMLIMIT:
//
//   - While files are read and the inventory and models are built from
//     them, it is off. Nearly everything those steps allocate stays live
//     (the decoded objects, their typed pod views, the models), so
//     collecting during them marks the same objects again and again: on
//     the real-world corpus it was a tenth of the CPU. A soft memory limit
//     keeps the collector on call: loadingHeadroom plus loadingBytesFactor
//     times the bytes read so far, well above what decoding them takes,
//     raised by read (which the loader calls as it reads each file).
//   - evaluate turns it back on for evaluation with twice the usual
//     headroom. The first collection then frees what loading left behind.
//     Evaluation allocates mostly the findings it keeps and short strings;
//     with the usual headroom a second collection came near its end, and
//     it marked the whole inventory again to free a few tens of megabytes
//     (on the corpus: 0.44 s against 0.37 s, for the same peak).
//   - done restores the previous settings once the report is written (or
//     on an early return). The writers allocate a few megabytes of
//     buffers, which evaluation's headroom covers: a collection after
//     evaluation would free the objects only for the process to exit
//     (restoring the settings before the writers, as until session 15,
//     made that collection run while the report was written: 10 to 15 ms
//     of a 0.37 s corpus scan, for 4 MB less at the peak).
//
// The settings are the process's: a scan is one command per process (and
// tests run scans one at a time).
func collectorPhases(stdio IO) (read func(bytes int64), evaluate, done func()) {
	if stdio.Getenv("GOGC") != "" || stdio.Getenv("GOMEMLIMIT") != "" {
		return nil, func() {}, func() {}
	}
	var total atomic.Int64
	percent := debug.SetGCPercent(-1)
	limit := debug.SetMemoryLimit(loadingHeadroom)
	read = func(n int64) {
		debug.SetMemoryLimit(loadingHeadroom + loadingBytesFactor*total.Add(n))
	}
	evaluate = func() {
		debug.SetGCPercent(evaluationHeadroom * percent)
		debug.SetMemoryLimit(limit)
	}
	var once sync.Once
	return read, evaluate, func() {
		once.Do(func() {
			debug.SetGCPercent(percent)
			debug.SetMemoryLimit(limit)
		})
	}
}

// evaluationHeadroom multiplies GOGC while checks are evaluated.
const evaluationHeadroom = 2

// The memory limit while loading: decoded objects take 3 to 6 times their
// YAML on the corpora measured (docs/performance.md), parsing garbage about
// as much again.
const (
	loadingHeadroom    = 512 << 20
	loadingBytesFactor = 16
)

// loadInputs reads paths (with opts), a snapshot file and the live cluster
// cluster describes (when not nil), in that order.
func loadInputs(ctx context.Context, log *slog.Logger, opts source.Options, paths []string, snapshot string, cluster *source.ClusterOptions) (*source.Result, *check.ClusterFacts, error) {
	loaded := &source.Result{}
	if len(paths) > 0 {
		loaded = source.Load(ctx, opts, paths...)
	}
	var facts *check.ClusterFacts
	if snapshot != "" {
		snap, info, err := source.LoadSnapshot(snapshot)
		if err != nil {
			return nil, nil, usageError("%v", err)
		}
		facts = clusterFacts(info)
		loaded.Objects = append(loaded.Objects, snap.Objects...)
		loaded.Errors = append(loaded.Errors, snap.Errors...)
	}
	if cluster != nil {
		live, info, err := source.LoadCluster(ctx, *cluster)
		if err != nil {
			return nil, nil, &exitError{code: ExitError, err: err}
		}
		log.Debug("read cluster", "host", info.Host, "version", info.GitVersion, "objects", len(live.Objects))
		facts = clusterFacts(info)
		loaded.Objects = append(loaded.Objects, live.Objects...)
		loaded.Errors = append(loaded.Errors, live.Errors...)
	}
	return loaded, facts, nil
}

func runScan(cmd *cobra.Command, stdio IO, g *globalFlags, f *scanFlags, args []string) error {
	ctx := cmd.Context()
	log := g.logger(stdio.Err)
	p, err := f.plan(stdio, log)
	if err != nil {
		return err
	}
	if len(args) == 0 && !f.cluster && f.snapshot == "" {
		return usageError("scan needs a PATH, --cluster or --snapshot FILE")
	}

	var read func(int64)
	startEvaluation, done := func() {}, func() {}
	if !f.cluster && f.snapshot == "" {
		read, startEvaluation, done = collectorPhases(stdio)
	}
	defer done()
	start := time.Now()
	findings, scanned, inputErrors, err := f.evaluate(ctx, stdio, log, p, args, start, read, startEvaluation)
	if err != nil {
		return err
	}
	if p.baseline != nil {
		findings = p.baseline.FilterNew(findings)
	}
	errs := make([]report.Error, 0, len(inputErrors))
	for _, e := range inputErrors {
		errs = append(errs, report.Error{Source: e.Source, Message: e.Err.Error()})
	}
	defer func() { log.Debug("wrote the report", "elapsed", time.Since(start)) }()
	return p.finish(stdio, scanned, findings, errs)
}

// evaluate reads the inputs, builds the inventory and the models, and runs
// the checks. It returns the findings, the number of objects scanned and
// the inputs that could not be read, sorted. Nothing it returns refers to
// the objects: once it returns, they, the inventory and the models are
// garbage.
//
// read and startEvaluation are the collector's phases (collectorPhases).
func (f *scanFlags) evaluate(ctx context.Context, stdio IO, log *slog.Logger, p *scanPlan, args []string, start time.Time, read func(int64), startEvaluation func()) (check.Findings, int, []*source.Error, error) {
	loaded, facts, err := f.load(ctx, stdio, log, p.maxSize, args, read)
	if err != nil {
		return nil, 0, nil, err
	}
	objects, collapsed := inventory.CollapseOwned(loaded.Objects)
	log.Debug("loaded", "objects", len(objects), "reported at their owner", collapsed, "errors", len(loaded.Errors), "elapsed", time.Since(start))
	// The node model reads only the objects: it is built beside the
	// inventory.
	var node *nodeconfig.Node
	var nodeBuilt sync.WaitGroup
	nodeBuilt.Go(func() { node = nodeconfig.FromObjects(objects) })
	inv := inventory.Build(objects)
	nodeBuilt.Wait()
	env := check.NewEnv(inv, p.settings)
	env.Cluster = facts
	env.Node = node
	p.runner.BuildModels(env)
	startEvaluation()
	log.Debug("built the inventory and models", "pod spec errors", len(inv.PodErrors()), "elapsed", time.Since(start))
	findings, suppressed, err := p.runner.RunParts(ctx, env)
	if err != nil {
		return nil, 0, nil, err
	}
	log.Debug("evaluated", "findings", findings.Len(), "suppressed", suppressed, "elapsed", time.Since(start))
	inputErrors := append(append([]*source.Error{}, loaded.Errors...), inv.PodErrors()...)
	source.SortErrors(inputErrors)
	return findings, inv.Len(), inputErrors, nil
}

// finish writes the report and turns it into the exit status: 2 when an
// input could not be read, 1 when a finding is at or above --fail-on.
func (p *scanPlan) finish(stdio IO, objects int, findings check.Findings, errs []report.Error) error {
	rep := report.New(Version(), objects, findings, errs, p.runner.Checks())
	if err := report.Write(stdio.Out, p.format, rep, report.Options{Color: p.colour}); err != nil {
		return fmt.Errorf("writing report: %w", err)
	}
	switch {
	case len(errs) > 0:
		noun := "inputs"
		if len(errs) == 1 {
			noun = "input"
		}
		return &exitError{code: ExitError, err: fmt.Errorf("%d %s could not be read (see errors in the report)", len(errs), noun)}
	case p.failOn > 0 && worstAtLeast(findings, p.failOn):
		return &exitError{code: ExitFindings}
	}
	return nil
}

// clusterFacts turns what the cluster source learned into the facts
// cluster-level checks read.
func clusterFacts(info source.ClusterInfo) *check.ClusterFacts {
	return &check.ClusterFacts{
		Host:                   info.Host,
		Version:                info.GitVersion,
		AnonymousAuthenticated: info.Anonymous.Authenticated,
		AnonymousAllowed:       info.Anonymous.Allowed,
	}
}

// parseFailOn reads a severity, or "none" (returned as 0) to never fail.
func parseFailOn(s string) (check.Severity, error) {
	if strings.EqualFold(s, "none") {
		return 0, nil
	}
	return check.ParseSeverity(s)
}

func worstAtLeast(fs check.Findings, sev check.Severity) bool {
	for _, f := range fs.All() {
		if f.Severity >= sev {
			return true
		}
	}
	return false
}

func useColour(mode string, stdio IO) (bool, error) {
	switch mode {
	case "always":
		return true, nil
	case "never":
		return false, nil
	case "auto":
		return stdio.OutIsTerminal && stdio.Getenv("NO_COLOR") == "" && stdio.Getenv("TERM") != "dumb", nil
	}
	return false, fmt.Errorf("--color %q: want auto, always or never", mode)
}

// loadConfig reads the named config file, or ./.kubeharden.yaml when none
// is named and it exists.
func loadConfig(name string) (*check.Config, error) {
	if name == "" {
		if _, err := os.Stat(check.DefaultConfigFile); errors.Is(err, os.ErrNotExist) {
			return nil, nil
		}
		name = check.DefaultConfigFile
	}
	return check.LoadConfig(name)
}

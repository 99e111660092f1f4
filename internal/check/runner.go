package check

import (
	"cmp"
	"context"
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Selection narrows the catalogue from the command line.
type Selection struct {
	// Only runs exactly these checks (optional ones included).
	Only []string
	// Skip removes checks.
	Skip []string
	// Categories keeps only checks of these categories.
	Categories []Category
}

// Options configure a Runner.
type Options struct {
	Selection Selection
	// Config is the .kubeharden.yaml file, or nil.
	Config *Config
	// Workers evaluating objects at once; 0 means GOMAXPROCS.
	Workers int
	// IncludeControlPlane runs every pod check on control-plane static pods
	// too (by default only the checks marked ControlPlane do).
	IncludeControlPlane bool
	// Now is the clock used for exemption expiry; nil means time.Now.
	Now func() time.Time
	// Strict lists checks that kubeharden.io/ignore annotations cannot
	// suppress (the admission webhook's strict list).
	Strict []string
}

// Runner evaluates the selected checks. One Runner serves a whole
// inventory (scan), a single object (admission) and a changed subset
// (continuous mode) through the same EvaluateObject, so verdicts cannot
// differ between them.
type Runner struct {
	enabled       []*Check
	podChecks     []*Check
	clusterChecks []*Check
	nodeChecks    []*Check
	models        []*Model            // of the enabled object and pod checks, distinct
	objectChecks  map[string][]*Check // by kind; "" = every kind
	severity      map[string]Severity
	// rules are the findings' shared rules: each enabled check's, and
	// (in overrides) those of results that override its severity or
	// remediation.
	rules      map[*Check]*Rule
	overrides  sync.Map // ruleKey → *Rule
	exemptions []Exemption
	workers    int
	allCPPods  bool
	now        func() time.Time
	strict     map[string]bool
}

// Outcome is the result of a run.
type Outcome struct {
	Findings []Finding
	// Suppressed counts findings silenced by annotations or exemptions.
	Suppressed int
}

// NewRunner selects checks from reg according to opts.
func NewRunner(reg *Registry, opts Options) (*Runner, error) {
	enabled, err := selectChecks(reg, opts)
	if err != nil {
		return nil, err
	}
	r := &Runner{
		enabled:      enabled,
		objectChecks: map[string][]*Check{},
		severity:     map[string]Severity{},
		workers:      opts.Workers,
		allCPPods:    opts.IncludeControlPlane,
		now:          opts.Now,
	}
	if r.workers <= 0 {
		r.workers = runtime.GOMAXPROCS(0)
	}
	if r.now == nil {
		r.now = time.Now
	}
	for _, id := range opts.Strict {
		if _, ok := reg.Get(id); !ok {
			return nil, fmt.Errorf("strict check %q: no such check", id)
		}
		if r.strict == nil {
			r.strict = map[string]bool{}
		}
		r.strict[id] = true
	}
	if opts.Config != nil {
		for id, sev := range opts.Config.Severity {
			r.severity[id] = sev
		}
		r.exemptions = opts.Config.Exemptions
	}
	r.rules = make(map[*Check]*Rule, len(enabled))
	for _, c := range enabled {
		r.rules[c] = newRule(c, r.severityOf(c, 0), c.Remediation)
		for _, m := range c.Models {
			if !slices.Contains(r.models, m) {
				r.models = append(r.models, m)
			}
		}
		if c.Node != nil {
			r.nodeChecks = append(r.nodeChecks, c)
		}
		switch {
		case c.Node != nil && c.Object == nil:
		case c.Cluster != nil:
			r.clusterChecks = append(r.clusterChecks, c)
		case c.Pod != nil:
			r.podChecks = append(r.podChecks, c)
		case len(c.Kinds) == 0:
			r.objectChecks[""] = append(r.objectChecks[""], c)
		default:
			for _, k := range c.Kinds {
				r.objectChecks[k] = append(r.objectChecks[k], c)
			}
		}
	}
	return r, nil
}

// Checks lists the checks this runner evaluates, sorted by ID.
func (r *Runner) Checks() []*Check { return r.enabled }

func selectChecks(reg *Registry, opts Options) ([]*Check, error) {
	known := func(ids []string, flag string) (map[string]bool, error) {
		set := map[string]bool{}
		for _, id := range ids {
			if _, ok := reg.Get(id); !ok {
				return nil, fmt.Errorf("%s: unknown check %q (see `kubeharden checks`)", flag, id)
			}
			set[id] = true
		}
		return set, nil
	}
	only, err := known(opts.Selection.Only, "--checks")
	if err != nil {
		return nil, err
	}
	skip, err := known(opts.Selection.Skip, "--skip-checks")
	if err != nil {
		return nil, err
	}
	cats := map[Category]bool{}
	for _, c := range opts.Selection.Categories {
		if !c.Valid() {
			return nil, fmt.Errorf("--categories: unknown category %q", c)
		}
		cats[c] = true
	}
	enable, disable := map[string]bool{}, map[string]bool{}
	if cfg := opts.Config; cfg != nil {
		if err := cfg.Validate(reg); err != nil {
			return nil, err
		}
		for _, id := range cfg.Checks.Enable {
			enable[id] = true
		}
		for _, id := range cfg.Checks.Disable {
			disable[id] = true
		}
	}
	var out []*Check
	for _, c := range reg.Checks() {
		on := !c.Optional
		if enable[c.ID] {
			on = true
		}
		if disable[c.ID] {
			on = false
		}
		if len(only) > 0 {
			on = only[c.ID]
		}
		if skip[c.ID] || (len(cats) > 0 && !cats[c.Category]) {
			on = false
		}
		if on {
			out = append(out, c)
		}
	}
	return out, nil
}

// Run evaluates every object of env's inventory in parallel. Findings come
// out in inventory order (input, file, document), each object's sorted by
// severity, check and field path, so the report is stable without a global
// sort.
func (r *Runner) Run(ctx context.Context, env *Env) (*Outcome, error) {
	parts, suppressed, err := r.RunParts(ctx, env)
	if err != nil {
		return nil, err
	}
	return &Outcome{Findings: parts.Flat(), Suppressed: suppressed}, nil
}

// RunParts runs every check on env as Run does, and returns the findings in
// the parts the workers produced them in (cluster and node findings first),
// with the number suppressed. A scan's findings are never copied into one
// slice: on the real-world corpus that copy was a tenth of the peak heap.
func (r *Runner) RunParts(ctx context.Context, env *Env) (Findings, int, error) {
	r.buildModels(env)
	objs := env.Inventory.Objects()
	chunk := max(1, min(256, len(objs)/(r.workers*8)+1))
	chunks := make([]chunkFindings, (len(objs)+chunk-1)/chunk)
	var next atomic.Int64
	var wg sync.WaitGroup
	for range r.workers {
		wg.Go(func() {
			// Findings are large structs: each worker collects them in
			// one scratch slice and keeps exact-size copies of it, at the
			// end of each chunk and whenever it holds scratchFindings,
			// rather than growing (and copying) a slice per chunk or one
			// as large as the largest chunk.
			var scratch Outcome
			strs := newInterner()
			env := env.forWorker()
			for ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(chunks) {
					return
				}
				c := &chunks[i]
				keep := func() {
					if len(scratch.Findings) > 0 {
						c.parts = append(c.parts, slices.Clone(scratch.Findings))
						clear(scratch.Findings) // drop references into the objects
					}
					c.suppressed += scratch.Suppressed
					scratch.Findings, scratch.Suppressed = scratch.Findings[:0], 0
				}
				for _, o := range objs[i*chunk : min(len(objs), (i+1)*chunk)] {
					r.evaluateInto(env, o, &scratch, strs)
					if len(scratch.Findings) >= scratchFindings {
						keep()
					}
				}
				keep()
			}
		})
	}
	wg.Wait()
	if err := ctx.Err(); err != nil {
		return nil, 0, fmt.Errorf("evaluating checks: %w", err)
	}
	var first Outcome
	r.evaluateCluster(env, &first) // first: cluster and node findings lead the report
	r.evaluateNode(env, &first)
	findings := Findings{}
	if len(first.Findings) > 0 {
		findings = append(findings, first.Findings)
	}
	suppressed := first.Suppressed
	for _, c := range chunks {
		findings = append(findings, c.parts...)
		suppressed += c.suppressed
	}
	return findings, suppressed, nil
}

// chunkFindings are the findings of one chunk of objects, in parts.
type chunkFindings struct {
	parts      Findings
	suppressed int
}

// scratchFindings is how many findings a worker's scratch slice holds
// before they are copied out: with it, the scratch grows once to a few
// hundred kilobytes, and not to the findings of the chunk with the most
// (on the real-world corpus that growth was 6 MB of the evaluation's
// allocations).
const scratchFindings = 1024

// BuildModels builds the shared models of the enabled checks in env now
// (Run does it first anyway): for a caller that wants them built at a
// moment of its choosing, such as scan, which builds them while the
// collector is paused.
func (r *Runner) BuildModels(env *Env) {
	var wg sync.WaitGroup
	for _, m := range r.models {
		wg.Go(func() { m.Build(env) })
	}
	wg.Wait()
}

// buildModels builds the shared models of the enabled checks side by side,
// one goroutine each: there are a handful, a model that needs another
// waits for it in Env.Memo, and evaluation then never stalls a worker on
// a model another worker is building.
func (r *Runner) buildModels(env *Env) {
	if len(r.models) < 2 {
		return // one model is built as fast lazily
	}
	r.BuildModels(env)
}

// evaluateCluster runs the cluster-level checks when env describes a live
// cluster.
func (r *Runner) evaluateCluster(env *Env, out *Outcome) {
	if env.Cluster == nil {
		return
	}
	ref := ClusterRef(env.Cluster)
	first := len(out.Findings)
	for _, c := range r.clusterChecks {
		for _, res := range c.Cluster(env) {
			f := r.newFinding(c, &ref, Source{}, res)
			if r.exempt(&f) {
				out.Suppressed++
				continue
			}
			out.Findings = append(out.Findings, f)
		}
	}
	slices.SortFunc(out.Findings[first:], compareWithinObject)
}

// evaluateNode runs the node checks when env holds a node's configuration.
// Their findings are grouped by object, in the order the objects first
// appear.
func (r *Runner) evaluateNode(env *Env, out *Outcome) {
	if env.Node == nil {
		return
	}
	var found []Finding
	// A finding about an object of the input (a static pod, a
	// KubeletConfiguration file) honours its kubeharden.io/ignore
	// annotations and points at the field in its text.
	type inputObject struct {
		obj *source.Object
		sup *annotationSuppressor
	}
	objects := map[ObjectRef]inputObject{}
	objectOf := func(f *Finding) inputObject {
		in, ok := objects[*f.Object]
		if !ok {
			if obj, found := env.Inventory.Get(inventory.Key{Group: f.Object.Group(), Kind: f.Object.Kind, Namespace: f.Object.Namespace, Name: f.Object.Name}); found {
				in = inputObject{obj, newAnnotationSuppressor(obj, env.Inventory.Pod(obj))}
			}
			objects[*f.Object] = in
		}
		return in
	}
	for _, c := range r.nodeChecks {
		for _, res := range c.Node(env, env.Node) {
			if res.Object == nil {
				continue // a node check names its object; a result without one is a bug caught by tests
			}
			var src Source
			if res.Source != nil {
				src = *res.Source
			}
			f := r.newFinding(c, res.Object, src, res)
			in := objectOf(&f)
			if (in.sup != nil && !r.strict[f.Check] && in.sup.suppresses(f.Check, f.Container)) || r.exempt(&f) {
				out.Suppressed++
				continue
			}
			if in.obj != nil && f.Path != "" && f.Source.File == in.obj.Source.File {
				f.Source.Line = in.obj.FieldLine(f.Path)
			}
			found = append(found, f)
		}
	}
	order := map[ObjectRef]int{}
	for _, f := range found {
		if _, ok := order[*f.Object]; !ok {
			order[*f.Object] = len(order)
		}
	}
	slices.SortStableFunc(found, func(a, b Finding) int {
		if c := cmp.Compare(order[*a.Object], order[*b.Object]); c != 0 {
			return c
		}
		return compareWithinObject(a, b)
	})
	out.Findings = append(out.Findings, found...)
}

// EvaluateObject runs every applicable check on one object. env's inventory
// supplies the object's pod view and its neighbours; for an object that
// arrives alone (an admission request), build the inventory and the node
// model (nodeconfig.FromObjects) from it.
func (r *Runner) EvaluateObject(env *Env, obj *source.Object) Outcome {
	var out Outcome
	r.evaluateInto(env, obj, &out, nil)
	if env.Node != nil {
		// The node model of an object alone is that object's component
		// (a static pod's flags), so its findings are about obj.
		r.evaluateNode(env, &out)
	}
	return out
}

// evaluateInto appends obj's findings to out, sorted within the object.
// strs, when not nil, shares equal messages and paths between findings.
func (r *Runner) evaluateInto(env *Env, obj *source.Object, out *Outcome, strs *interner) {
	first := len(out.Findings)
	pod := env.Inventory.Pod(obj)
	sup := newAnnotationSuppressor(obj, pod)
	src := Source{File: obj.Source.File, Line: obj.Source.Line}
	var ref *ObjectRef // made with the object's first finding, shared by the rest
	emit := func(c *Check, results []Result) {
		for _, res := range results {
			if ref == nil {
				ref = new(RefOf(obj))
			}
			f := r.newFinding(c, ref, src, res)
			if (sup != nil && !r.strict[f.Check] && sup.suppresses(f.Check, f.Container)) || r.exempt(&f) {
				out.Suppressed++
				continue
			}
			var path source.FieldPath
			if f.Path != "" {
				path = strs.fieldPath(f.Path)
				f.Path = path.Path()
			}
			pos := obj.FieldSourceOf(path)
			f.Source.File, f.Source.Line = pos.File, pos.Line
			f.Message = strs.intern(f.Message)
			out.Findings = append(out.Findings, f)
		}
		env.results.release() // read: the next check may use the buffer
	}
	if pod != nil {
		controlPlane := !r.allCPPods && pod.IsControlPlane()
		for _, c := range r.podChecks {
			if controlPlane && !c.ControlPlane {
				continue
			}
			emit(c, c.Pod(env, pod))
		}
	}
	for _, c := range r.objectChecks[""] {
		emit(c, c.Object(env, obj))
	}
	for _, c := range r.objectChecks[obj.Kind()] {
		emit(c, c.Object(env, obj))
	}
	sortWithinObject(out.Findings[first:])
}

// interner shares equal strings between findings. A run reports the same
// messages and field paths on thousands of objects (on the real-world
// corpus 132,368 findings have 8,332 distinct messages and 524 distinct
// paths), and findings outlive the evaluation: one copy of each is a
// seventh of the live heap there. Each worker has its own, so it needs no
// lock; it stops growing at internerMax strings of each kind. A path is
// kept made ready for finding its line (source.FieldPath).
type interner struct {
	m     map[string]string
	paths map[string]source.FieldPath
}

const internerMax = 1 << 16

func newInterner() *interner {
	return &interner{m: map[string]string{}, paths: map[string]source.FieldPath{}}
}

// fieldPath returns path, shared and made ready for finding its line. A
// nil interner makes it each time.
func (in *interner) fieldPath(path string) source.FieldPath {
	if in == nil {
		return source.NewFieldPath(path)
	}
	p, ok := in.paths[path]
	if !ok {
		p = source.NewFieldPath(path)
		if len(in.paths) < internerMax {
			in.paths[path] = p
		}
	}
	return p
}

// intern returns the string equal to s seen first, or s. A nil interner
// returns s.
func (in *interner) intern(s string) string {
	if in == nil {
		return s
	}
	if t, ok := in.m[s]; ok {
		return t
	}
	if len(in.m) < internerMax {
		in.m[s] = s
	}
	return s
}

// sortWithinObject sorts one object's findings by compareWithinObject.
// Findings are large structs: the sort orders their indices and then moves
// each finding once, instead of copying them through every comparison and
// swap.
func sortWithinObject(fs []Finding) {
	if len(fs) < 2 {
		return
	}
	var buf [32]int32
	idx := buf[:0]
	for i := range fs {
		idx = append(idx, int32(i))
	}
	slices.SortFunc(idx, func(a, b int32) int {
		if c := compareFindings(&fs[a], &fs[b]); c != 0 {
			return c
		}
		return cmp.Compare(a, b) // ties keep emission order
	})
	// Apply the permutation in place, cycle by cycle: position j takes
	// the finding at idx[j]; visited positions are marked -1.
	for i := range fs {
		if idx[i] < 0 {
			continue
		}
		saved, j := fs[i], i
		for {
			k := int(idx[j])
			idx[j] = -1
			if k == i {
				fs[j] = saved
				break
			}
			fs[j] = fs[k]
			j = k
		}
	}
}

// compareWithinObject orders one object's findings: worst first, then by
// check and field path.
func compareWithinObject(a, b Finding) int { return compareFindings(&a, &b) }

func compareFindings(a, b *Finding) int {
	if c := cmp.Compare(b.Severity, a.Severity); c != 0 {
		return c
	}
	if c := strings.Compare(a.Check, b.Check); c != 0 {
		return c
	}
	if c := strings.Compare(a.Container, b.Container); c != 0 {
		return c
	}
	return strings.Compare(a.Path, b.Path)
}

func (r *Runner) newFinding(c *Check, ref *ObjectRef, src Source, res Result) Finding {
	return Finding{
		Rule:      r.ruleOf(c, res),
		Object:    ref,
		Container: res.Container,
		Path:      res.Path,
		Source:    src,
		Message:   res.Message,
	}
}

// ruleOf returns the rule of c's finding for res: the check's own unless
// res overrides the severity (which the configuration's severity for the
// check overrides in turn) or the remediation.
func (r *Runner) ruleOf(c *Check, res Result) *Rule {
	rule, ok := r.rules[c]
	if ok && res.Severity == 0 && res.Remediation == "" {
		return rule
	}
	key := ruleKey{check: c, severity: r.severityOf(c, res.Severity), remediation: cmp.Or(res.Remediation, c.Remediation)}
	if ok && key.severity == rule.Severity && key.remediation == rule.Remediation {
		return rule
	}
	if v, ok := r.overrides.Load(key); ok {
		return v.(*Rule)
	}
	v, _ := r.overrides.LoadOrStore(key, newRule(c, key.severity, key.remediation))
	return v.(*Rule)
}

// severityOf is the severity of c's finding when its result asks for sev
// (0 for the check's own): the configuration's for c wins over both.
func (r *Runner) severityOf(c *Check, sev Severity) Severity {
	if s, ok := r.severity[c.ID]; ok {
		return s
	}
	return cmp.Or(sev, c.Severity)
}

// ruleKey identifies a rule among a check's overrides.
type ruleKey struct {
	check       *Check
	severity    Severity
	remediation string
}

func newRule(c *Check, sev Severity, remediation string) *Rule {
	return &Rule{Check: c.ID, Severity: sev, Category: c.Category, Remediation: remediation, Frameworks: &c.Frameworks}
}

func (r *Runner) exempt(f *Finding) bool {
	if len(r.exemptions) == 0 {
		return false
	}
	now := r.now()
	for i := range r.exemptions {
		if r.exemptions[i].matches(f, now) {
			return true
		}
	}
	return false
}

// Evaluate is a convenience for callers holding a bare object list: it
// builds the inventory, the node model of any static pods and
// configuration files among them, and the environment, and runs r.
func (r *Runner) Evaluate(ctx context.Context, objs []*source.Object, s Settings) (*Outcome, *Env, error) {
	env := NewEnv(inventory.Build(objs), s)
	env.Node = nodeconfig.FromObjects(objs)
	out, err := r.Run(ctx, env)
	return out, env, err
}

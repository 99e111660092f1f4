package source

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
)

// DefaultMaxFileSize is the largest input file read, unless
// Options.MaxFileSize says otherwise. Real manifests are kilobytes; the
// largest common bundles (CRDs, operators) are a few megabytes.
const DefaultMaxFileSize = 32 << 20

// Options controls loading.
type Options struct {
	// MaxFileSize refuses any single input (file, stdin, rendered chart)
	// larger than this many bytes. 0 means DefaultMaxFileSize.
	MaxFileSize int64
	// Workers is the number of files parsed at once; 0 means GOMAXPROCS.
	Workers int
	// Stdin is read for the path "-".
	Stdin io.Reader
	// Helm holds the values and release settings for Helm charts.
	Helm HelmOptions
	// Read, when set, is told the size of each file (and of standard
	// input) as it is read, from the loading workers at once.
	Read func(bytes int64)
}

// Result is everything loaded: objects in a deterministic order (input
// order, then file order, then document order) and the inputs that could
// not be read.
type Result struct {
	Objects []*Object
	Errors  []*Error
}

// task is one unit of loading: a file, stdin, a chart or a kustomization.
type task struct {
	kind taskKind
	path string
	// walked is set for files found by walking a directory rather than
	// named by the user: documents in them that are not Kubernetes objects
	// at all (CI workflows, application config) are skipped, not errors.
	walked bool
}

type taskKind int

const (
	taskFile taskKind = iota
	taskStdin
	taskHelm
	taskKustomize
)

// Load reads every path (a file, a directory walked recursively, a Helm
// chart directory or archive, a Kustomize directory, or "-" for stdin).
// Problems with individual inputs are returned in Result.Errors; loading
// goes on with the rest.
func Load(ctx context.Context, opts Options, paths ...string) *Result {
	if opts.MaxFileSize <= 0 {
		opts.MaxFileSize = DefaultMaxFileSize
	}
	if opts.Workers <= 0 {
		opts.Workers = runtime.GOMAXPROCS(0)
	}
	// The walk hands tasks to the workers as it finds them: they parse the
	// first files while it still reads directories (on the real-world
	// corpus the walk alone took 30 ms).
	found := make(chan numberedTask, 256)
	var (
		walkErrs []*Error
		tasks    int
	)
	go func() {
		defer close(found)
		emit := func(t task) bool {
			select {
			case found <- numberedTask{tasks, t}:
				tasks++
				return true
			case <-ctx.Done():
				return false
			}
		}
		for _, p := range paths {
			walkErrs = append(walkErrs, plan(p, emit)...)
		}
	}()

	done := make([][]numberedResult, opts.Workers)
	var wg sync.WaitGroup
	for w := range done {
		wg.Go(func() {
			s := scratch{fast: fastParser{shared: newSubtrees()}}
			for t := range found {
				r := run(ctx, opts, t.task, &s)
				if r.objects == nil && r.errors == nil && ctx.Err() != nil {
					r.errors = []*Error{{Source: t.path, Err: ctx.Err()}}
				}
				done[w] = append(done[w], numberedResult{t.n, r})
			}
		})
	}
	wg.Wait() // the walk has ended too: it closed found

	results := make([]taskResult, tasks)
	for _, rs := range done {
		for _, r := range rs {
			results[r.n] = r.result
		}
	}
	objects := 0
	for _, r := range results {
		objects += len(r.objects)
	}
	out := &Result{Objects: make([]*Object, 0, objects), Errors: walkErrs}
	for _, r := range results {
		out.Objects = append(out.Objects, r.objects...)
		out.Errors = append(out.Errors, r.errors...)
	}
	return out
}

// numberedTask is a task with its place in walk order, numberedResult its
// result: results are put back in that order.
type numberedTask struct {
	n int
	task
}

type numberedResult struct {
	n      int
	result taskResult
}

type taskResult struct {
	objects []*Object
	errors  []*Error
	// templated are the objects of helm template's output on stdin,
	// placed in the templates its "# Source:" comments name: their field
	// lines are in those files (indexTemplates), not in the text parsed.
	templated []*Object
}

// plan expands one user-named path into tasks, handing each to emit as it
// is found, and returns the paths that could not be read. It stops when
// emit returns false.
func plan(path string, emit func(task) bool) []*Error {
	if path == "-" {
		emit(task{kind: taskStdin, path: "-"})
		return nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return []*Error{{Source: path, Err: errors.Unwrap(err)}}
	}
	if !info.IsDir() {
		if isChartArchive(path) {
			emit(task{kind: taskHelm, path: path})
		} else {
			emit(task{kind: taskFile, path: path})
		}
		return nil
	}
	w := walker{emit: emit}
	w.dir(path, true)
	return w.errs
}

// walker walks a directory tree in lexical order, as filepath.WalkDir
// does, reading each directory once: a directory's entries also say
// whether it is a chart or a kustomization, with no stat of each marker
// file (the corpus has 2,241 directories).
type walker struct {
	emit    func(task) bool
	errs    []*Error
	stopped bool
}

// dir hands out the directory as one task when it is a chart or a
// kustomization, and its manifests and subdirectories' otherwise. The
// directory the user named is walked even through a link, and read as a
// chart or kustomization even when its name is one of skippedDirs.
func (w *walker) dir(path string, named bool) {
	entries, err := os.ReadDir(path)
	if err != nil {
		w.errs = append(w.errs, &Error{Source: path, Err: errors.Unwrap(err)})
		return
	}
	if k := dirKind(path, entries); k != taskFile {
		w.stopped = !w.emit(task{kind: k, path: path})
		return
	}
	if named && skippedDirs[filepath.Base(path)] {
		return
	}
	for _, e := range entries {
		if w.stopped {
			return
		}
		name := e.Name()
		switch {
		case e.Type()&fs.ModeSymlink != 0:
			// never follow links out of the tree
		case e.IsDir():
			if !skippedDirs[name] {
				w.dir(filepath.Join(path, name), false)
			}
		case isManifestName(name):
			w.stopped = !w.emit(task{kind: taskFile, path: filepath.Join(path, name), walked: true})
		}
	}
}

// skippedDirs are never walked: version-control metadata and package
// caches. Other hidden directories are walked, since test and tooling
// directories (.chainsaw-test, .kyverno-test) hold real manifests.
var skippedDirs = map[string]bool{".git": true, ".hg": true, ".svn": true, "node_modules": true}

// isManifestName reports whether a file found in a directory walk is read:
// YAML and JSON files, except the well-known files that are not manifests.
func isManifestName(name string) bool {
	ext := strings.ToLower(filepath.Ext(name))
	if ext != ".yaml" && ext != ".yml" && ext != ".json" {
		return false
	}
	base := strings.ToLower(strings.TrimSuffix(name, filepath.Ext(name)))
	switch {
	case base == "kustomization", base == "chart", base == "package", base == "package-lock",
		base == "tsconfig", base == "composer", base == "docker-compose", base == "compose":
		return false
	case strings.HasPrefix(base, "values"): // Helm values files outside a chart
		return false
	}
	return true
}

// dirKind says how a directory is read, from its entries (sorted by name,
// as os.ReadDir returns them): as a Helm chart when it has a Chart.yaml,
// as a Kustomize directory when it has a kustomization file, and otherwise
// file by file.
func dirKind(dir string, entries []fs.DirEntry) taskKind {
	has := func(name string) bool {
		i, ok := slices.BinarySearchFunc(entries, name, func(e fs.DirEntry, name string) int { return strings.Compare(e.Name(), name) })
		if !ok {
			return false
		}
		switch t := entries[i].Type(); {
		case t.IsRegular():
			return true
		case t&fs.ModeSymlink != 0:
			return fileExists(filepath.Join(dir, name))
		}
		return false
	}
	if has("Chart.yaml") {
		return taskHelm
	}
	if has("kustomization.yaml") || has("kustomization.yml") || has("Kustomization") {
		return taskKustomize
	}
	return taskFile
}

func isChartArchive(path string) bool {
	return strings.HasSuffix(path, ".tgz") || strings.HasSuffix(path, ".tar.gz")
}

func fileExists(p string) bool {
	info, err := os.Stat(p)
	return err == nil && info.Mode().IsRegular()
}

// scratch is what a loading worker reuses from file to file: the file
// buffer and the fast parser's line table. Decoded values never point into
// either (every string is a copy).
type scratch struct {
	fast fastParser
	buf  []byte
}

func run(ctx context.Context, opts Options, t task, s *scratch) taskResult {
	if ctx.Err() != nil {
		return taskResult{}
	}
	switch t.kind {
	case taskStdin:
		if opts.Stdin == nil {
			return failed(t.path, errors.New("no standard input"))
		}
		data, err := readLimited(opts.Stdin, opts.MaxFileSize)
		if err != nil {
			return failed("-", err)
		}
		opts.reported(len(data))
		r := parseWith(&s.fast, "-", data, false)
		indexTemplates(r.templated, templateFiles(opts.MaxFileSize))
		return r
	case taskHelm:
		return renderHelm(ctx, opts, t.path)
	case taskKustomize:
		return buildKustomize(opts, t.path)
	default:
		data, err := readFile(t.path, opts.MaxFileSize, s.buf[:0])
		if err != nil {
			return failed(t.path, err)
		}
		if cap(data) <= 1<<24 {
			s.buf = data // one huge file should not pin its buffer
		}
		opts.reported(len(data))
		return parseWith(&s.fast, t.path, data, t.walked)
	}
}

func (o Options) reported(n int) {
	if o.Read != nil {
		o.Read(int64(n))
	}
}

func failed(src string, err error) taskResult {
	return taskResult{errors: []*Error{{Source: src, Err: err}}}
}

// parse decodes one file's bytes into objects attributed to file. With
// lenient, documents that are not Kubernetes objects at all are skipped.
func parse(file string, data []byte, lenient bool) taskResult {
	return parseWith(new(fastParser), file, data, lenient)
}

// parseWith is parse reusing fast's line table.
func parseWith(fast *fastParser, file string, data []byte, lenient bool) taskResult {
	var r taskResult

	defer func() {
		if cap(fast.lines) > 1<<16 {
			fast.lines = nil // one huge file should not pin its table
		}
		fast.fields.release()
	}()
	decodeFile(fast, data, lenient,
		func(o parsedObject) {
			obj := NewObject(o.body, Position{File: file, Line: o.line}, o.item)
			obj.fields = o.fields
			if file == "-" && o.template != "" {
				// helm template output on stdin: point at the template.
				obj.Source = Position{File: o.template, Line: o.templateLine}
				obj.fields = nil
				r.templated = append(r.templated, obj)
			}
			r.objects = append(r.objects, obj)
		},
		func(e documentError) {
			src := file
			if e.line > 0 {
				src = Position{File: file, Line: e.line}.String()
			}
			r.errors = append(r.errors, &Error{Source: src, Err: e.err})
		})
	return r
}

// ParseBytes decodes a YAML or JSON stream held in memory, naming it name.
func ParseBytes(name string, data []byte) *Result {
	r := parse(name, data, false)
	indexTemplates(r.templated, templateFiles(DefaultMaxFileSize))
	return &Result{Objects: r.objects, Errors: r.errors}
}

// readFile reads path, refusing it when it is larger than limit, into
// buf's array when that is large enough.
func readFile(path string, limit int64, buf []byte) ([]byte, error) {
	f, size, mode, err := openFile(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if !mode.IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", mode.Type())
	}
	if size > limit {
		return nil, sizeError(size, limit)
	}
	// Read the size stat reported plus one byte, to notice a file that
	// grew, into a buffer that needs no regrowth. A regular file's read
	// returns fewer bytes than asked only at its end, so the usual file
	// takes one read.
	if int64(cap(buf)) < size+1 {
		buf = make([]byte, 0, size+1)
	}
	data := buf[:size+1]
	n, err := f.Read(data)
	for err == nil && n < int(size) {
		var more int
		more, err = f.Read(data[n:])
		n += more
	}
	if err != nil && !errors.Is(err, io.EOF) {
		return nil, err
	}
	if n <= int(size) {
		return data[:n], nil
	}
	rest, err := readLimited(f, limit-int64(n))
	if err != nil {
		return nil, err
	}
	return append(data, rest...), nil
}

func readLimited(r io.Reader, limit int64) ([]byte, error) {
	data, err := io.ReadAll(io.LimitReader(r, limit+1))
	if err != nil {
		return nil, err
	}
	if int64(len(data)) > limit {
		return nil, sizeError(-1, limit)
	}
	return data, nil
}

func sizeError(size, limit int64) error {
	if size < 0 {
		return fmt.Errorf("input is larger than the per-file limit of %s (--max-file-size)", humanBytes(limit))
	}
	return fmt.Errorf("file is %s, larger than the per-file limit of %s (--max-file-size)", humanBytes(size), humanBytes(limit))
}

func humanBytes(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// SortErrors orders errors by source for stable output.
func SortErrors(errs []*Error) {
	slices.SortStableFunc(errs, func(a, b *Error) int { return strings.Compare(a.Source, b.Source) })
}

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
	var (
		tasks   []task
		walkErr []*Error
	)
	for _, p := range paths {
		t, errs := plan(p)
		tasks = append(tasks, t...)
		walkErr = append(walkErr, errs...)
	}

	results := make([]taskResult, len(tasks))
	next := make(chan int)
	var wg sync.WaitGroup
	for range min(opts.Workers, max(len(tasks), 1)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := scratch{fast: fastParser{shared: newSubtrees()}}
			for i := range next {
				results[i] = run(ctx, opts, tasks[i], &s)
			}
		}()
	}
feed:
	for i := range tasks {
		select {
		case next <- i:
		case <-ctx.Done():
			break feed
		}
	}
	close(next)
	wg.Wait()

	out := &Result{Errors: walkErr}
	for i, r := range results {
		out.Objects = append(out.Objects, r.objects...)
		out.Errors = append(out.Errors, r.errors...)
		if r.objects == nil && r.errors == nil && ctx.Err() != nil {
			out.Errors = append(out.Errors, &Error{Source: tasks[i].path, Err: ctx.Err()})
		}
	}
	return out
}

type taskResult struct {
	objects []*Object
	errors  []*Error
}

// plan expands one user-named path into tasks.
func plan(path string) ([]task, []*Error) {
	if path == "-" {
		return []task{{kind: taskStdin, path: "-"}}, nil
	}
	info, err := os.Stat(path)
	if err != nil {
		return nil, []*Error{{Source: path, Err: errors.Unwrap(err)}}
	}
	if !info.IsDir() {
		if isChartArchive(path) {
			return []task{{kind: taskHelm, path: path}}, nil
		}
		return []task{{kind: taskFile, path: path}}, nil
	}
	if k := dirKind(path); k != taskFile {
		return []task{{kind: k, path: path}}, nil
	}
	var (
		tasks []task
		errs  []*Error
	)
	walkErr := filepath.WalkDir(path, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			errs = append(errs, &Error{Source: p, Err: errors.Unwrap(err)})
			if d != nil && d.IsDir() {
				return fs.SkipDir
			}
			return nil
		}
		name := d.Name()
		if d.IsDir() {
			if skippedDirs[name] {
				return fs.SkipDir
			}
			if p == path {
				return nil
			}
			if k := dirKind(p); k != taskFile {
				tasks = append(tasks, task{kind: k, path: p})
				return fs.SkipDir
			}
			return nil
		}
		if d.Type()&fs.ModeSymlink != 0 {
			return nil // never follow links out of the tree
		}
		if isManifestName(name) {
			tasks = append(tasks, task{kind: taskFile, path: p, walked: true})
		}
		return nil
	})
	if walkErr != nil {
		errs = append(errs, &Error{Source: path, Err: walkErr})
	}
	return tasks, errs
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

// dirKind says how a directory is read: as a Helm chart, as a Kustomize
// directory, or walked for manifest files.
func dirKind(dir string) taskKind {
	if fileExists(filepath.Join(dir, "Chart.yaml")) {
		return taskHelm
	}
	for _, name := range []string{"kustomization.yaml", "kustomization.yml", "Kustomization"} {
		if fileExists(filepath.Join(dir, name)) {
			return taskKustomize
		}
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
		return parseWith(&s.fast, "-", data, false)
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
	}()
	decodeFile(fast, data, lenient,
		func(o parsedObject, doc int) {
			pos := Position{File: file, Line: o.line}
			if file == "-" && o.template != "" {
				// helm template output on stdin: point at the template.
				pos = Position{File: o.template, Line: o.templateLine}
			}
			r.objects = append(r.objects, NewObject(o.body, pos, doc, o.item))
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
	return &Result{Objects: r.objects, Errors: r.errors}
}

// readFile reads path, refusing it when it is larger than limit, into
// buf's array when that is large enough.
func readFile(path string, limit int64, buf []byte) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, errors.Unwrap(err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !info.Mode().IsRegular() {
		return nil, fmt.Errorf("not a regular file (%s)", info.Mode().Type())
	}
	if info.Size() > limit {
		return nil, sizeError(info.Size(), limit)
	}
	// Read exactly the size stat reported (plus one byte to notice a file
	// that grew): no buffer regrowth for the common case.
	if int64(cap(buf)) < info.Size()+1 {
		buf = make([]byte, 0, info.Size()+1)
	}
	data := buf[:info.Size()+1]
	n, err := io.ReadFull(f, data)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF) || errors.Is(err, io.EOF):
		return data[:n], nil
	case err != nil:
		return nil, err
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

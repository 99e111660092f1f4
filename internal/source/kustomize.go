package source

import (
	"fmt"
	"path/filepath"
	"reflect"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/kustomize/api/krusty"
	"sigs.k8s.io/kustomize/api/resmap"
	"sigs.k8s.io/kustomize/api/types"
	"sigs.k8s.io/kustomize/kyaml/filesys"
	"sigs.k8s.io/yaml"
)

// buildKustomize runs `kustomize build` in-process and parses the result.
// Objects are attributed to the kustomization file. Kustomize records
// where each resource came from when asked (buildMetadata:
// [originAnnotations]); the build asks for it, so that a finding on a
// field the resource file spells, and the build left as it was, points at
// that file's line (Object.FieldSourceOf).
func buildKustomize(opts Options, dir string) taskResult {
	file := kustomizationFile(dir)
	fsys, err := newOriginFS(dir)
	if err != nil {
		return failed(dir, fmt.Errorf("kustomize build: %w", err))
	}
	k := krusty.MakeKustomizer(krusty.MakeDefaultOptions())
	resources, err := k.Run(fsys, dir)
	if err != nil {
		return failed(dir, fmt.Errorf("kustomize build: %w", err))
	}
	origins, err := originsOf(resources, fsys.asked)
	if err != nil {
		return failed(dir, fmt.Errorf("kustomize build: %w", err))
	}
	data, err := resources.AsYaml()
	if err != nil {
		return failed(dir, fmt.Errorf("kustomize build: serialising output: %w", err))
	}
	if int64(len(data)) > opts.MaxFileSize {
		return failed(dir, sizeError(int64(len(data)), opts.MaxFileSize))
	}
	r := parse(file, data, false)
	if len(origins) != len(r.objects) {
		origins = nil // a document per resource, or no origins at all
	}
	files := resourceFiles{limit: opts.MaxFileSize, docs: map[string][]*Object{}}
	for i, o := range r.objects {
		o.Source.Line = 0 // the line in the built stream means nothing to the user
		o.fields = nil    // and neither do its fields' lines
		if origins != nil && origins[i] != "" {
			o.origin = files.document(filepath.Join(fsys.root(), origins[i]), o)
		}
	}
	return r
}

// originsOf returns the path each resource was read from (relative to the
// kustomization's directory), "" for one kustomize made (a generator's)
// or read from a remote base, and takes the origin annotations off unless
// the kustomization itself asked for them.
func originsOf(resources resmap.ResMap, keep bool) ([]string, error) {
	var paths []string
	for _, r := range resources.Resources() {
		origin, err := r.GetOrigin()
		if err != nil {
			return nil, fmt.Errorf("reading an origin annotation: %w", err)
		}
		path := ""
		if origin != nil && origin.Repo == "" && origin.ConfiguredIn == "" {
			path = origin.Path
		}
		paths = append(paths, path)
	}
	if !keep {
		if err := resources.RemoveOriginAnnotations(); err != nil {
			return nil, fmt.Errorf("removing origin annotations: %w", err)
		}
	}
	return paths, nil
}

// originFS is the disk, except that the kustomization file of the build's
// directory asks for origin annotations. asked records whether it did
// itself.
type originFS struct {
	filesys.FileSystem
	named string   // the directory as the user named it
	dirs  []string // the directory, absolute, and with links resolved
	asked bool
}

func newOriginFS(dir string) (*originFS, error) {
	abs, err := filepath.Abs(dir)
	if err != nil {
		return nil, err
	}
	dirs := []string{abs}
	if real, err := filepath.EvalSymlinks(abs); err == nil && real != abs {
		dirs = append(dirs, real)
	}
	return &originFS{FileSystem: filesys.MakeFsOnDisk(), named: dir, dirs: dirs}, nil
}

// ReadFile is the disk's, with originAnnotations added to the build
// directory's kustomization.
func (f *originFS) ReadFile(path string) ([]byte, error) {
	data, err := f.FileSystem.ReadFile(path)
	if err != nil || !f.isKustomization(path) {
		return data, err
	}
	var k types.Kustomization
	if k.Unmarshal(data) != nil {
		return data, nil // kustomize reports it
	}
	if slices.Contains(k.BuildMetadata, types.OriginAnnotations) {
		f.asked = true
		return data, nil
	}
	k.BuildMetadata = append(k.BuildMetadata, types.OriginAnnotations)
	out, err := yaml.Marshal(&k)
	if err != nil {
		return data, nil
	}
	return out, nil
}

// root is the directory origin paths are relative to: the build's as the
// user named it, or where it really is when that is through a link (a
// path such as "../base/x.yaml" leads elsewhere from the link).
func (f *originFS) root() string {
	if len(f.dirs) > 1 {
		return f.dirs[1]
	}
	return f.named
}

func (f *originFS) isKustomization(path string) bool {
	abs, err := filepath.Abs(path)
	if err != nil || !slices.Contains(f.dirs, filepath.Dir(abs)) {
		return false
	}
	return slices.Contains(kustomizationNames, filepath.Base(abs))
}

// kustomizationNames are the names kustomize looks for, in its order.
var kustomizationNames = []string{"kustomization.yaml", "kustomization.yml", "Kustomization"}

func kustomizationFile(dir string) string {
	for _, name := range kustomizationNames {
		p := filepath.Join(dir, name)
		if fileExists(p) {
			return p
		}
	}
	return dir
}

// resourceFiles reads the resource files of one build, once each.
type resourceFiles struct {
	limit int64
	docs  map[string][]*Object
}

// document returns the object of file that built became: the only one of
// its kind and name, or, when a name prefix or suffix was added, the only
// one of its kind whose name the built name contains. It returns nil when
// the file cannot be read or no single document matches.
func (r resourceFiles) document(file string, built *Object) *Object {
	docs, ok := r.docs[file]
	if !ok {
		if data, err := readFile(file, r.limit, nil); err == nil {
			docs = parse(file, data, false).objects
		}
		r.docs[file] = docs
	}
	var exact, within []*Object
	for _, d := range docs {
		if d.Kind() != built.Kind() || d.Group() != built.Group() || d.Name() == "" {
			continue
		}
		switch {
		case d.Name() == built.Name():
			exact = append(exact, d)
		case strings.Contains(built.Name(), d.Name()):
			within = append(within, d)
		}
	}
	switch {
	case len(exact) == 1:
		return exact[0]
	case len(exact) == 0 && len(within) == 1:
		return within[0]
	}
	return nil
}

// FieldSourceOf is where the field p names is written. For an object a
// Kustomize build made from a resource file, that is the file, at the
// field's line, when the build left the field as the file has it: the
// same value, or missing in both below the same field. A field an overlay
// patched, added or removed is the kustomization's (the object's own
// source). For other objects it is FieldLineOf in the object's own
// source. An empty path names the object.
func (o *Object) FieldSourceOf(p FieldPath) Position {
	if o.origin == nil {
		return Position{File: o.Source.File, Line: o.FieldLineOf(p)}
	}
	if p.path == "" {
		return o.origin.Source
	}
	built, n := valueAt(o.Body(), p.path)
	read, m := valueAt(o.origin.Body(), p.path)
	switch {
	case n == 0 || m != n:
	case n < len(p.path), reflect.DeepEqual(built, read):
		return Position{File: o.origin.Source.File, Line: o.origin.FieldLineOf(p)}
	}
	return o.Source
}

// valueAt walks path ("spec.containers[0].image") down v as far as v
// goes, and returns the value reached and the length of the path walked
// (0 when not even its first field is there). A key may hold dots
// ("app.kubernetes.io/name"): the longest key that matches is taken.
func valueAt(v any, path string) (any, int) {
	walked := 0
	for i := 0; i < len(path); {
		switch node := v.(type) {
		case map[string]any:
			if path[i] == '.' {
				if i == 0 {
					return v, walked
				}
				i++
			}
			next, end := any(nil), -1
			for j := i; j <= len(path); j++ {
				if j < len(path) && path[j] != '.' && path[j] != '[' {
					continue
				}
				if child, ok := node[path[i:j]]; ok {
					next, end = child, j
				}
			}
			if end < 0 {
				return v, walked
			}
			v, i, walked = next, end, end
		case []any:
			if path[i] != '[' {
				return v, walked
			}
			close := strings.IndexByte(path[i:], ']')
			if close < 0 {
				return v, walked
			}
			index, err := strconv.Atoi(path[i+1 : i+close])
			if err != nil || index < 0 || index >= len(node) {
				return v, walked
			}
			v, i, walked = node[index], i+close+1, i+close+1
		default:
			return v, walked
		}
	}
	return v, walked
}

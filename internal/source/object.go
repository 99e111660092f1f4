// Package source loads Kubernetes objects, with the file and line they came
// from, out of manifests, directories, stdin, Helm charts and Kustomize
// directories.
package source

import (
	"fmt"
	"strings"
)

// Position is where an object (or one of its fields) was read from.
type Position struct {
	// File is the path as the user named it (or "-" for stdin, or the
	// template path inside a rendered Helm chart).
	File string
	// Line is 1-based; 0 when unknown.
	Line int
}

func (p Position) String() string {
	if p.Line == 0 {
		return p.File
	}
	return fmt.Sprintf("%s:%d", p.File, p.Line)
}

// Object is one decoded Kubernetes object. Body is the decoded document as
// produced by encoding/json-compatible decoding (map[string]any, []any,
// string, int64, float64, bool, nil). Objects are read-only once loaded:
// the loader hands out one value for equal nested blocks, so parts of a
// Body may be shared with other objects.
type Object struct {
	Body map[string]any
	// Source is where the object starts.
	Source Position
	// Item is the index inside a List document, or -1.
	Item int
	// fields are the lines of the fields of the document the object was
	// read from, or nil.
	fields *fieldIndex
	// origin is, for an object a Kustomize build made, the document of
	// the resource file it was made from, or nil (FieldSourceOf).
	origin *Object

	// apiVersion, kind, name and namespace as NewObject read them from
	// Body, once: they are asked for all the time (dispatch, indexes,
	// models, every finding), and a loaded object never changes. An Object
	// written as a literal has identity false and reads Body each time.
	apiVersion, kind, name, namespace string
	identity                          bool
}

// NewObject returns the object for body, read from src.
func NewObject(body map[string]any, src Position, item int) *Object {
	o := &Object{Body: body, Source: src, Item: item}
	o.apiVersion, o.kind = str(body["apiVersion"]), str(body["kind"])
	o.name, o.namespace = nameOf(o.Metadata()), str(o.Metadata()["namespace"])
	o.identity = true
	return o
}

// FieldLine returns the line of the deepest field of path (a path as
// findings name fields: "spec.containers[0].image") that the object's text
// spells, or the object's own line: for an empty path, for a field the
// text leaves out, and for objects not read from text (a cluster, a
// Kustomize build, a chart whose template cannot be read).
func (o *Object) FieldLine(path string) int {
	if o.fields == nil || o.Source.Line <= 0 {
		return o.Source.Line
	}
	h, root := uint64(fnvOffset), true
	if o.Item >= 0 {
		h, root = hashIndex(hashBytes(h, "items"), o.Item), false
	}
	if l := o.fields.line(h, root, path); l > 0 {
		return o.fields.base + l - 1
	}
	return o.Source.Line
}

// A FieldPath is a field path made ready for FieldLineOf, which finds it
// in any number of objects without reading the path again: a run reports
// a few hundred distinct paths on a hundred thousand findings.
type FieldPath struct {
	path string
	keys []uint64 // prefixKeys from a document's root
}

// NewFieldPath makes path ready for FieldLineOf.
func NewFieldPath(path string) FieldPath {
	if path == "" {
		return FieldPath{}
	}
	return FieldPath{path: path, keys: prefixKeys(nil, fnvOffset, true, path)}
}

// Path is the path p was made from.
func (p FieldPath) Path() string { return p.path }

// FieldLineOf is FieldLine(p.Path()).
func (o *Object) FieldLineOf(p FieldPath) int {
	if o.fields == nil || o.Source.Line <= 0 || p.path == "" {
		return o.Source.Line
	}
	if o.Item >= 0 { // an item's paths continue "items[i]"
		return o.FieldLine(p.path)
	}
	if l := o.fields.lineOf(p.keys); l > 0 {
		return o.fields.base + l - 1
	}
	return o.Source.Line
}

// APIVersion returns apiVersion, or "".
func (o *Object) APIVersion() string {
	if o.identity {
		return o.apiVersion
	}
	return str(o.Body["apiVersion"])
}

// Kind returns kind, or "".
func (o *Object) Kind() string {
	if o.identity {
		return o.kind
	}
	return str(o.Body["kind"])
}

// Group returns the API group of apiVersion ("" for the core group).
func (o *Object) Group() string {
	if g, _, ok := strings.Cut(o.APIVersion(), "/"); ok {
		return g
	}
	return ""
}

// Metadata returns metadata as a map, or nil.
func (o *Object) Metadata() map[string]any {
	m, _ := o.Body["metadata"].(map[string]any)
	return m
}

// Name returns metadata.name, falling back to metadata.generateName.
func (o *Object) Name() string {
	if o.identity {
		return o.name
	}
	return nameOf(o.Metadata())
}

func nameOf(metadata map[string]any) string {
	if n := str(metadata["name"]); n != "" {
		return n
	}
	return str(metadata["generateName"])
}

// Namespace returns metadata.namespace, or "".
func (o *Object) Namespace() string {
	if o.identity {
		return o.namespace
	}
	return str(o.Metadata()["namespace"])
}

// Annotations returns metadata.annotations with only string values kept.
func (o *Object) Annotations() map[string]string { return StringMap(o.Metadata()["annotations"]) }

// Labels returns metadata.labels with only string values kept.
func (o *Object) Labels() map[string]string { return StringMap(o.Metadata()["labels"]) }

// String names the object the way kubectl does: Kind namespace/name.
func (o *Object) String() string {
	if ns := o.Namespace(); ns != "" {
		return fmt.Sprintf("%s %s/%s", o.Kind(), ns, o.Name())
	}
	return fmt.Sprintf("%s %s", o.Kind(), o.Name())
}

// StringMap converts a decoded map to map[string]string, keeping string values.
func StringMap(v any) map[string]string {
	m, ok := v.(map[string]any)
	if !ok || len(m) == 0 {
		return nil
	}
	out := make(map[string]string, len(m))
	for k, val := range m {
		if s, ok := val.(string); ok {
			out[k] = s
		}
	}
	return out
}

func str(v any) string {
	s, _ := v.(string)
	return s
}

// Error is a problem with one input. The scan goes on without it.
type Error struct {
	// Source names the input: a path, "path:line", "-", a chart or a
	// kustomization directory.
	Source string
	Err    error
}

func (e *Error) Error() string { return e.Source + ": " + e.Err.Error() }
func (e *Error) Unwrap() error { return e.Err }

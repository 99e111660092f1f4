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

// Object is one decoded Kubernetes object: the document as produced by
// encoding/json-compatible decoding (map[string]any, []any, string, int64,
// float64, bool, nil), read through Body, Field and MetadataField. Objects
// are read-only once loaded: the loader hands out one value for equal
// nested blocks, so parts of a document may be shared with other objects.
//
// The object's own two mappings, its top level and its metadata, are not
// kept as maps. Every object has them, they are its own (a Deployment's
// spec may be its ReplicaSet's too, but its metadata names it), and a Go
// map costs 336 bytes however few its keys: two of them were half of what
// a loaded object held. The four strings every object is asked for
// (apiVersion, kind, metadata.name and metadata.namespace) are fields of
// their own, the rest of both mappings one short list.
type Object struct {
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

	// apiVersion, kind, name and namespace are those fields' values when
	// they are strings (has says which are present).
	apiVersion, kind, name, namespace string
	// other are the document's other top-level fields, then, from
	// metadataAt, the other fields of its metadata mapping.
	other      []field
	metadataAt int32
	has        presence
}

// field is one key of a mapping and its value.
type field struct {
	key   string
	value any
}

// presence records which of an object's fields of its own are present.
type presence uint8

const (
	hasAPIVersion presence = 1 << iota
	hasKind
	hasName
	hasNamespace
	// hasMetadata: metadata is a mapping (a metadata of any other type is
	// one of the other top-level fields).
	hasMetadata
)

// NewObject returns the object for the document body, read from src.
// body itself is not kept (its values are): the caller may reuse it.
func NewObject(body map[string]any, src Position, item int) *Object {
	o := &Object{Source: src, Item: item}
	metadata, isMap := body["metadata"].(map[string]any)
	if isMap {
		o.has |= hasMetadata
	}
	// Collected on the stack, then copied into a list of exactly their
	// number: the object keeps it to the end of the run.
	var scratch [16]field
	other := scratch[:0]
	for k, v := range body {
		switch {
		case !ownTopLevel(k, v, isMap):
			other = append(other, field{k, v})
		case k == "apiVersion":
			o.apiVersion, o.has = v.(string), o.has|hasAPIVersion
		case k == "kind":
			o.kind, o.has = v.(string), o.has|hasKind
		}
	}
	o.metadataAt = int32(len(other))
	for k, v := range metadata {
		switch {
		case !ownMetadata(k, v):
			other = append(other, field{k, v})
		case k == "name":
			o.name, o.has = v.(string), o.has|hasName
		case k == "namespace":
			o.namespace, o.has = v.(string), o.has|hasNamespace
		}
	}
	if len(other) > 0 {
		o.other = append(make([]field, 0, len(other)), other...)
	}
	return o
}

// ownTopLevel reports whether the top-level field k, v is kept in a field
// of its own: apiVersion and kind when strings, metadata when a mapping.
func ownTopLevel(k string, v any, metadataIsMap bool) bool {
	switch k {
	case "apiVersion", "kind":
		_, isString := v.(string)
		return isString
	case "metadata":
		return metadataIsMap
	}
	return false
}

// ownMetadata reports whether metadata's field k, v is kept in a field of
// its own: name and namespace when strings.
func ownMetadata(k string, v any) bool {
	if k != "name" && k != "namespace" {
		return false
	}
	_, isString := v.(string)
	return isString
}

// Body returns the whole document as a map. It builds the top-level map
// and the metadata map on each call (the nested values are the object's
// own, shared, and must not be changed): Field and MetadataField read one
// field without building anything.
func (o *Object) Body() map[string]any {
	body := make(map[string]any, int(o.metadataAt)+3)
	if o.has&hasAPIVersion != 0 {
		body["apiVersion"] = o.apiVersion
	}
	if o.has&hasKind != 0 {
		body["kind"] = o.kind
	}
	for _, f := range o.other[:o.metadataAt] {
		body[f.key] = f.value
	}
	if md := o.Metadata(); md != nil {
		body["metadata"] = md
	}
	return body
}

// Field returns the value of the top-level field key, or nil. For
// "metadata" it builds the map (see Metadata).
func (o *Object) Field(key string) any {
	switch key {
	case "apiVersion":
		if o.has&hasAPIVersion != 0 {
			return o.apiVersion
		}
	case "kind":
		if o.has&hasKind != 0 {
			return o.kind
		}
	case "metadata":
		if md := o.Metadata(); md != nil {
			return md
		}
	}
	return lookup(o.other[:o.metadataAt], key)
}

// MetadataField returns the value of metadata's field key, or nil.
func (o *Object) MetadataField(key string) any {
	switch key {
	case "name":
		if o.has&hasName != 0 {
			return o.name
		}
	case "namespace":
		if o.has&hasNamespace != 0 {
			return o.namespace
		}
	}
	return lookup(o.other[o.metadataAt:], key)
}

// Metadata returns metadata as a map, or nil when it is not a mapping. It
// builds the map on each call: MetadataField reads one field.
func (o *Object) Metadata() map[string]any {
	if o.has&hasMetadata == 0 {
		return nil
	}
	others := o.other[o.metadataAt:]
	md := make(map[string]any, len(others)+2)
	if o.has&hasName != 0 {
		md["name"] = o.name
	}
	if o.has&hasNamespace != 0 {
		md["namespace"] = o.namespace
	}
	for _, f := range others {
		md[f.key] = f.value
	}
	return md
}

func lookup(fields []field, key string) any {
	for _, f := range fields {
		if f.key == key {
			return f.value
		}
	}
	return nil
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
func (o *Object) APIVersion() string { return o.apiVersion }

// Kind returns kind, or "".
func (o *Object) Kind() string { return o.kind }

// Group returns the API group of apiVersion ("" for the core group).
func (o *Object) Group() string {
	if g, _, ok := strings.Cut(o.APIVersion(), "/"); ok {
		return g
	}
	return ""
}

// Name returns metadata.name, falling back to metadata.generateName.
func (o *Object) Name() string {
	if o.name != "" {
		return o.name
	}
	return str(o.MetadataField("generateName"))
}

// Namespace returns metadata.namespace, or "".
func (o *Object) Namespace() string { return o.namespace }

// Annotations returns metadata.annotations with only string values kept.
func (o *Object) Annotations() map[string]string { return StringMap(o.MetadataField("annotations")) }

// Labels returns metadata.labels with only string values kept.
func (o *Object) Labels() map[string]string { return StringMap(o.MetadataField("labels")) }

// Label returns the value of label key, and whether the object has it
// (with a string value), without building a map as Labels does.
func (o *Object) Label(key string) (string, bool) {
	labels, _ := o.MetadataField("labels").(map[string]any)
	v, ok := labels[key].(string)
	return v, ok
}

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

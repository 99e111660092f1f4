// Package typed converts decoded manifests (map[string]any trees of
// strings, int64, float64, bools, nil, []any and maps) into Kubernetes API
// structs, with the semantics of apimachinery's
// runtime.DefaultUnstructuredConverter.FromUnstructured.
//
// That converter visits every field of every destination struct and looks
// each one up in the source map, so a PodSpec costs its ~40 fields, each
// Container its ~25 and each Volume its ~30 volume-source pointers whether
// the manifest sets them or not. This one walks the entries the manifest
// has and finds their fields in a per-type table, which is several times
// faster on real manifests. Types with their own JSON decoding (Quantity,
// IntOrString, Time, ...) go through the same structured-merge-diff entry
// apimachinery uses, so they decode identically. A differential test over
// the real-world corpus and a fuzz target hold the two converters to the
// same answers, errors included.
package typed

import (
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"reflect"
	"strings"
	"sync"
	"unicode/utf8"
	"unsafe"

	"k8s.io/apimachinery/pkg/util/intstr"
	"sigs.k8s.io/structured-merge-diff/v6/value"
)

// FromUnstructured decodes in into out, a pointer to a zero value of an API
// struct. Fields of out that in does not set are left as they are.
func FromUnstructured(in map[string]any, out any) error {
	var noCache *MapCache
	return noCache.FromUnstructured(in, out)
}

// A MapCache shares the Go maps that decodes through it make: a source
// map decoded before (the very same map[string]any, as the loader hands
// out one value for equal blocks) into a map of the same type gives that
// map again. Callers treat what they decode through it as read-only. A
// nil *MapCache shares nothing. It is not safe for concurrent use.
type MapCache struct {
	maps map[mapKey]reflect.Value
}

type mapKey struct {
	source unsafe.Pointer
	typ    reflect.Type
}

// maxCachedMaps bounds a cache: later maps are decoded, not kept.
const maxCachedMaps = 1 << 14

// NewMapCache returns an empty cache.
func NewMapCache() *MapCache { return &MapCache{maps: map[mapKey]reflect.Value{}} }

// FromUnstructured is the function FromUnstructured, sharing maps through c.
func (c *MapCache) FromUnstructured(in map[string]any, out any) error {
	dv := reflect.ValueOf(out)
	if dv.Kind() != reflect.Pointer || dv.IsNil() {
		return fmt.Errorf("FromUnstructured needs a non-nil pointer, got %T", out)
	}
	if in == nil {
		return nil
	}
	return decode(in, dv.Elem(), c)
}

// FromFields decodes a mapping that is read one key at a time, such as a
// loaded object's top level (source.Object.Field), into out, a pointer to
// a zero value of a struct: it asks field for the value of each of the
// struct's JSON names (nil: left out) and decodes it as FromUnstructured
// would. A struct that inlines a field of another kind than a struct,
// which receives the whole mapping, cannot be decoded so.
func FromFields(field func(name string) any, out any) error {
	dv := reflect.ValueOf(out)
	if dv.Kind() != reflect.Pointer || dv.IsNil() || dv.Elem().Kind() != reflect.Struct {
		return fmt.Errorf("FromFields needs a non-nil pointer to a struct, got %T", out)
	}
	dv = dv.Elem()
	p := planFor(dv.Type())
	if p.custom || len(p.fields[""]) > 0 {
		return fmt.Errorf("FromFields cannot decode %s: it reads the whole mapping", dv.Type())
	}
	for name, indexes := range p.fields {
		if v := field(name); v != nil {
			if err := decodeFields(v, dv, indexes, nil); err != nil {
				return err
			}
		}
	}
	return nil
}

// plan is what decoding into one destination type needs, computed once.
type plan struct {
	// custom is set for types that decode themselves from JSON.
	custom bool
	entry  value.TypeReflectCacheEntry
	// fields maps a JSON name to the fields it fills: more than one when
	// an inlined struct repeats a name, as apimachinery fills them all.
	fields map[string][][]int
}

// plans memoises planFor, a pure function of the type (as encoding/json
// and apimachinery cache their field tables).
var plans sync.Map // reflect.Type -> *plan

func planFor(t reflect.Type) *plan {
	if p, ok := plans.Load(t); ok {
		return p.(*plan)
	}
	p := &plan{}
	entry := value.TypeReflectEntryOf(t)
	if entry.CanConvertFromUnstructured() {
		p.custom, p.entry = true, *entry
	}
	if t.Kind() == reflect.Struct {
		p.fields = map[string][][]int{}
		addFields(p.fields, t, nil)
	}
	actual, _ := plans.LoadOrStore(t, p)
	return actual.(*plan)
}

// addFields records t's fields under their JSON names, descending into
// inlined structs as apimachinery does (see jsonName).
func addFields(into map[string][][]int, t reflect.Type, prefix []int) {
	for i := range t.NumField() {
		f := t.Field(i)
		index := append(append([]int(nil), prefix...), i)
		name, inline := jsonName(f)
		if inline {
			ft := f.Type
			if ft.Kind() == reflect.Struct && !planFor(ft).custom {
				addFields(into, ft, index)
				continue
			}
			// An inlined field of another kind receives the whole map.
			into[""] = append(into[""], index)
			continue
		}
		into[name] = append(into[name], index)
	}
}

// jsonName mirrors apimachinery's fieldInfoFromField (as built with Go
// before 1.27, where a ",inline" tag means nothing): the tag's name, else
// the Go name, and an embedded field without a JSON name is inlined.
func jsonName(f reflect.StructField) (name string, inline bool) {
	name, _, _ = strings.Cut(f.Tag.Get("json"), ",")
	if name == "" {
		if f.Anonymous {
			return "", true
		}
		name = f.Name
	}
	return name, false
}

// decode converts sv (non-nil) into dv.
func decode(sv any, dv reflect.Value, c *MapCache) error {
	dt := dv.Type()
	switch k := dt.Kind(); k {
	case reflect.Map, reflect.Slice, reflect.Pointer, reflect.Struct, reflect.Interface:
	default:
		if err := scalar(sv, dv, k); err != errNotScalar {
			return err
		}
	}
	if dt == intOrString && intOrStringFast(sv, dv) {
		return nil
	}
	p := planFor(dt)
	if p.custom {
		return p.entry.FromUnstructured(reflect.ValueOf(sv), dv)
	}
	switch dt.Kind() {
	case reflect.Struct:
		m, ok := sv.(map[string]any)
		if !ok {
			return fmt.Errorf("cannot restore struct from: %v", reflect.TypeOf(sv).Kind())
		}
		return structFrom(m, dv, p, c)
	case reflect.Pointer:
		dv.Set(reflect.New(dt.Elem()))
		return decode(sv, dv.Elem(), c)
	case reflect.Slice:
		return sliceFrom(sv, dv, c)
	case reflect.Map:
		return mapFrom(sv, dv, c)
	case reflect.Interface:
		dv.Set(reflect.ValueOf(sv))
		return nil
	}
	return fmt.Errorf("unrecognized type: %v", dt.Kind())
}

var errNotScalar = errors.New("not a scalar conversion")

var intOrString = reflect.TypeFor[intstr.IntOrString]()

// intOrStringFast decodes the two common forms of an IntOrString (ports,
// maxSurge), a string and an integer in int32's range, directly: the
// custom path marshals each value to JSON for IntOrString.UnmarshalJSON,
// which gives the same value for these (a valid UTF-8 string survives the
// round trip as it is). It reports false, having done nothing, for any
// other value.
func intOrStringFast(sv any, dv reflect.Value) bool {
	switch v := sv.(type) {
	case string:
		if !utf8.ValidString(v) {
			return false
		}
		dv.Set(reflect.ValueOf(intstr.IntOrString{Type: intstr.String, StrVal: v}))
		return true
	case int64:
		if v < math.MinInt32 || v > math.MaxInt32 {
			return false
		}
		dv.Set(reflect.ValueOf(intstr.IntOrString{Type: intstr.Int, IntVal: int32(v)}))
		return true
	}
	return false
}

// scalar assigns sv to a destination of basic kind k, with apimachinery's
// rules: same kinds assign, integers convert to any number, floats to
// floats, and to integers only when they have no fraction. It returns
// errNotScalar when those rules do not decide (the type may then decode
// itself).
func scalar(sv any, dv reflect.Value, k reflect.Kind) error {
	switch v := sv.(type) {
	case string:
		if k == reflect.String {
			dv.SetString(v)
			return nil
		}
	case bool:
		if k == reflect.Bool {
			dv.SetBool(v)
			return nil
		}
	case int64:
		switch {
		case isInt(k):
			dv.SetInt(v)
			return nil
		case isUint(k):
			dv.SetUint(uint64(v))
			return nil
		case k == reflect.Float32 || k == reflect.Float64:
			dv.SetFloat(float64(v))
			return nil
		}
	case float64:
		switch {
		case k == reflect.Float32 || k == reflect.Float64:
			dv.SetFloat(v)
			return nil
		case isInt(k) || isUint(k):
			if v == math.Trunc(v) {
				dv.Set(reflect.ValueOf(v).Convert(dv.Type()))
				return nil
			}
			return fmt.Errorf("cannot convert float64 to %s", dv.Type())
		}
	}
	// What apimachinery does for the remaining pairs: assign or convert
	// when reflect allows it, otherwise an error (or a custom decoder).
	st := reflect.TypeOf(sv)
	if st.AssignableTo(dv.Type()) {
		dv.Set(reflect.ValueOf(sv))
		return nil
	}
	if st.ConvertibleTo(dv.Type()) {
		return fmt.Errorf("cannot convert %s to %s", st, dv.Type())
	}
	return errNotScalar
}

func isInt(k reflect.Kind) bool { return k >= reflect.Int && k <= reflect.Int64 }

func isUint(k reflect.Kind) bool { return k >= reflect.Uint && k <= reflect.Uint64 }

func structFrom(m map[string]any, dv reflect.Value, p *plan, c *MapCache) error {
	for _, index := range p.fields[""] {
		if err := decode(m, fieldAt(dv, index), c); err != nil {
			return err
		}
	}
	for name, v := range m {
		if v == nil {
			continue // apimachinery leaves the field at its zero value
		}
		if err := decodeFields(v, dv, p.fields[name], c); err != nil {
			return err
		}
	}
	return nil
}

// decodeFields decodes sv (non-nil) into each of dv's fields at indexes:
// the fields one JSON name fills.
func decodeFields(sv any, dv reflect.Value, indexes [][]int, c *MapCache) error {
	for _, index := range indexes {
		if err := decode(sv, fieldAt(dv, index), c); err != nil {
			return err
		}
	}
	return nil
}

// fieldAt is dv.FieldByIndex, allocating inlined pointers on the way.
func fieldAt(dv reflect.Value, index []int) reflect.Value {
	for i, x := range index {
		if i > 0 && dv.Kind() == reflect.Pointer {
			if dv.IsNil() {
				dv.Set(reflect.New(dv.Type().Elem()))
			}
			dv = dv.Elem()
		}
		dv = dv.Field(x)
	}
	return dv
}

func sliceFrom(sv any, dv reflect.Value, c *MapCache) error {
	dt := dv.Type()
	if s, ok := sv.(string); ok && dt.Elem().Kind() == reflect.Uint8 {
		// []byte from base64 text, as encoding/json reads it.
		if s == "" {
			dv.Set(reflect.MakeSlice(dt, 0, 0))
			return nil
		}
		quoted, err := json.Marshal(s)
		if err != nil {
			return fmt.Errorf("error encoding %s to json: %v", dt, err)
		}
		var data []byte
		if err := json.Unmarshal(quoted, &data); err != nil {
			return fmt.Errorf("error decoding from json: %v", err)
		}
		dv.SetBytes(data)
		return nil
	}
	items, ok := sv.([]any)
	if !ok {
		return fmt.Errorf("cannot restore slice from %v", reflect.TypeOf(sv).Kind())
	}
	if items == nil {
		return nil
	}
	out := reflect.MakeSlice(dt, len(items), len(items))
	for i, item := range items {
		if item == nil {
			continue
		}
		if err := decode(item, out.Index(i), c); err != nil {
			return err
		}
	}
	dv.Set(out)
	return nil
}

var stringMap = reflect.TypeFor[map[string]string]()

func mapFrom(sv any, dv reflect.Value, c *MapCache) error {
	dt := dv.Type()
	m, ok := sv.(map[string]any)
	if !ok {
		return fmt.Errorf("cannot restore map from %v", reflect.TypeOf(sv).Kind())
	}
	if dt.Key().Kind() != reflect.String {
		return fmt.Errorf("cannot copy map with non-assignable keys: string %v", dt.Key())
	}
	if m == nil {
		return nil
	}
	if c != nil && len(m) > 0 {
		key := mapKey{reflect.ValueOf(m).UnsafePointer(), dt}
		if out, ok := c.maps[key]; ok {
			dv.Set(out)
			return nil
		}
		if err := mapFrom(sv, dv, nil); err != nil {
			return err
		}
		if len(c.maps) < maxCachedMaps {
			c.maps[key] = reflect.ValueOf(dv.Interface()) // the map, not the field holding it
		}
		return nil
	}
	if dt == stringMap {
		// Labels, annotations, selectors: by far the most common map.
		out := make(map[string]string, len(m))
		for k, v := range m {
			switch v := v.(type) {
			case nil:
				out[k] = ""
			case string:
				out[k] = v
			default:
				ev := reflect.New(dt.Elem()).Elem()
				if err := decode(v, ev, c); err != nil {
					return err
				}
				out[k] = ev.String()
			}
		}
		dv.Set(reflect.ValueOf(out))
		return nil
	}
	out := reflect.MakeMapWithSize(dt, len(m))
	// One scratch element serves every entry: SetMapIndex copies it.
	ev := reflect.New(dt.Elem()).Elem()
	for k, v := range m {
		ev.SetZero()
		if v != nil {
			if err := decode(v, ev, c); err != nil {
				return err
			}
		}
		out.SetMapIndex(reflect.ValueOf(k).Convert(dt.Key()), ev)
	}
	dv.Set(out)
	return nil
}

package source

import (
	"maps"
	"reflect"
	"testing"
)

// TestObjectKeepsTheDocument: an object answers APIVersion, Kind, Name,
// Namespace, Field and MetadataField as reading its document would, and
// Body gives the document back, whatever its fields' types.
func TestObjectKeepsTheDocument(t *testing.T) {
	str := func(v any) string { s, _ := v.(string); return s }
	for _, body := range []map[string]any{
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "namespace": "shop", "labels": map[string]any{"app": "web"}}, "spec": map[string]any{"replicas": int64(3)}},
		{"apiVersion": "v1", "kind": "Pod"},
		{"apiVersion": "example.com/v1alpha1", "kind": "Widget", "data": nil},
		{"kind": "NoVersion"},
		{"apiVersion": 3, "kind": true}, // wrongly typed: both read as "", kept as they are
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"generateName": "web-", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "", "generateName": "web-"}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": 7, "namespace": []any{"x"}}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": "not a map"},
		{"apiVersion": "v1", "kind": "Pod", "metadata": nil},
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{}},
		{},
	} {
		want := maps.Clone(body)
		md, _ := body["metadata"].(map[string]any)
		if md != nil {
			want["metadata"] = maps.Clone(md)
		}
		o := NewObject(body, Position{File: "f.yaml", Line: 3}, -1)
		name := str(md["name"])
		if name == "" {
			name = str(md["generateName"])
		}
		if o.APIVersion() != str(body["apiVersion"]) || o.Kind() != str(body["kind"]) || o.Name() != name || o.Namespace() != str(md["namespace"]) {
			t.Errorf("%v: read %q %q %q %q", body, o.APIVersion(), o.Kind(), o.Name(), o.Namespace())
		}
		if got := o.Body(); !reflect.DeepEqual(got, body) {
			t.Errorf("Body() = %#v, want %#v", got, body)
		}
		if md != nil && !reflect.DeepEqual(o.Metadata(), md) {
			t.Errorf("%v: Metadata() = %#v", body, o.Metadata())
		}
		if _, isMap := body["metadata"].(map[string]any); !isMap && o.Metadata() != nil {
			t.Errorf("%v: Metadata() = %#v, want nil", body, o.Metadata())
		}
		for k, v := range body {
			if got := o.Field(k); !reflect.DeepEqual(got, v) {
				t.Errorf("%v: Field(%q) = %#v, want %#v", body, k, got, v)
			}
		}
		for k, v := range md {
			if got := o.MetadataField(k); !reflect.DeepEqual(got, v) {
				t.Errorf("%v: MetadataField(%q) = %#v, want %#v", body, k, got, v)
			}
		}
		if o.Field("absent") != nil || o.MetadataField("absent") != nil {
			t.Errorf("%v: an absent field reads as a value", body)
		}
		if o.Source.Line != 3 || o.Item != -1 {
			t.Errorf("%v: position %+v item %d", body, o.Source, o.Item)
		}
		// The object keeps nothing of the caller's maps but their values.
		clear(body)
		if md != nil {
			clear(md)
		}
		if got := o.Body(); !reflect.DeepEqual(got, want) {
			t.Errorf("after the caller cleared its maps, Body() = %#v, want %#v", got, want)
		}
	}
	if o := NewObject(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"}, Position{}, -1); o.Group() != "apps" || o.Kind() != "Deployment" {
		t.Errorf("Group %q Kind %q", o.Group(), o.Kind())
	}
	o := NewObject(map[string]any{"kind": "Pod", "metadata": map[string]any{"name": "web-1", "namespace": "shop"}}, Position{}, -1)
	if o.Name() != "web-1" || o.Namespace() != "shop" || o.String() != "Pod shop/web-1" {
		t.Errorf("Name %q Namespace %q String %q", o.Name(), o.Namespace(), o.String())
	}
}

func TestLabel(t *testing.T) {
	o := NewObject(map[string]any{"kind": "Namespace", "metadata": map[string]any{"name": "a", "labels": map[string]any{"x": "1", "n": int64(2), "empty": ""}}}, Position{}, -1)
	for key, want := range map[string]struct {
		v  string
		ok bool
	}{"x": {"1", true}, "empty": {"", true}, "n": {"", false}, "absent": {"", false}} {
		if v, ok := o.Label(key); v != want.v || ok != want.ok {
			t.Errorf("Label(%q) = %q, %v; want %q, %v", key, v, ok, want.v, want.ok)
		}
		if v, ok := o.Labels()[key]; v != want.v || ok != want.ok {
			t.Errorf("Labels()[%q] = %q, %v; want %q, %v", key, v, ok, want.v, want.ok)
		}
	}
	if _, ok := NewObject(map[string]any{"kind": "Namespace"}, Position{}, -1).Label("x"); ok {
		t.Error("an object without labels has a label")
	}
}

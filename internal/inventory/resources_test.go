package inventory

import (
	"reflect"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

func podWithResources(t *testing.T, shared *sharedViews, resources string) *Pod {
	t.Helper()
	res := source.ParseBytes("p.yaml", []byte("apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: a\n    image: x\n    resources: "+resources+"\n"))
	if len(res.Objects) != 1 {
		t.Fatalf("%s: %v", resources, res.Errors)
	}
	p, err := podOf(res.Objects[0], shared)
	if err != nil || p == nil {
		t.Fatalf("%s: %v", resources, err)
	}
	return p
}

func mapPointer(v any) uintptr { return reflect.ValueOf(v).Pointer() }

// TestResourceListsShared: equal resource lists become one map, with the
// same contents as decoding alone; different ones stay apart, however
// their names and values are spelled.
func TestResourceListsShared(t *testing.T) {
	shared := newSharedViews()
	a := podWithResources(t, shared, "{limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m}}")
	b := podWithResources(t, shared, "{limits: {memory: 256Mi, cpu: 500m}, requests: {cpu: 100m}}")
	alone := podWithResources(t, &sharedViews{}, "{limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m}}")
	la, lb := a.Spec.Containers[0].Resources.Limits, b.Spec.Containers[0].Resources.Limits
	if mapPointer(la) != mapPointer(lb) {
		t.Error("equal limits were not shared")
	}
	if !reflect.DeepEqual(la, alone.Spec.Containers[0].Resources.Limits) || !reflect.DeepEqual(b.Spec.Containers[0].Resources.Requests, alone.Spec.Containers[0].Resources.Requests) {
		t.Error("a shared list differs from the list decoded alone")
	}
	for _, other := range []string{
		"{limits: {cpu: 500m, memory: 512Mi}}",    // another value
		"{limits: {cpu: \"1\", memory: 256Mi}}",   // a string ...
		"{limits: {cpu: 1, memory: 256Mi}}",       // ... is not the integer
		"{limits: {cpu: 1.0, memory: 256Mi}}",     // ... nor the float
		"{limits: {\"cpu\\0s4\\0memory\": 500m}}", // a name that spells two entries
	} {
		c := podWithResources(t, shared, other)
		if l := c.Spec.Containers[0].Resources.Limits; mapPointer(l) == mapPointer(la) {
			t.Errorf("%s shares the limits of {cpu: 500m, memory: 256Mi}", other)
		}
	}
	one := podWithResources(t, shared, "{limits: {cpu: 1}}")
	two := podWithResources(t, shared, "{limits: {cpu: \"1\"}}")
	if mapPointer(one.Spec.Containers[0].Resources.Limits) == mapPointer(two.Spec.Containers[0].Resources.Limits) {
		t.Error("an integer and a string value share a list")
	}
}

// TestSharedTemplates: objects whose pod templates are one decoded value
// (the loader shares equal blocks) get one typed spec, with their own
// paths; an equal template decoded separately gets its own, equal spec.
func TestSharedTemplates(t *testing.T) {
	spec := func() map[string]any {
		return map[string]any{"containers": []any{map[string]any{"name": "app", "image": "x",
			"resources": map[string]any{"limits": map[string]any{"cpu": "1"}}}}}
	}
	one := spec()
	tmeta := map[string]any{"labels": map[string]any{"app": "web"}}
	obj := func(kind, name string, body map[string]any) *source.Object {
		body["apiVersion"], body["kind"] = "apps/v1", kind
		if kind == "Pod" {
			body["apiVersion"] = "v1"
		}
		body["metadata"] = map[string]any{"name": name, "namespace": "ns"}
		return source.NewObject(body, source.Position{File: "f.yaml"}, -1)
	}
	deploy := obj("Deployment", "web", map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": tmeta, "spec": one}}})
	rs := obj("ReplicaSet", "web-1", map[string]any{"spec": map[string]any{"template": map[string]any{"metadata": tmeta, "spec": one}}})
	pod := obj("Pod", "web-1-a", map[string]any{"spec": one})
	apart := obj("Deployment", "other", map[string]any{"spec": map[string]any{"template": map[string]any{"spec": spec()}}})
	inv := Build([]*source.Object{deploy, rs, pod, apart})
	d, r, p, a := inv.Pod(deploy), inv.Pod(rs), inv.Pod(pod), inv.Pod(apart)
	if d == nil || r == nil || p == nil || a == nil {
		t.Fatal("missing pod views")
	}
	if d.Spec != r.Spec || d.Spec != p.Spec {
		t.Error("one decoded template did not give one typed spec")
	}
	if d.Meta != r.Meta {
		t.Error("one decoded template metadata did not give one typed view")
	}
	if a.Spec == d.Spec || !reflect.DeepEqual(a.Spec, d.Spec) {
		t.Error("a separately decoded equal template should have its own, equal spec")
	}
	if d.SpecPath != "spec.template.spec" || p.SpecPath != "spec" || p.Containers()[0].Path != "spec.containers[0]" || d.Containers()[0].Path != "spec.template.spec.containers[0]" {
		t.Errorf("paths: %s %s %s %s", d.SpecPath, p.SpecPath, p.Containers()[0].Path, d.Containers()[0].Path)
	}
}

package inventory

import (
	"reflect"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

func podWithResources(t *testing.T, shared *resourceLists, resources string) *Pod {
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
	shared := newResourceLists()
	a := podWithResources(t, shared, "{limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m}}")
	b := podWithResources(t, shared, "{limits: {memory: 256Mi, cpu: 500m}, requests: {cpu: 100m}}")
	alone := podWithResources(t, nil, "{limits: {cpu: 500m, memory: 256Mi}, requests: {cpu: 100m}}")
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

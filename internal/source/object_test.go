package source

import "testing"

// TestNewObjectReadsTheIdentityOnce: an object made by NewObject answers
// APIVersion, Kind, Group, Name and Namespace exactly as one written as a
// literal, which reads its body each time.
func TestNewObjectReadsTheIdentityOnce(t *testing.T) {
	for _, body := range []map[string]any{
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Pod"},
		{"apiVersion": "example.com/v1alpha1", "kind": "Widget"},
		{"kind": "NoVersion"},
		{"apiVersion": 3, "kind": true}, // wrongly typed: both read as ""
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"generateName": "web-", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "", "generateName": "web-"}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": 7, "namespace": []any{"x"}}},
		{"apiVersion": "v1", "kind": "Pod", "metadata": "not a map"},
		{},
	} {
		made, literal := NewObject(body, Position{File: "f.yaml", Line: 3}, -1), &Object{Body: body}
		if made.APIVersion() != literal.APIVersion() || made.Kind() != literal.Kind() || made.Group() != literal.Group() ||
			made.Name() != literal.Name() || made.Namespace() != literal.Namespace() || made.String() != literal.String() {
			t.Errorf("%v: NewObject gives %q %q %q %q %q, the literal %q %q %q %q %q", body,
				made.APIVersion(), made.Kind(), made.Group(), made.Name(), made.Namespace(),
				literal.APIVersion(), literal.Kind(), literal.Group(), literal.Name(), literal.Namespace())
		}
		if made.Source.Line != 3 || made.Item != -1 {
			t.Errorf("%v: position %+v item %d", body, made.Source, made.Item)
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

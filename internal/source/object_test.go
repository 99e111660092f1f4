package source

import "testing"

// TestNewObjectReadsTheTypeOnce: an object made by NewObject answers
// APIVersion, Kind and Group exactly as one written as a literal, which
// reads its body each time.
func TestNewObjectReadsTheTypeOnce(t *testing.T) {
	for _, body := range []map[string]any{
		{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "web", "namespace": "shop"}},
		{"apiVersion": "v1", "kind": "Pod"},
		{"apiVersion": "example.com/v1alpha1", "kind": "Widget"},
		{"kind": "NoVersion"},
		{"apiVersion": 3, "kind": true}, // wrongly typed: both read as ""
		{},
	} {
		made, literal := NewObject(body, Position{File: "f.yaml", Line: 3}, 1, -1), &Object{Body: body}
		if made.APIVersion() != literal.APIVersion() || made.Kind() != literal.Kind() || made.Group() != literal.Group() || made.String() != literal.String() {
			t.Errorf("%v: NewObject gives %q %q %q, the literal %q %q %q", body,
				made.APIVersion(), made.Kind(), made.Group(), literal.APIVersion(), literal.Kind(), literal.Group())
		}
		if made.Source.Line != 3 || made.Doc != 1 || made.Item != -1 {
			t.Errorf("%v: position %+v doc %d item %d", body, made.Source, made.Doc, made.Item)
		}
	}
	if o := NewObject(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment"}, Position{}, 0, -1); o.Group() != "apps" || o.Kind() != "Deployment" {
		t.Errorf("Group %q Kind %q", o.Group(), o.Kind())
	}
}

package source

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// lineOf is the 1-based line of the first line of text that contains s.
func lineOf(t *testing.T, text, s string) int {
	t.Helper()
	for i, l := range strings.Split(text, "\n") {
		if strings.Contains(l, s) {
			return i + 1
		}
	}
	t.Fatalf("%q not in the fixture", s)
	return 0
}

// TestKustomizeSources: an overlay's objects point at the resource file a
// field comes from when the build left the field as the file has it, and
// at the overlay's kustomization for what the overlay patched or added;
// generated objects point at the kustomization; the origin annotations
// the build asks for are not left on the objects unless the
// kustomization asked for them itself.
func TestKustomizeSources(t *testing.T) {
	dir := t.TempDir()
	deployment := `apiVersion: v1
kind: ConfigMap
metadata: {name: extra}
data: {a: b}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: {app: web}
spec:
  selector:
    matchLabels: {app: web}
  template:
    metadata:
      labels: {app: web}
    spec:
      containers:
      - name: web
        image: nginx:1.27
        securityContext:
          readOnlyRootFilesystem: true
`
	files := map[string]string{
		"base/kustomization.yaml":    "resources: [deployment.yaml]\nconfigMapGenerator:\n- name: settings\n  literals: [mode=fast]\n",
		"base/deployment.yaml":       deployment,
		"overlay/kustomization.yaml": "namePrefix: prod-\nnamespace: prod\nresources: [../base]\npatches:\n- path: patch.yaml\n",
		"overlay/patch.yaml":         "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: web}\nspec:\n  template:\n    spec:\n      containers:\n      - name: web\n        securityContext: {privileged: true}\n",
		"asks/kustomization.yaml":    "resources: [deployment.yaml]\nbuildMetadata: [originAnnotations]\n",
		"asks/deployment.yaml":       deployment,
	}
	for name, text := range files {
		mustWrite(t, filepath.Join(dir, name), text)
	}
	overlay := filepath.Join(dir, "overlay")
	res := Load(t.Context(), Options{MaxFileSize: 1 << 20}, overlay)
	if len(res.Errors) != 0 {
		t.Fatal(res.Errors)
	}
	byName := map[string]*Object{}
	for _, o := range res.Objects {
		byName[o.Kind()+"/"+o.Name()] = o
		if _, ok := o.Annotations()["config.kubernetes.io/origin"]; ok {
			t.Errorf("%s keeps its origin annotation", o)
		}
	}
	web := byName["Deployment/prod-web"]
	if web == nil || web.origin == nil {
		t.Fatalf("objects %v: no built Deployment prod-web", byName)
	}
	kustomization := filepath.Join(overlay, "kustomization.yaml")
	base := filepath.Join(dir, "base", "deployment.yaml")
	if web.Source != (Position{File: kustomization}) {
		t.Errorf("the object's own source is %v, want the kustomization", web.Source)
	}
	for _, tc := range []struct {
		path string
		want Position
	}{
		{"", Position{base, lineOf(t, deployment, "kind: Deployment") - 1}},
		{"spec.template.spec.containers[0].image", Position{base, lineOf(t, deployment, "image:")}},
		{"spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem", Position{base, lineOf(t, deployment, "readOnlyRootFilesystem")}}, // merged, not replaced
		{"spec.template.spec.containers[0].securityContext.privileged", Position{File: kustomization}},                                               // the patch added it
		{"spec.template.spec.automountServiceAccountToken", Position{base, lineOf(t, deployment, "    spec:")}},                                      // missing in both
		{"metadata.namespace", Position{File: kustomization}},                                                                                        // the overlay set it
		{"metadata.name", Position{File: kustomization}},                                                                                             // the prefix changed it
		{"spec.template.metadata.labels.app", Position{base, lineOf(t, deployment, "      labels:")}},
	} {
		if got := web.FieldSourceOf(NewFieldPath(tc.path)); got != tc.want {
			t.Errorf("%q: %v, want %v", tc.path, got, tc.want)
		}
	}
	// The ConfigMap of the same file is matched by kind, not by place.
	if extra := byName["ConfigMap/prod-extra"]; extra == nil || extra.FieldSourceOf(NewFieldPath("data.a")) != (Position{base, lineOf(t, deployment, "data: {a")}) {
		t.Errorf("ConfigMap extra: %v at %v", extra, extra.FieldSourceOf(NewFieldPath("data.a")))
	}
	for key, o := range byName {
		if strings.HasPrefix(key, "ConfigMap/prod-settings-") {
			if o.origin != nil || o.FieldSourceOf(NewFieldPath("data.mode")) != (Position{File: kustomization}) {
				t.Errorf("the generated ConfigMap points at %v", o.FieldSourceOf(NewFieldPath("data.mode")))
			}
		}
	}

	// Built through a link to the overlay: the kustomization is still the
	// one asked for origins.
	link := filepath.Join(t.TempDir(), "link")
	if err := os.Symlink(overlay, link); err != nil {
		t.Fatal(err)
	}
	linked := Load(t.Context(), Options{MaxFileSize: 1 << 20}, link)
	found := false
	for _, o := range linked.Objects {
		if o.Kind() == "Deployment" {
			found = true
			if got := o.FieldSourceOf(NewFieldPath("spec.template.spec.containers[0].image")); got.Line != lineOf(t, deployment, "image:") || filepath.Base(got.File) != "deployment.yaml" {
				t.Errorf("through a link, the image is at %v", got)
			}
		}
	}
	if !found || len(linked.Errors) != 0 {
		t.Errorf("through a link: %d objects, errors %v", len(linked.Objects), linked.Errors)
	}

	// A kustomization that asks for origin annotations keeps them.
	asks := Load(t.Context(), Options{MaxFileSize: 1 << 20}, filepath.Join(dir, "asks"))
	if len(asks.Errors) != 0 || len(asks.Objects) != 2 {
		t.Fatalf("asks: %d objects, errors %v", len(asks.Objects), asks.Errors)
	}
	for _, o := range asks.Objects {
		if _, ok := o.Annotations()["config.kubernetes.io/origin"]; !ok || o.origin == nil {
			t.Errorf("%s: annotations %v, origin %v", o, o.Annotations(), o.origin)
		}
	}

	// A kustomization kustomize refuses is refused as before.
	bad := filepath.Join(dir, "bad")
	mustWrite(t, filepath.Join(bad, "kustomization.yaml"), "resources: [x.yaml]\nnotAField: 1\n")
	if r := Load(t.Context(), Options{MaxFileSize: 1 << 20}, bad); len(r.Errors) != 1 || !strings.Contains(r.Errors[0].Err.Error(), "notAField") {
		t.Errorf("an unknown field: errors %v", r.Errors)
	}
}

func TestValueAt(t *testing.T) {
	body := map[string]any{
		"metadata": map[string]any{"labels": map[string]any{"app.kubernetes.io/name": "web", "app": "x"}},
		"spec":     map[string]any{"containers": []any{map[string]any{"name": "a", "ports": []any{int64(80)}}}},
	}
	for _, tc := range []struct {
		path   string
		walked int
		want   any
	}{
		{"metadata.labels.app.kubernetes.io/name", len("metadata.labels.app.kubernetes.io/name"), "web"},
		{"metadata.labels.app", len("metadata.labels.app"), "x"},
		{"spec.containers[0].name", len("spec.containers[0].name"), "a"},
		{"spec.containers[0].ports[0]", len("spec.containers[0].ports[0]"), int64(80)},
		{"spec.containers[1].name", len("spec.containers"), nil},
		{"spec.containers[0].securityContext.privileged", len("spec.containers[0]"), nil},
		{"status", 0, nil},
	} {
		v, walked := valueAt(body, tc.path)
		if walked != tc.walked || (tc.want != nil && v != tc.want) {
			t.Errorf("%q: %v after %d, want %v after %d", tc.path, v, walked, tc.want, tc.walked)
		}
	}
}

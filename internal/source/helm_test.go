package source

import (
	"context"
	"path/filepath"
	"strings"
	"testing"

	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
)

// TestHelmFieldLines: findings in a rendered chart point at the field's
// line in the template, for the chart's own templates and a subchart's,
// whether the chart is a directory or packaged as a .tgz. The template's
// directives move no lines here, and the second document of a template
// is found by its own line.
func TestHelmFieldLines(t *testing.T) {
	dir := t.TempDir()
	chartDir := filepath.Join(dir, "shop")
	mustWrite(t, filepath.Join(chartDir, "Chart.yaml"), "apiVersion: v2\nname: shop\nversion: 0.1.0\n")
	mustWrite(t, filepath.Join(chartDir, "values.yaml"), "privileged: true\n")
	mustWrite(t, filepath.Join(chartDir, "templates", "web.yaml"), `# the shop's web tier
apiVersion: v1
kind: ConfigMap
metadata:
  name: {{ .Release.Name }}-web
data:
  mode: prod
---
apiVersion: v1
kind: Pod
metadata:
  name: {{ .Release.Name }}-web
spec:
  containers:
  - name: web
    image: nginx:1.27
    securityContext:
      privileged: {{ .Values.privileged }}
`)
	mustWrite(t, filepath.Join(chartDir, "charts", "cache", "Chart.yaml"), "apiVersion: v2\nname: cache\nversion: 0.1.0\n")
	mustWrite(t, filepath.Join(chartDir, "charts", "cache", "templates", "pod.yaml"), `apiVersion: v1
kind: Pod
metadata:
  name: cache
spec:
  hostPID: true
  containers:
  - name: redis
    image: redis:7
`)
	ch, err := loader.Load(chartDir)
	if err != nil {
		t.Fatal(err)
	}
	archive, err := chartutil.Save(ch, dir)
	if err != nil {
		t.Fatal(err)
	}

	want := []struct {
		name, file, path string
		line             int
	}{
		{"release-web", "templates/web.yaml", "spec.containers[0].securityContext.privileged", 18},
		{"release-web", "templates/web.yaml", "data.mode", 7},
		{"cache", "charts/cache/templates/pod.yaml", "spec.hostPID", 6},
		{"cache", "charts/cache/templates/pod.yaml", "spec.containers[0].image", 9},
	}
	for _, chartPath := range []string{chartDir, archive} {
		res := Load(context.Background(), Options{MaxFileSize: DefaultMaxFileSize}, chartPath)
		if len(res.Errors) != 0 || len(res.Objects) != 3 {
			t.Fatalf("%s: %d objects, errors %v", chartPath, len(res.Objects), res.Errors)
		}
		for _, w := range want {
			var found bool
			for _, o := range res.Objects {
				if o.Name() != w.name || !strings.HasSuffix(filepath.ToSlash(o.Source.File), w.file) || (w.path == "data.mode") != (o.Kind() == "ConfigMap") {
					continue
				}
				found = true
				if got := o.FieldLine(w.path); got != w.line {
					t.Errorf("%s: %s %s in %s at line %d, want %d", chartPath, o.Kind(), w.path, o.Source.File, got, w.line)
				}
			}
			if !found {
				t.Errorf("%s: no %s from %s", chartPath, w.name, w.file)
			}
		}
	}
}

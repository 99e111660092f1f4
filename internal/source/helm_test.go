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
// whether the chart is a directory or packaged as a .tgz, also where the
// template's directives move the rendered lines.
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
	// Directives move the rendered lines: "{{- ... }}" at the start of a
	// line eats the line break before it, a range repeats a document.
	mustWrite(t, filepath.Join(chartDir, "templates", "_helpers.tpl"), "{{- define \"labels\" -}}\napp: shop\ntier: api\n{{- end }}\n")
	mustWrite(t, filepath.Join(chartDir, "templates", "api.yaml"), `{{- if .Values.privileged }}
{{- range list "a" "b" }}
---
apiVersion: v1
kind: Pod
metadata:
  name: api-{{ . }}
  labels:
    {{- include "labels" $ | nindent 4 }}
spec:
  containers:
  - name: api
    image: api:2
{{- end }}
{{- end }}
`)
	mustWrite(t, filepath.Join(chartDir, "templates", "jobs.yaml"), `{{- if .Values.privileged }}
{{- if .Values.privileged }}
apiVersion: v1
kind: ConfigMap
metadata:
  name: jobs
data:
  schedule: daily
---
apiVersion: batch/v1
kind: Job
metadata:
  name: jobs
spec:
  template:
    spec:
      restartPolicy: Never
      containers:
      - name: job
        image: job:1
{{- end }}
{{- end }}
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

	// Where each object's fields are: kind/name, its template, a field
	// path and its line.
	want := []struct {
		object, file, path string
		line               int
	}{
		{"Pod/release-web", "templates/web.yaml", "spec.containers[0].securityContext.privileged", 18},
		{"ConfigMap/release-web", "templates/web.yaml", "data.mode", 7},
		{"Pod/cache", "charts/cache/templates/pod.yaml", "spec.hostPID", 6},
		{"Pod/cache", "charts/cache/templates/pod.yaml", "spec.containers[0].image", 9},
		{"Pod/api-a", "templates/api.yaml", "spec.containers[0].image", 13},
		{"Pod/api-b", "templates/api.yaml", "spec.containers[0].image", 13},
		{"Pod/api-b", "templates/api.yaml", "metadata.labels", 8},
		{"Pod/api-b", "templates/api.yaml", "", 4}, // the object's own line
		{"ConfigMap/jobs", "templates/jobs.yaml", "data.schedule", 8},
		{"Job/jobs", "templates/jobs.yaml", "spec.template.spec.containers[0].image", 20},
	}
	for _, chartPath := range []string{chartDir, archive} {
		res := Load(context.Background(), Options{MaxFileSize: DefaultMaxFileSize}, chartPath)
		if len(res.Errors) != 0 || len(res.Objects) != 7 {
			t.Fatalf("%s: %d objects, errors %v", chartPath, len(res.Objects), res.Errors)
		}
		for _, w := range want {
			var found bool
			for _, o := range res.Objects {
				if o.Kind()+"/"+o.Name() != w.object || !strings.HasSuffix(filepath.ToSlash(o.Source.File), w.file) {
					continue
				}
				found = true
				if got := o.FieldLine(w.path); got != w.line {
					t.Errorf("%s: %s %s in %s at line %d, want %d", chartPath, o.Kind(), w.path, o.Source.File, got, w.line)
				}
			}
			if !found {
				t.Errorf("%s: no %s from %s", chartPath, w.object, w.file)
			}
		}
	}
}

func TestSpelledKind(t *testing.T) {
	for _, c := range []struct {
		doc  string
		line int
		want string
	}{
		{"apiVersion: v1\nkind: Pod\n", 2, "Pod"},
		{"kind: \"Deployment\"\n", 1, "Deployment"},
		{"kind: 'Job' # a batch job\n", 1, "Job"},
		{"kind: {{ .Values.kind }}\n", 1, ""},
		{"kind: {{ .Values.kind | default \"Pod\" }}", 1, ""},
		{"kind:\n", 1, ""},
		{"kind: Pod", 3, ""},
	} {
		if got := spelledKind([]byte(c.doc), c.line); got != c.want {
			t.Errorf("spelledKind(%q, %d) = %q, want %q", c.doc, c.line, got, c.want)
		}
	}
}

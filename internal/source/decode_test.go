package source

import (
	"bytes"
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"sync/atomic"
	"testing"
	"time"
)

func TestParseBytes(t *testing.T) {
	tests := []struct {
		name      string
		input     string
		wantKinds []string
		wantLines []int
		wantErrs  []string // substrings, one per error, in order
	}{
		{
			name:      "multi-document with comments and empty documents",
			input:     "# leading comment\n---\napiVersion: v1\nkind: ConfigMap\nmetadata:\n  name: a\n---\n---\n# only a comment\n---\napiVersion: v1\nkind: Secret\nmetadata:\n  name: b\n",
			wantKinds: []string{"ConfigMap", "Secret"},
			wantLines: []int{3, 11},
		},
		{
			name:      "a syntax error loses only its own document",
			input:     "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: a}\n---\napiVersion: v1\nkind: [unclosed\n---\napiVersion: v1\nkind: Service\nmetadata: {name: c}\n",
			wantKinds: []string{"ConfigMap", "Service"},
			wantErrs:  []string{"invalid YAML at line"},
		},
		{
			name:      "List is expanded with item lines",
			input:     "apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: p}\n- apiVersion: apps/v1\n  kind: Deployment\n  metadata: {name: d}\n",
			wantKinds: []string{"Pod", "Deployment"},
			wantLines: []int{4, 7},
		},
		{
			name:      "typed list such as PodList",
			input:     `{"apiVersion":"v1","kind":"PodList","items":[{"apiVersion":"v1","kind":"Pod","metadata":{"name":"x"}}]}`,
			wantKinds: []string{"Pod"},
		},
		{
			name:     "object without kind",
			input:    "apiVersion: v1\nmetadata:\n  name: nokind\n",
			wantErrs: []string{`object of apiVersion "v1" has no kind`},
		},
		{
			name:     "object without apiVersion",
			input:    "kind: Pod\nmetadata:\n  name: x\n",
			wantErrs: []string{"Pod object has no apiVersion"},
		},
		{
			name:     "scalar document",
			input:    "just a string\n",
			wantErrs: []string{"document is a string, not a Kubernetes object"},
		},
		{
			name:      "unknown kinds are kept",
			input:     "apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {size: 3}\n",
			wantKinds: []string{"Widget"},
		},
		{
			name:      "anchors, aliases and merge keys resolve",
			input:     "apiVersion: v1\nkind: ConfigMap\nmetadata: &m\n  name: a\n  labels: &l {app: x}\ndata:\n  <<: {k: v}\n  other: o\n",
			wantKinds: []string{"ConfigMap"},
		},
		{
			name:     "invalid UTF-8 is named with its line",
			input:    "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: \xff\xfe}\n",
			wantErrs: []string{"invalid UTF-8 at line 3"},
		},
		{
			name:     "binary data",
			input:    "\x7fELF\x02\x01\x01\x00\x00\x00garbage",
			wantErrs: []string{"binary file"},
		},
		{
			name:     "metadata of the wrong type",
			input:    "apiVersion: v1\nkind: Pod\nmetadata: [a, b]\n",
			wantErrs: []string{"metadata is a list, not a mapping"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := ParseBytes("in.yaml", []byte(tt.input))
			var kinds []string
			var lines []int
			for _, o := range res.Objects {
				kinds = append(kinds, o.Kind())
				lines = append(lines, o.Source.Line)
				if o.Source.File != "in.yaml" {
					t.Errorf("object source file = %q, want in.yaml", o.Source.File)
				}
			}
			if strings.Join(kinds, ",") != strings.Join(tt.wantKinds, ",") {
				t.Errorf("kinds = %v, want %v", kinds, tt.wantKinds)
			}
			if tt.wantLines != nil && !equalInts(lines, tt.wantLines) {
				t.Errorf("lines = %v, want %v", lines, tt.wantLines)
			}
			if len(res.Errors) != len(tt.wantErrs) {
				t.Fatalf("errors = %v, want %d matching %v", res.Errors, len(tt.wantErrs), tt.wantErrs)
			}
			for i, e := range res.Errors {
				if !strings.Contains(e.Error(), tt.wantErrs[i]) {
					t.Errorf("error %d = %q, want it to contain %q", i, e.Error(), tt.wantErrs[i])
				}
				if !strings.HasPrefix(e.Source, "in.yaml") {
					t.Errorf("error source %q does not name the input", e.Source)
				}
			}
		})
	}
}

func equalInts(a, b []int) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// TestHostileInputs checks that inputs built to exhaust memory or the
// stack fail fast with a clear error, and that the next document is read.
func TestHostileInputs(t *testing.T) {
	const next = "\n---\napiVersion: v1\nkind: ConfigMap\nmetadata: {name: after}\n"
	tests := []struct {
		name    string
		input   string
		wantErr string
	}{
		{"billion laughs", billionLaughs(), "alias bomb"},
		{"deeply nested flow sequence", strings.Repeat("[", 20000) + strings.Repeat("]", 20000), "depth"},
		{"deeply nested JSON objects", strings.Repeat(`{"a":`, 5000) + "1" + strings.Repeat("}", 5000), "nesting deeper"},
		{"deeply nested block mappings", deepBlock(600), "nesting deeper"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			start := time.Now()
			res := ParseBytes("hostile.yaml", []byte(tt.input+next))
			if d := time.Since(start); d > 5*time.Second {
				t.Errorf("took %v", d)
			}
			if len(res.Errors) == 0 || !strings.Contains(res.Errors[0].Error(), tt.wantErr) {
				t.Fatalf("errors = %v, want one containing %q", res.Errors, tt.wantErr)
			}
			if len(res.Objects) != 1 || res.Objects[0].Name() != "after" {
				t.Errorf("the document after the hostile one was not read: %v", res.Objects)
			}
		})
	}
}

func billionLaughs() string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: bomb}\nx0: &a0 [lol, lol, lol, lol, lol, lol, lol, lol, lol]\n")
	for i := 1; i < 10; i++ {
		b.WriteString("x")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(": &a")
		b.WriteString(string(rune('0' + i)))
		b.WriteString(" [")
		for j := 0; j < 9; j++ {
			if j > 0 {
				b.WriteString(", ")
			}
			b.WriteString("*a")
			b.WriteString(string(rune('0' + i - 1)))
		}
		b.WriteString("]\n")
	}
	return b.String()
}

func deepBlock(depth int) string {
	var b strings.Builder
	b.WriteString("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: deep}\ndata:\n")
	for i := 1; i <= depth; i++ {
		b.WriteString(strings.Repeat(" ", i))
		b.WriteString("k:\n")
	}
	return b.String()
}

func TestLoadFilesAndDirectories(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	write("a/deploy.yaml", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\n")
	write("a/svc.json", `{"apiVersion":"v1","kind":"Service","metadata":{"name":"s"}}`)
	write("a/.hidden-tests/pod.yml", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\n")
	write("a/README.md", "not yaml")
	write("a/.github/workflows/ci.yml", "on: push\njobs: {}\n") // not a Kubernetes object: skipped in a walk
	write(".git/config.yaml", "apiVersion: v1\nkind: Pod\nmetadata: {name: never}\n")
	write("a/broken.yaml", "apiVersion: v1\nkind: [\n")
	big := write("big.yaml", "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata:\n  x: "+strings.Repeat("a", 4096)+"\n")

	res := Load(context.Background(), Options{MaxFileSize: 1024}, dir, big)
	var names []string
	for _, o := range res.Objects {
		names = append(names, o.Kind()+"/"+o.Name())
	}
	if got, want := strings.Join(names, ","), "Pod/p,Deployment/d,Service/s"; got != want {
		t.Errorf("objects = %s, want %s", got, want)
	}
	var errs []string
	for _, e := range res.Errors {
		errs = append(errs, e.Error())
	}
	joined := strings.Join(errs, "\n")
	if len(errs) != 3 || !strings.Contains(joined, "broken.yaml:1: invalid YAML") || !strings.Contains(joined, "larger than the per-file limit of 1.0 KiB") {
		t.Errorf("errors = %q; want broken.yaml and two size errors (big.yaml walked and named)", errs)
	}

	// Named explicitly, a non-Kubernetes document is an error.
	res = Load(context.Background(), Options{}, filepath.Join(dir, "a/.github/workflows/ci.yml"))
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "not a Kubernetes object") {
		t.Errorf("explicit non-Kubernetes file: errors = %v", res.Errors)
	}

	// Missing paths are errors that name the path.
	res = Load(context.Background(), Options{}, filepath.Join(dir, "nope.yaml"))
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "nope.yaml") {
		t.Errorf("missing path: errors = %v", res.Errors)
	}
}

func TestLoadStdin(t *testing.T) {
	in := bytes.NewBufferString("apiVersion: v1\nkind: Pod\nmetadata: {name: from-stdin}\n")
	res := Load(context.Background(), Options{Stdin: in}, "-")
	if len(res.Objects) != 1 || res.Objects[0].Source.File != "-" || res.Objects[0].Name() != "from-stdin" {
		t.Fatalf("stdin: %+v %v", res.Objects, res.Errors)
	}
	res = Load(context.Background(), Options{Stdin: strings.NewReader(strings.Repeat("a", 2048)), MaxFileSize: 1024}, "-")
	if len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Error(), "per-file limit") {
		t.Fatalf("oversized stdin: %v", res.Errors)
	}
}

func TestScalarResolution(t *testing.T) {
	res := ParseBytes("s.yaml", []byte("apiVersion: v1\nkind: X\nmetadata: {name: s}\nint: 42\nhex: 0x1F\nfloat: 1.5\nbool: true\nnull1: ~\nnull2:\nstr: \"42\"\nyes: yes\nbig: 99999999999999999999\n"))
	if len(res.Errors) > 0 {
		t.Fatal(res.Errors)
	}
	b := res.Objects[0].Body()
	checks := map[string]any{"int": int64(42), "hex": int64(31), "float": 1.5, "bool": true, "null1": nil, "null2": nil, "str": "42", "yes": "yes", "big": 1e20}
	for k, want := range checks {
		if got := b[k]; got != want {
			t.Errorf("%s = %#v (%T), want %#v", k, got, got, want)
		}
	}
}

func TestHelmTemplateOnStdin(t *testing.T) {
	stream := "---\n# Source: demo/templates/service.yaml\napiVersion: v1\nkind: Service\nmetadata: {name: s}\n---\n# Source: demo/templates/deployment.yaml\napiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: d\n"
	res := Load(context.Background(), Options{Stdin: strings.NewReader(stream)}, "-")
	if len(res.Objects) != 2 {
		t.Fatalf("objects: %v", res.Errors)
	}
	want := []Position{{File: "demo/templates/service.yaml", Line: 1}, {File: "demo/templates/deployment.yaml", Line: 1}}
	for i, o := range res.Objects {
		if o.Source != want[i] {
			t.Errorf("object %d at %v, want %v", i, o.Source, want[i])
		}
	}
	// In a named file the file itself is the source.
	res = ParseBytes("rendered.yaml", []byte(stream))
	if res.Objects[1].Source != (Position{File: "rendered.yaml", Line: 8}) {
		t.Errorf("file source = %v", res.Objects[1].Source)
	}
}

// TestLoadReportsBytesRead: Options.Read hears of every file and of
// standard input as they are read, refused files excepted.
func TestLoadReportsBytesRead(t *testing.T) {
	dir := t.TempDir()
	docs := map[string]string{
		"a.yaml":   "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\n",
		"b/c.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\n",
		"big.yaml": "apiVersion: v1\nkind: ConfigMap\nmetadata: {name: big}\ndata: {x: " + strings.Repeat("a", 300) + "}\n",
	}
	for name, content := range docs {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	stdin := "apiVersion: v1\nkind: Pod\nmetadata: {name: s}\n"
	var total atomic.Int64
	res := Load(context.Background(), Options{MaxFileSize: 200, Stdin: strings.NewReader(stdin), Read: func(n int64) { total.Add(n) }}, dir, "-")
	if len(res.Objects) != 3 || len(res.Errors) != 1 {
		t.Fatalf("objects %d, errors %v", len(res.Objects), res.Errors)
	}
	if want := int64(len(docs["a.yaml"]) + len(docs["b/c.yaml"]) + len(stdin)); total.Load() != want {
		t.Errorf("reported %d bytes read, want %d (big.yaml is refused unread)", total.Load(), want)
	}
}

// TestDocumentsKeepTheirOwnMaps: the parser reuses a document's own maps
// (its top level and metadata) for the next document once its objects
// are made; every object still holds exactly its own document, whichever
// documents came before it in the file or in the worker's earlier files.
func TestDocumentsKeepTheirOwnMaps(t *testing.T) {
	files := [][]byte{[]byte(`apiVersion: v1
kind: ConfigMap
metadata:
  name: a
  namespace: one
  labels: {app: a}
data: {k: v}
---
apiVersion: v1
kind: Secret
metadata: {name: b, namespace: two}
type: Opaque
---
apiVersion: v1
kind: List
metadata:
  resourceVersion: "1"
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: c
- apiVersion: v1
  kind: Pod
  metadata: {name: d}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: e
  annotations:
    x: "1"
spec:
  replicas: 2
---
not: an object
---
apiVersion: v1
kind: Service
metadata:
  name: f
  name: f
---
apiVersion: v1
kind: Namespace
metadata:
`)}
	const corpus = "../../../shared/corpus/real"
	if _, err := os.Stat(corpus); err == nil {
		_ = filepath.WalkDir(corpus, func(path string, d fs.DirEntry, err error) error {
			if err == nil && !d.IsDir() && strings.HasSuffix(path, ".yaml") && len(files) < 2000 {
				data, err := os.ReadFile(path)
				if err == nil {
					files = append(files, data)
				}
			}
			return nil
		})
	}
	worker := &fastParser{shared: newSubtrees()}
	objects := 0
	for i, data := range files {
		got := parseWith(worker, "f.yaml", data, false).objects
		var want []*Object
		for c := range splitDocuments(data) {
			want = append(want, parse("f.yaml", c.data, false).objects...)
		}
		if len(got) != len(want) {
			t.Fatalf("file %d: %d objects, %d read one document at a time", i, len(got), len(want))
		}
		for j := range got {
			if !reflect.DeepEqual(got[j].Body(), want[j].Body()) {
				t.Fatalf("file %d object %d:\n%#v\nread alone:\n%#v", i, j, got[j].Body(), want[j].Body())
			}
		}
		objects += len(got)
		if i == 0 && len(worker.spare) == 0 {
			t.Fatal("the parser kept no map to reuse")
		}
	}
	t.Logf("%d files, %d objects", len(files), objects)
}

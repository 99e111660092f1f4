package source

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// fieldLine is the line of path in a file of one object.
func fieldLine(t testing.TB, doc []byte, path string) int {
	t.Helper()
	res := ParseBytes("f.yaml", doc)
	if len(res.Objects) == 0 {
		t.Fatalf("no object in %q (errors %v)", doc, res.Errors)
	}
	return res.Objects[0].FieldLine(path)
}

func TestFieldLine(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    app: web
    app.kubernetes.io/name: web
    pod-security.kubernetes.io/enforce: privileged
spec:
  template:
    spec:
      volumes:
      - name: data
        hostPath: {path: /var/run/docker.sock}
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: true
      -
        name: sidecar
        ports:
        - containerPort: 80
          hostPort: 80
`
	cases := map[string]int{
		"spec.template.spec.containers[0].securityContext.privileged":             19,
		"spec.template.spec.containers[0].image":                                  17,
		"spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem": 18, // missing: deepest existing
		"spec.template.spec.containers[1].ports":                                  22,
		"spec.template.spec.containers[1].ports[0].hostPort":                      24,
		"spec.template.spec.volumes[0].hostPath.path":                             14, // inside a flow mapping: its key
		"spec.template.spec.automountServiceAccountToken":                         11,
		"metadata.labels.pod-security.kubernetes.io/enforce":                      8,
		// A label whose name starts with another label's: the longer one.
		"metadata.labels.app.kubernetes.io/name": 7,
		"metadata.labels.app":                    6,
		"spec.template.spec.containers[5]":       15,
		"status":                                 1, // nothing of it: the object's line
		"":                                       1,
	}
	for path, want := range cases {
		if got := fieldLine(t, []byte(doc), path); got != want {
			t.Errorf("%s: line %d, want %d", path, got, want)
		}
	}
}

// TestFieldLineDocuments: each object's fields are found in its own
// document, at the file's lines, whichever decoder read it; a List's items
// are found under items[i].
func TestFieldLineDocuments(t *testing.T) {
	file := `# leading comment
apiVersion: v1
kind: Pod
metadata: {name: a}
spec:
  containers:
  - name: app
    image: nginx
---
# yaml.v3 decodes this one (an anchor)
apiVersion: v1
kind: Pod
metadata:
  name: b
  labels: &l {app: b}
spec:
  containers:
  - name: app
    image: nginx
---
apiVersion: v1
kind: List
metadata: {name: list}
items:
- apiVersion: v1
  kind: Pod
  metadata:
    name: c
  spec:
    containers:
    - name: app
      image: nginx
-
  apiVersion: v1
  kind: Pod
  metadata:
    name: d
  spec:
    hostNetwork: true
`
	res := ParseBytes("f.yaml", []byte(file))
	if len(res.Errors) > 0 || len(res.Objects) != 4 {
		t.Fatalf("objects %d, errors %v", len(res.Objects), res.Errors)
	}
	cases := []struct {
		object     int
		path       string
		want       int
		objectLine int
	}{
		{0, "spec.containers[0].image", 8, 2},
		{0, "metadata.name", 4, 2},
		{1, "spec.containers[0].image", 19, 11},
		{1, "metadata.labels.app", 15, 11},
		{2, "spec.containers[0].image", 32, 25},
		{2, "metadata.name", 28, 25},    // the item's metadata, not the List's
		{2, "metadata.labels", 27, 25},  // missing: the item's metadata
		{3, "spec.hostNetwork", 39, 34}, // an item after "-" alone
		{3, "status.podIP", 34, 34},     // the item's own line
		{2, "apiVersion", 25, 25},       // the item's first key, on the "-" line
		{0, "spec.containers[3].name", 6, 2},
	}
	for _, c := range cases {
		o := res.Objects[c.object]
		if o.Source.Line != c.objectLine {
			t.Errorf("object %d (%s) at line %d, want %d", c.object, o.Name(), o.Source.Line, c.objectLine)
		}
		if got := o.FieldLine(c.path); got != c.want {
			t.Errorf("object %d (%s) %s: line %d, want %d", c.object, o.Name(), c.path, got, c.want)
		}
	}
}

// TestFieldLineTemplates: helm template's output on stdin names each
// document's template; its fields are found in that template file, and
// in no file when the template cannot be read.
func TestFieldLineTemplates(t *testing.T) {
	dir := t.TempDir()
	template := filepath.Join(dir, "deployment.yaml")
	if err := os.WriteFile(template, []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: {{ .Release.Name }}
spec:
  template:
    spec:
      {{- with .Values.hostNetwork }}
      hostNetwork: {{ . }}
      {{- end }}
      containers:
      - name: app
        image: {{ .Values.image }}
`), 0o644); err != nil {
		t.Fatal(err)
	}
	stdin := "---\n# Source: " + template + `
apiVersion: apps/v1
kind: Deployment
metadata:
  name: rel
spec:
  template:
    spec:
      hostNetwork: true
      containers:
      - name: app
        image: nginx
---
# Source: ` + filepath.Join(dir, "missing.yaml") + `
apiVersion: v1
kind: ConfigMap
metadata:
  name: rel
data:
  a: b
`
	res := ParseBytes("-", []byte(stdin))
	if len(res.Objects) != 2 {
		t.Fatalf("objects %d, errors %v", len(res.Objects), res.Errors)
	}
	deploy, cm := res.Objects[0], res.Objects[1]
	if deploy.Source.File != template || deploy.Source.Line != 1 {
		t.Fatalf("deployment at %s", deploy.Source)
	}
	for path, want := range map[string]int{
		"spec.template.spec.containers[0].image": 13, // the template's line, not the rendered one
		"spec.template.spec.hostNetwork":         9,
	} {
		if got := deploy.FieldLine(path); got != want {
			t.Errorf("%s: line %d, want %d", path, got, want)
		}
	}
	if got := cm.FieldLine("data.a"); got != cm.Source.Line {
		t.Errorf("unreadable template: line %d, want the object's %d", got, cm.Source.Line)
	}
}

// docTable is a document's line table with where each line's block ends.
type docTable struct {
	lines []fastLine
	// ends[j] is blockEnd of content line j: the index of the next line
	// that is not part of j's block, so a walk steps from sibling to
	// sibling instead of over every nested line.
	ends []int32
	open []int // the stack build uses, kept for reuse
}

// build makes t the line table of lines (a document as fastParser.split
// left it), reusing t's slices.
func (t *docTable) build(lines []fastLine) {
	t.lines = lines
	t.ends = resize(t.ends, len(lines))
	// Lines whose block is still open, deepest last. A line k closes the
	// open lines blockEnd would stop at k; those are always on top.
	open := t.open[:0]
	for k, l := range lines {
		if blank(l) {
			continue
		}
		for len(open) > 0 {
			j := open[len(open)-1]
			if !endsBlock(lines[j].indent, isSeqEntry(lines[j].content), l) {
				break
			}
			t.ends[j] = int32(k)
			open = open[:len(open)-1]
		}
		open = append(open, k)
	}
	for _, j := range open {
		t.ends[j] = int32(len(lines))
	}
	t.open = open
}

// resize returns s with length n and zero elements, reusing its array.
func resize[T any](s []T, n int) []T {
	if cap(s) < n {
		return make([]T, n)
	}
	s = s[:n]
	clear(s)
	return s
}

// blockEnd is the index after the lines that belong to the entry at i
// (indentation ind), searching up to hi: up to the next content line at
// ind or shallower. A sequence at the same indentation under a key also
// belongs to it.
func blockEnd(at func(int) fastLine, hi, i, ind int) int {
	keyLine := !isSeqEntry(at(i).content)
	for j := i + 1; j < hi; j++ {
		l := at(j)
		if blank(l) {
			continue
		}
		if l.indent < ind || (l.indent == ind && !(keyLine && isSeqEntry(l.content))) {
			return j
		}
	}
	return hi
}

// pathSegment is a mapping key or a sequence index.
type pathSegment struct {
	key   string
	index int // -1 for keys
}

func splitPath(path string) []pathSegment {
	var out []pathSegment
	for part := range strings.SplitSeq(path, ".") {
		key, rest, _ := strings.Cut(part, "[")
		if key != "" {
			out = append(out, pathSegment{key: key, index: -1})
		}
		for rest != "" {
			num, tail, ok := strings.Cut(rest, "]")
			if !ok {
				break
			}
			if n, err := strconv.Atoi(num); err == nil {
				out = append(out, pathSegment{index: n})
			}
			rest = strings.TrimPrefix(tail, "[")
		}
	}
	return out
}

// matchKeys reports how many path segments from s the key spells, or 0.
func matchKeys(key string, segs []pathSegment, s int) int {
	k := 0
	for rest := key; s+k < len(segs); {
		seg := segs[s+k]
		if seg.index >= 0 || !strings.HasPrefix(rest, seg.key) {
			return 0
		}
		rest = rest[len(seg.key):]
		k++
		if rest == "" {
			return k
		}
		if rest[0] != '.' {
			return 0
		}
		rest = rest[1:]
	}
	return 0
}

// pathWalker is the reference fieldIndex is tested against: it follows a path
// down a document's lines segment by segment, trying every key that
// spells a prefix of the rest of the path (a label name holds dots), and
// returns the line of the deepest field reached (the first line on a tie).
type pathWalker struct {
	table docTable
	segs  []pathSegment
	// A compact sequence entry ("- name: x") is read as a mapping whose
	// first line starts at the key's column: while the walk is inside
	// such an entry, virtual is its line and override that line so read.
	virtual  int
	override fastLine
}

func (w *pathWalker) at(j int) fastLine {
	if j == w.virtual {
		return w.override
	}
	return w.table.lines[j]
}

// sibling is the first line after j's block, bounded by hi.
func (w *pathWalker) sibling(j, hi int) int {
	if j == w.virtual {
		return blockEnd(w.at, hi, j, w.override.indent)
	}
	return min(int(w.table.ends[j]), hi)
}

// firstContent is the first line from lo before hi that is not blank, or
// hi.
func (w *pathWalker) firstContent(lo, hi int) int {
	for lo < hi && blank(w.at(lo)) {
		lo++
	}
	return lo
}

type reached struct{ depth, line int }

func (r reached) better(o reached) bool {
	return o.depth > r.depth || (o.depth == r.depth && o.line > 0 && o.line < r.line)
}

func walkLine(lines []fastLine, path string) int {
	w := pathWalker{segs: splitPath(path)}
	w.table.build(lines)
	w.virtual = -1
	lo := w.firstContent(0, len(lines))
	if lo >= len(lines) {
		return 0
	}
	return w.walk(lo, len(lines), lines[lo].indent, 0).line
}

func (w *pathWalker) walk(lo, hi, ind, s int) reached {
	best := reached{depth: s}
	if s == len(w.segs) {
		return best
	}
	seg := w.segs[s]
	n := 0
	for j := lo; j < hi; j = w.sibling(j, hi) {
		l := w.at(j)
		if l.indent != ind {
			continue
		}
		seq := isSeqEntry(l.content)
		if seg.index >= 0 {
			if !seq {
				continue
			}
			if n++; n-1 != seg.index {
				continue
			}
			got := reached{s + 1, l.line}
			end := w.sibling(j, hi)
			rest := bytes.TrimLeft(l.content[1:], " ")
			if len(rest) == 0 {
				if next := w.firstContent(j+1, end); next < end {
					if deeper := w.walk(next, end, w.at(next).indent, s+1); got.better(deeper) {
						got = deeper
					}
				}
			} else {
				off := len(l.content) - len(rest)
				virtual, override := w.virtual, w.override
				w.virtual, w.override = j, fastLine{indent: ind + off, content: l.content[off:], raw: l.raw, line: l.line}
				if deeper := w.walk(j, end, ind+off, s+1); got.better(deeper) {
					got = deeper
				}
				w.virtual, w.override = virtual, override
			}
			return got
		}
		if seq && j != w.virtual {
			continue
		}
		k := matchKeys(lineKey(l.content), w.segs, s)
		if k == 0 {
			continue
		}
		got := reached{s + k, l.line}
		end := w.sibling(j, hi)
		if next := w.firstContent(j+1, end); next < end {
			if deeper := w.walk(next, end, w.at(next).indent, s+k); got.better(deeper) {
				got = deeper
			}
		}
		if best.better(got) {
			best = got
		}
	}
	return best
}

// indexLine is a document's field line by its fieldIndex.
func indexLine(lines []fastLine, path string) int {
	var x fieldIndexer
	return x.index(lines, 1).line(fnvOffset, true, path)
}

// docPaths are the paths of the keys and entries a document spells, read
// off its lines (keys by indentation, entries counted per parent), plus
// each with a missing last step: the fuzz target's paths.
func docPaths(lines []fastLine) []string {
	type open struct {
		indent  int
		path    string
		entries int
	}
	var stack []open
	var out []string
	for _, l := range lines {
		if blank(l) {
			continue
		}
		for len(stack) > 0 && stack[len(stack)-1].indent > l.indent {
			stack = stack[:len(stack)-1]
		}
		parent := ""
		if len(stack) > 0 {
			parent = stack[len(stack)-1].path
		}
		content, indent := l.content, l.indent
		if isSeqEntry(content) && len(stack) > 0 {
			top := &stack[len(stack)-1]
			p := top.path + "[" + strconv.Itoa(top.entries) + "]"
			top.entries++
			out = append(out, p)
			rest := bytes.TrimLeft(content[1:], " ")
			indent += len(content) - len(rest)
			content, parent = rest, p
			stack = append(stack, open{indent: indent, path: p})
		}
		if key := lineKey(content); key != "" {
			p := key
			if parent != "" {
				p = parent + "." + key
			}
			out = append(out, p, p+".missing", p+"[7]")
			stack = append(stack, open{indent: indent + 1, path: p})
		}
	}
	return out
}

var wellFormedPath = regexp.MustCompile(`^[A-Za-z0-9_/.-]+(\[[0-9]{1,4}\])*(\.[A-Za-z0-9_/.-]+(\[[0-9]{1,4}\])*)*$`)

// FuzzFieldLine: the field index and the reference walk agree on every
// path a document spells (and on paths it does not), and neither panics.
func FuzzFieldLine(f *testing.F) {
	f.Add([]byte("a:\n  b:\n  - c: 1\n    d: [x]\n  -\n    e: 2\n"), "a.b[1].e")
	f.Add([]byte("- - x\n-\n"), "[0][0]")
	f.Add([]byte("k.a.b: 1\nk:\n  a: {b: 2}\n"), "k.a.b")
	f.Add([]byte("labels:\n  app: x\n  app.kubernetes.io/name: y\n"), "labels.app.kubernetes.io/name")
	f.Add([]byte("spec:\n  containers:\n    - name: a\n      image: b\n    -   name: c\n        ports:\n        - 80\n"), "spec.containers[1].ports[0]")
	f.Fuzz(func(t *testing.T, doc []byte, path string) {
		var p fastParser
		if p.split(doc) != nil {
			return
		}
		lines := p.lines
		for _, l := range lines {
			if k := plainKey(l.content); k != nil && string(k) != lineKey(l.content) {
				t.Fatalf("%q: plainKey %q, lineKey %q", l.content, k, lineKey(l.content))
			}
			key := lineKey(l.content)
			if isSeqEntry(l.content) {
				key += lineKey(bytes.TrimLeft(l.content[1:], " "))
			}
			if strings.ContainsAny(key, "[]") || strings.HasPrefix(key, ".") || strings.HasSuffix(key, ".") || strings.Contains(key, "..") {
				return // a key the path syntax cannot name
			}
		}
		paths := docPaths(lines)
		if wellFormedPath.MatchString(path) && !strings.HasPrefix(path, ".") && !strings.Contains(path, "..") && !strings.Contains(path, ".[") && !strings.HasSuffix(path, ".") {
			paths = append(paths, path)
		}
		for _, path := range paths {
			got, want := indexLine(lines, path), walkLine(lines, path)
			if got != want {
				t.Fatalf("%q in %q: index line %d, walk line %d", path, doc, got, want)
			}
			if got < 0 || got > len(lines) {
				t.Fatalf("line %d outside a %d-line document", got, len(lines))
			}
		}
	})
}

// TestFieldLineLongDocument: a document with more fields than an index
// searches in order is searched sorted, with the same answers, the first
// of two equal keys included.
func TestFieldLineLongDocument(t *testing.T) {
	for _, n := range []int{3, 40} { // 3 containers: under fieldScanMax fields; 40: over
		var b strings.Builder
		b.WriteString("apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\n  name: again\nspec:\n  containers:\n")
		for i := range n {
			fmt.Fprintf(&b, "  - name: c%d\n    image: i%d\n", i, i)
		}
		var p fastParser
		if err := p.split([]byte(b.String())); err != nil {
			t.Fatal(err)
		}
		var x fieldIndexer
		idx := x.index(p.lines, 1)
		if (len(idx.entries) > fieldScanMax) != (n > 3) {
			t.Fatalf("%d containers: %d fields", n, len(idx.entries))
		}
		for path, want := range map[string]int{
			"metadata.name":                                         4, // the first of the two
			"spec.containers[0].image":                              9,
			fmt.Sprintf("spec.containers[%d].image", n-1):           9 + 2*(n-1),
			fmt.Sprintf("spec.containers[%d].name", n-1):            8 + 2*(n-1),
			fmt.Sprintf("spec.containers[%d].securityContext", n-1): 8 + 2*(n-1),
			fmt.Sprintf("spec.containers[%d]", n):                   7,
		} {
			if got := idx.line(fnvOffset, true, path); got != want {
				t.Errorf("%d containers: %s at line %d, want %d", n, path, got, want)
			}
		}
	}
}

// TestFieldIndexShapes: documents with the same fields on the same lines
// share their entries; others, and the lines they report, stay their own.
func TestFieldIndexShapes(t *testing.T) {
	file := "apiVersion: v1\nkind: Pod\nmetadata: {name: a}\nspec: {x: 1}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: b}\nspec: {x: 2}\n---\napiVersion: v1\nkind: Pod\nmetadata: {name: c}\n\nspec: {x: 3}\n"
	res := ParseBytes("f.yaml", []byte(file))
	if len(res.Objects) != 3 {
		t.Fatalf("objects %d, errors %v", len(res.Objects), res.Errors)
	}
	a, b, c := res.Objects[0], res.Objects[1], res.Objects[2]
	if &a.fields.entries[0] != &b.fields.entries[0] {
		t.Error("two documents of one shape do not share their entries")
	}
	if &a.fields.entries[0] == &c.fields.entries[0] {
		t.Error("a document whose spec is a line further shares the entries of another")
	}
	for o, want := range map[*Object]int{a: 4, b: 9, c: 15} {
		if got := o.FieldLine("spec.x"); got != want {
			t.Errorf("%s: spec.x at line %d, want %d", o.Name(), got, want)
		}
	}
	var x fieldIndexer
	for i := range maxShapes + 10 {
		x.shared([]uint64{uint64(i) << fieldLineBits})
	}
	if len(x.shapes) != maxShapes {
		t.Errorf("%d shapes kept, want the bound %d", len(x.shapes), maxShapes)
	}
	var y fieldIndexer
	large := make([]uint64, maxShapeFields+1)
	if y.shared(large); len(y.shapes) != 0 {
		t.Errorf("a document of %d fields was kept for sharing", len(large))
	}
	y.entries, y.open = make([]uint64, 0, 1<<17), make([]openBlock, 0, 1<<13)
	if y.release(); y.entries != nil || y.open != nil {
		t.Error("a large document's buffers were kept")
	}
}

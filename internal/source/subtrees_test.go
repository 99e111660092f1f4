package source

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
	"unsafe"
)

// block64 is a nested block long enough to be shared.
const block64 = "    image: registry.example.com/team/app:1.2.3\n    imagePullPolicy: IfNotPresent\n"

// TestSharedBlocks: through a table, equal blocks decode to one value,
// identical to what yaml.v3 decodes, in the same document and in later
// ones; blocks whose text differs in anything that could change their
// value are not confused.
func TestSharedBlocks(t *testing.T) {
	p := &fastParser{shared: newSubtrees()}
	doc := "a:\n  x:\n" + block64 + "b:\n  x:\n" + block64 + "c: 1\n"
	if !agreeWith(t, p, "repeated", []byte(doc)) {
		t.Fatal("fell back")
	}
	v, _, _ := p.decode([]byte(doc))
	m := v.(map[string]any)
	if !sameMap(m["a"], m["b"]) {
		t.Error("equal blocks in one document were not shared")
	}
	// A later document: the block is handed out again.
	later := "kind: X\nspec:\n  x:\n" + block64 + "other: 2\n"
	if !agreeWith(t, p, "later", []byte(later)) {
		t.Fatal("fell back")
	}
	v2, _, _ := p.decode([]byte(later))
	if !sameMap(v2.(map[string]any)["spec"], m["a"]) {
		t.Error("a block of an earlier document was not shared")
	}

	// A short block (known by its text, not its hash) is shared too.
	short := "a:\n  labels:\n    app: web-frontend\nb:\n  labels:\n    app: web-frontend\n"
	if !agreeWith(t, p, "short", []byte(short)) {
		t.Fatal("fell back")
	}
	v3, _, _ := p.decode([]byte(short))
	m3 := v3.(map[string]any)
	if !sameMap(m3["a"].(map[string]any)["labels"], m3["b"].(map[string]any)["labels"]) {
		t.Error("equal short blocks were not shared")
	}

	// Texts that differ only where a value could differ: trailing blank
	// lines kept by "|+", the final line break, a sequence that ends at
	// its key's indentation, a comment; as long and as short blocks.
	keep := "    script: |+\n      echo one two three four five six seven eight\n"
	keepShort := "    s: |+\n      echo one\n"
	for i, c := range []string{
		"a:\n  s:\n" + keepShort + "\nb:\n  s:\n" + keepShort + "\n\n\nc: 1\n",
		"a:\n  s:\n" + keepShort + "b:\n  s:\n" + strings.TrimSuffix(keepShort, "\n"),
		"a:\n  s:\n" + keepShort + "b:\n  s:\n" + keepShort,
		"a:\n  k:\n  - one two\n  n: 1\nb:\n  k:\n  - one two\n  n: 1\n",
		"a:\n  x:\n    app: web-frontend\n  # comment\nb:\n  x:\n    app: web-frontend\n",
		"a:\n  s:\n" + keep + "\nb:\n  s:\n" + keep + "\n\n\nc: 1\n",
		"a:\n  s:\n" + keep + "b:\n  s:\n" + strings.TrimSuffix(keep, "\n"),
		"a:\n  s:\n" + keep + "b:\n  s:\n" + keep,
		"a:\n  k:\n  - one two three four five six seven eight nine ten\n  - x\n  n: 1\nb:\n  k:\n  - one two three four five six seven eight nine ten\n  - x\n  n: 1\n",
		"a:\n  x:\n" + block64 + "  # comment\nb:\n  x:\n" + block64,
		"l:\n- name: a\n  spec:\n" + block64 + "- name: b\n  spec:\n" + block64 + "- name: c\n  spec:\n" + block64,
	} {
		q := &fastParser{shared: newSubtrees()}
		// Cases 1 and 6 end in a block scalar without a line break,
		// which yaml.v3 decodes; the rest take the fast path.
		if !agreeWith(t, q, "case", []byte(c)) && i != 1 && i != 6 {
			t.Errorf("case %d fell back", i)
		}
		agreeWith(t, q, "case again", []byte(c))
	}
}

// TestSharedBlocksAtAnyIndentation: a block is known by its text relative
// to its indentation, so equal blocks at different depths decode to one
// value, equal to yaml.v3's; a block with a line indented less than it
// (a comment, spaces in a block scalar) is decoded on its own, and blocks
// whose relative text differs are not confused.
func TestSharedBlocksAtAnyIndentation(t *testing.T) {
	spec := "containers:\n- name: web\n  image: registry.example.com/web:1.2\n  args:\n  - |\n    line one\n\n      indented\n"
	under := func(n int, s string) string {
		var b strings.Builder
		for _, line := range strings.SplitAfter(s, "\n") {
			if line != "\n" && line != "" {
				b.WriteString(strings.Repeat(" ", n))
			}
			b.WriteString(line)
		}
		return b.String()
	}
	doc := "pod:\n  spec:\n" + under(4, spec) + "deployment:\n  spec:\n    template:\n      spec:\n" + under(8, spec)
	p := &fastParser{shared: newSubtrees()}
	if !agreeWith(t, p, "indented", []byte(doc)) {
		t.Fatal("fell back")
	}
	v, _, _ := p.decode([]byte(doc))
	m := v.(map[string]any)
	podSpec := m["pod"].(map[string]any)["spec"]
	templateSpec := m["deployment"].(map[string]any)["spec"].(map[string]any)["template"].(map[string]any)["spec"]
	if !sameMap(podSpec, templateSpec) {
		t.Error("equal blocks at indentations 4 and 8 were not shared")
	}
	// A Pod of its own (indentation 2) shares it too.
	pod := "kind: Pod\nspec:\n" + under(2, spec)
	if !agreeWith(t, p, "pod", []byte(pod)) {
		t.Fatal("fell back")
	}
	v2, _, _ := p.decode([]byte(pod))
	if !sameMap(v2.(map[string]any)["spec"], podSpec) {
		t.Error("a block at indentation 2 did not share the one at 4")
	}

	// Lines indented less than the block: a comment, and a line of
	// spaces inside a block scalar (content at one indentation, an
	// empty line at another). Each is decoded, and agrees with yaml.v3.
	for i, c := range []string{
		"a:\n  x:\n    app: web-frontend-long-enough\n  # comment\n    more: 1\nb:\n  x:\n    app: web-frontend-long-enough\n    more: 1\n",
		"a:\n  s:\n    k: |\n      one\n  \n      two\nb:\n  s:\n    k: |\n      one\n\n      two\nc:\n  k: |\n    one\n      \n    two\n",
		"a:\n  s: |\n     x\n    y\nb:\n  s: |\n   x\n  y\n",
		"a:\n  - k: |2\n       x\n      y\nb:\n    - k: |2\n         x\n        y\n",
	} {
		q := &fastParser{shared: newSubtrees()}
		agreeWith(t, q, "case "+strconv.Itoa(i), []byte(c))
		agreeWith(t, q, "case again "+strconv.Itoa(i), []byte(c))
	}
}

// TestSharedBlocksKeepTheDepthLimit: a shared block handed out deeper than
// the fast path goes falls back, as decoding it would.
func TestSharedBlocksKeepTheDepthLimit(t *testing.T) {
	nest := func(depth int, inner string) string {
		var b strings.Builder
		for i := range depth {
			b.WriteString(strings.Repeat("  ", i) + "k:\n")
		}
		for _, line := range strings.SplitAfter(inner, "\n") {
			if line != "" {
				b.WriteString(strings.Repeat("  ", depth) + line)
			}
		}
		return b.String()
	}
	inner := nest(10, "leaf: a value long enough for the block to be shared\n")
	p := &fastParser{shared: newSubtrees()}
	if v, _, err := p.decode([]byte(nest(2, inner))); err != nil || v == nil {
		t.Fatalf("shallow: %v", err)
	}
	if _, _, err := p.decode([]byte(nest(fastMaxDepth-5, inner))); err != errFallback {
		t.Errorf("deep: %v, want a fallback", err)
	}
	if _, _, err := new(fastParser).decode([]byte(nest(fastMaxDepth-5, inner))); err != errFallback {
		t.Errorf("deep, unshared: %v, want a fallback", err)
	}
	// A block around a shared one records the shared block's depth too.
	// under puts a block at indentation n*step, below n keys: the same
	// text can be reached at different depths.
	under := func(n, step int, block string) string {
		var b strings.Builder
		for i := range n {
			b.WriteString(strings.Repeat(" ", i*step) + "k:\n")
		}
		for _, line := range strings.SplitAfter(block, "\n") {
			if line != "" {
				b.WriteString(strings.Repeat(" ", n*step) + line)
			}
		}
		return b.String()
	}
	deepInner := nest(25, "leaf: a value long enough for the block to be shared\n")
	wrapper := under(1, 2, deepInner)[len("k:\n"):] // deepInner indented by 2
	wrapper = "w:\n" + wrapper + "other: a value long enough for the wrapper to be shared\n"
	q := &fastParser{shared: newSubtrees()}
	for _, doc := range []string{
		under(41, 2, deepInner), // the inner block alone, at indentation 82
		under(40, 2, wrapper),   // around it (a hit) at 80: the wrapper is shared
	} {
		if !agreeWith(t, q, "priming", []byte(doc)) {
			t.Fatal("priming fell back")
		}
	}
	if _, _, err := q.decode([]byte(under(80, 1, wrapper))); err != errFallback {
		t.Errorf("the wrapper 80 levels deep: %v, want a fallback", err)
	}
}

// TestSharedBlocksTableIsBounded: the table holds at most
// subtreeMaxEntries however many distinct blocks and scalars go by.
func TestSharedBlocksTableIsBounded(t *testing.T) {
	p := &fastParser{shared: newSubtrees()}
	scalars := 0
	for i := range 40_000 {
		doc := "a:\n  x:\n" + block64 + "    n: " + strings.Repeat("x", i%50) + "\n  id: " + strings.Repeat("y", i/50) +
			"\nb:\n  short: " + strconv.Itoa(i) + "-of-many\n"
		if _, _, err := p.decode([]byte(doc)); err != nil {
			t.Fatal(err)
		}
		s := p.shared
		if n := s.values.len() + s.flows.len() + len(s.scalars); n > subtreeMaxEntries || n != s.entries || len(s.values.short) == 0 {
			t.Fatalf("table holds %d entries, counted %d", n, p.shared.entries)
		}
		scalars = max(scalars, len(s.scalars))
	}
	if scalars == 0 {
		t.Error("no scalar was shared")
	}
}

func sameMap(a, b any) bool {
	ma, ok1 := a.(map[string]any)
	mb, ok2 := b.(map[string]any)
	return ok1 && ok2 && reflect.ValueOf(ma).UnsafePointer() == reflect.ValueOf(mb).UnsafePointer()
}

// TestSharedBlocksStayUnchanged: filling in the kind of a typed list's
// items does not change a block shared with another document.
func TestSharedBlocksStayUnchanged(t *testing.T) {
	item := "-\n  metadata:\n    name: a-name-long-enough-for-the-block-to-be-shared\n    namespace: default\n"
	file := "apiVersion: v1\nkind: PodList\nitems:\n" + item + "---\napiVersion: v1\nkind: ServiceList\nitems:\n" + item
	res := parseWith(&fastParser{shared: newSubtrees()}, "lists.yaml", []byte(file), false)
	if len(res.objects) != 2 || len(res.errors) != 0 {
		t.Fatalf("%d objects, errors %v", len(res.objects), res.errors)
	}
	if k0, k1 := res.objects[0].Kind(), res.objects[1].Kind(); k0 != "Pod" || k1 != "Service" {
		t.Errorf("kinds %s and %s, want Pod and Service", k0, k1)
	}
}

// TestSharedFlows: equal flow nodes decode to one value, equal to
// yaml.v3's, wherever they are.
func TestSharedFlows(t *testing.T) {
	p := &fastParser{shared: newSubtrees()}
	doc := "metadata:\n  labels: {app: web, tier: backend}\nspec:\n  selector:\n    matchLabels: {app: web, tier: backend}\n  list:\n  - {app: web, tier: backend}\n  - [a, b, {c: d}]\n  other: [a, b, {c: d}]\n"
	if !agreeWith(t, p, "flows", []byte(doc)) {
		t.Fatal("fell back")
	}
	v, _, _ := p.decode([]byte(doc))
	m := v.(map[string]any)
	labels := m["metadata"].(map[string]any)["labels"]
	spec := m["spec"].(map[string]any)
	if !sameMap(labels, spec["selector"].(map[string]any)["matchLabels"]) || !sameMap(labels, spec["list"].([]any)[0]) {
		t.Error("equal flow mappings were not shared")
	}
	if a, b := spec["list"].([]any)[1].([]any), spec["other"].([]any); &a[0] != &b[0] {
		t.Error("equal flow sequences were not shared")
	}
}

// TestSharedScalars: a plain scalar seen before is the same value again
// (one string, one interface value), in the same document and in later
// ones, and decodes as yaml.v3 decodes it whatever it resolves to.
func TestSharedScalars(t *testing.T) {
	p := &fastParser{shared: newSubtrees()}
	doc := "apiVersion: apps/v1\nmetadata:\n  namespace: team-one\n  name: web\nspec:\n  replicas: 3\n  paused: false\n  n: 3\n  owner: team-one\n"
	for _, d := range []string{doc, strings.Replace(doc, "name: web", "name: db", 1)} {
		if !agreeWith(t, p, "scalars", []byte(d)) {
			t.Fatal("fell back")
		}
	}
	v1, _, _ := p.decode([]byte(doc))
	v2, _, _ := p.decode([]byte(strings.Replace(doc, "name: web", "name: db", 1)))
	ns := func(v any) string { return v.(map[string]any)["metadata"].(map[string]any)["namespace"].(string) }
	owner := v1.(map[string]any)["spec"].(map[string]any)["owner"].(string)
	if unsafe.StringData(ns(v1)) != unsafe.StringData(ns(v2)) || unsafe.StringData(ns(v1)) != unsafe.StringData(owner) {
		t.Error("equal scalars were not shared")
	}
	if r := v2.(map[string]any)["spec"].(map[string]any)["replicas"]; r != int64(3) {
		t.Errorf("replicas = %#v", r)
	}
}

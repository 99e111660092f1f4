package source

import (
	"bytes"
	"errors"
	"io"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"unicode/utf8"

	"go.yaml.in/yaml/v3"
)

// slowDecode is the reference: yaml.v3's node tree and our converter.
func slowDecode(chunk []byte) (any, int, error) {
	dec := yaml.NewDecoder(bytes.NewReader(chunk))
	var node yaml.Node
	if err := dec.Decode(&node); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, 0, nil
		}
		return nil, 0, err
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		return nil, 0, errors.New("more than one document")
	}
	root := &node
	if len(root.Content) == 0 {
		return nil, 0, nil
	}
	root = root.Content[0]
	v, err := (&converter{}).value(root, 0)
	return v, root.Line, err
}

// agree fails t if the fast path answers differently from yaml.v3.
func agree(t testing.TB, name string, chunk []byte) (fast bool) {
	return agreeWith(t, new(fastParser), name, chunk)
}

// agreeWith is agree decoding with p, whose table of shared blocks (when
// it has one) may hold blocks of documents decoded before.
func agreeWith(t testing.TB, p *fastParser, name string, chunk []byte) (fast bool) {
	fv, fl, ferr := p.decode(chunk)
	if errors.Is(ferr, errFallback) {
		return false
	}
	if ferr != nil {
		t.Fatalf("%s: fast path returned %v", name, ferr)
	}
	sv, sl, serr := slowDecode(chunk)
	if serr != nil {
		t.Fatalf("%s: fast path accepted a document yaml.v3 rejects (%v):\n%s", name, serr, chunk)
	}
	if !reflect.DeepEqual(fv, sv) {
		t.Fatalf("%s: fast path decoded differently:\nfast: %#v\nyaml: %#v\ninput:\n%s", name, fv, sv, chunk)
	}
	if sv != nil && fl != sl {
		t.Fatalf("%s: fast path line %d, yaml.v3 line %d", name, fl, sl)
	}
	return true
}

func TestFastPathCases(t *testing.T) {
	cases := []string{
		"a: 1\nb: -2\nc: 1.5\nd: true\ne: ~\nf:\ng: 'it''s'\nh: \"q\\\"\\n\"\ni: plain text # comment\nj: 100m\nk: 1Gi\nl: 10.0.0.0/8\nm: yes\nn: \"\"\n",
		"list:\n- a\n- 'b'\n- 3\n-\n  nested: x\n- name: c\n  image: d\n  args: [--x, \"y\", 1]\n",
		"m:\n  k:\n  - 1\n  - 2\n  o: {a: b, c: [d, e], f: {}}\n",
		"script: |\n  #!/bin/sh\n  echo hi\n\n  exit 0\nnext: x\n",
		"strip: |-\n  a\n  b\n\n\nkeep: |+\n  a\n\nclip: |\n  a\n\n",
		"empty: |\nnext: 1\n",
		"# comment\n\nkey: value\n  # indented comment\nother: 2\n",
		"\"quoted key\": 1\n'single': 2\nurl://x: 3\n",
		"a:\n  - x\n  -   y\n  - z: 1\n    w: 2\n",
		"k: [a, [b, c], {d: e}]\n",
		"deep:\n" + strings.Repeat("  ", 1) + "a:\n    b:\n      c: 1\n",
		"hex: 0x1F\nexp: 1e3\ndate: 2024-01-01\nversion: 1.0.0\noctal: 0755\nhexish: 1234abcd\nsigned: +12\nflag: --x\n",
		"crlf: a\r\nlist:\r\n- b\r\nlit: |\r\n  x\r\n  y\r\n",
		"no newline: x",
		"a: b\n  c\n",
		"d: a long\n  plain scalar\n\n  with an empty line\n\n\n  and two\ne: x\n",
		"f:\n  on the next line\n  and the one after\ng:\n- in a\n  sequence\n- name: compact\n    continued\n",
		"h: ends # with a comment\ni: x\n  # indented comment\nj: 2\n",
		"k: 2001-12-14\n  21:59:43.10\nl: 1\n  2\n",
		"a: 1_000\nb: 0b101\nc: -0x1F\nd: 0o17\ne: 1_0x\nuid: 0b1c2d3e-aa\n",
		"s: 'a single-quoted\n  scalar with '' and # and: colons\n\n  over lines'\nd: \"double \\\"quoted\\\"\n   \\t text\" # comment\n",
		"l:\n- 'in a\n  sequence'\n- name: 'compact\n    mapping'\n",
		"a: b\n  - c\n  [d\n  'e\n  |f {g}\n  \"h\n  ?i\n  %j @k `l &m *n !o >p\nq:\n  {r: s}\nt:\n  - [u]\n",
		"command:\n- /bin/sh\n- |\n  echo hi\n\n  exit 0\n- |-\n    deeper\n- x\nm:\n  - |\n    y\n",
	}
	for i, c := range cases {
		if !agree(t, c, []byte(c)) {
			t.Errorf("case %d fell back; it should be on the fast path:\n%s", i, c)
		}
	}
	// These must fall back (and so are decoded by yaml.v3).
	fallbacks := []string{
		"a: &x 1\nb: *x\n", "a: !!str 1\n", "a: >\n  folded\n", "a: b # c\n  d\n", "a: b\n  # c\n  d\n", "a: b\n  c: d\n", "a: \"escaped \\\n  break\"\n", "a: 'never\n  closed\n", "a: 'closed' early\n  x'\n", "a: 'x\n  y' z\n", "a: 'x\ny'\n",
		"a: 1_0.5\n", "a: -0b1111111111111111111111111111111111111111111111111111111111111111\n", "a: 18446744073709551615\n", "a: .inf\n", "a: 1\na: 2\n", "<<: {a: 1}\n",
		"a:\tb\n", "a: b\rc\n", "a: |2\n   x\n", "a: [0?]\n", "a: {b: c?d}\n", "{a: 1}\n", "- a\nb: c\n", "a: b: c\n", "a: [b\n", "lit: |\n  no final newline",
	}
	for _, c := range fallbacks {
		if _, _, err := fastDecode([]byte(c)); !errors.Is(err, errFallback) {
			t.Errorf("expected a fallback for %q", c)
		}
	}
}

// TestFastPathAgreesOnCorpus decodes every document of the real-world
// corpus both ways.
func TestFastPathAgreesOnCorpus(t *testing.T) {
	const corpus = "../../../shared/corpus/real"
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("real-world corpus not found at %s (it lives in ../shared beside the repository)", corpus)
	}
	var docs, fast, lists int
	// One parser for the whole corpus, as a loading worker has: its table
	// hands out blocks decoded in earlier documents and files.
	shared := &fastParser{shared: newSubtrees()}
	err := filepath.WalkDir(corpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !(strings.HasSuffix(path, ".yaml") || strings.HasSuffix(path, ".yml")) {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		for c := range splitDocuments(data) {
			docs++
			if agreeWith(t, shared, path, c.data) {
				fast++
				var p fastParser
				if v, _, _ := p.decode(c.data); v != nil {
					if m, ok := v.(map[string]any); ok && isList(m) && m["items"] != nil {
						if got, want := p.itemLines(), yamlItemLines(t, c.data); !reflect.DeepEqual(append([]int{}, got...), want) {
							t.Errorf("%s: item lines: fast %v, yaml.v3 %v", path, got, want)
						}
						lists++
					}
				}
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("%d documents, %d (%.1f%%) on the fast path, all identical to yaml.v3 (%d lists, item lines too)", docs, fast, 100*float64(fast)/float64(docs), lists)
	if fast*10 < docs*8 {
		t.Errorf("only %d of %d documents took the fast path", fast, docs)
	}
}

func FuzzFastPathAgrees(f *testing.F) {
	for _, s := range []string{
		"a: 1\nb:\n- c\n- d: e\n  f: [g, {h: i}]\nj: |\n  k\n\n",
		"x: 'y''z'\n\"q\": \"r\\ts\"\n",
		"- a\n- b\n",
		"a:\n  b:\n    c: -1.50\n",
		"a: b\n  c\n\n  d\ne: 1_0\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		agree(t, "fuzz", data)
		// Through a table of shared blocks: repeats within the document
		// share, and so does all of it decoded a second time.
		p := &fastParser{shared: newSubtrees()}
		agreeWith(t, p, "fuzz, shared blocks", data)
		agreeWith(t, p, "fuzz, shared blocks again", data)
		// The same blocks deeper: blocks are known by their text
		// relative to their indentation, so these hit the table.
		for _, n := range []int{2, 5} {
			agreeWith(t, p, "fuzz, shared blocks indented", indentUnder(data, n))
		}
	})
}

// indentUnder puts doc under a key, every line indented by n spaces
// (empty lines stay empty).
func indentUnder(doc []byte, n int) []byte {
	out := []byte("wrapper:\n")
	pad := bytes.Repeat([]byte(" "), n)
	for line := range bytes.Lines(doc) {
		if len(line) > 0 && line[0] != '\n' {
			out = append(out, pad...)
		}
		out = append(out, line...)
	}
	return out
}

// yamlItemLines is the reference for itemLines: the line yaml.v3 gives
// each entry of the document's top-level "items".
func yamlItemLines(t *testing.T, chunk []byte) []int {
	t.Helper()
	var doc yaml.Node
	if err := yaml.Unmarshal(chunk, &doc); err != nil {
		t.Fatal(err)
	}
	items := mappingValue(doc.Content[0], "items")
	lines := []int{}
	for _, n := range items.Content {
		lines = append(lines, n.Line)
	}
	return lines
}

func TestFastItemLinesAgree(t *testing.T) {
	cases := []string{
		"apiVersion: v1\nkind: List\nitems:\n- kind: Pod\n  apiVersion: v1\n- kind: Service\n  apiVersion: v1\n",
		"kind: PodList\napiVersion: v1\nitems:\n  -\n    # first\n    metadata:\n      name: a\n  - metadata:\n      name: b\n    data: |\n      - not an item\n  - metadata: {name: c}\nmetadata: {}\n",
		"items: []\nkind: List\n",
		"items:\n\n- a: 1\n# between\n- a: 2\nkind: ConfigMapList\n",
	}
	for _, c := range cases {
		var p fastParser
		v, _, err := p.decode([]byte(c))
		if err != nil || v == nil {
			t.Fatalf("fast path did not take %q: %v", c, err)
		}
		if got, want := p.itemLines(), yamlItemLines(t, []byte(c)); !reflect.DeepEqual(append([]int{}, got...), want) {
			t.Errorf("item lines of %q: fast %v, yaml.v3 %v", c, got, want)
		}
	}
}

// fastSafeBytesByByte is fastSafeBytes written another way, one rune at a
// time over the text with its CRLF line breaks made LF: the reference its
// eight-byte steps are checked against. Ranging over a string yields
// utf8.RuneError for a byte that is not UTF-8, as it does for U+FFFD.
func fastSafeBytesByByte(b []byte) bool {
	for _, r := range strings.ReplaceAll(string(b), "\r\n", "\n") {
		switch {
		case r == '\n':
		case r < ' ', r == 0x7f: // C0 controls (tab, lone CR) and DEL
			return false
		case r >= 0x80 && r <= 0x9f: // C1 controls
			return false
		case r == '\u2028', r == '\u2029', r == '\ufeff', r >= 0xfffe: // line separators, BOM, U+FFFE and above
			return false
		case r == utf8.RuneError: // not UTF-8, or U+FFFD itself
			return false
		}
	}
	return true
}

// TestFastSafeBytesSteps: every byte value at every offset of texts long
// enough for the eight-byte steps, and texts made of the bytes that
// matter, give the reference's answer.
func TestFastSafeBytesSteps(t *testing.T) {
	base := []byte("metadata:\n  name: web-1\n  labels: {app: web}\n")
	for off := range 20 {
		for c := range 256 {
			b := append([]byte(nil), base...)
			b[off] = byte(c)
			if got, want := fastSafeBytes(b), fastSafeBytesByByte(b); got != want {
				t.Fatalf("byte %#x at %d: %v, want %v", c, off, got, want)
			}
		}
	}
	// Each rune at each offset: the edges of every rule, and runes the
	// rules let through.
	for _, r := range []rune{'é', '\u0085', '\u00a0', '\u2027', '\u2028', '\u2029', '\ufeff', '\ufffd', '\ufffe', '\uffff', '\U00010000', '\U0010ffff'} {
		for off := range 20 {
			b := append(append(append([]byte(nil), base[:off]...), string(r)...), base[off:]...)
			if got, want := fastSafeBytes(b), fastSafeBytesByByte(b); got != want {
				t.Fatalf("%U at %d: %v, want %v", r, off, got, want)
			}
		}
	}
	alphabet := []byte("a :\n\r\t\x00\x1f\x20\x7e\x7f\x80\x9f\xc2\x85\xe2\x80\xa8\xef\xbb\xbf\xbe\xbd\xff")
	rng := rand.New(rand.NewPCG(1, 2))
	for range 20000 {
		b := make([]byte, rng.IntN(40))
		for i := range b {
			b[i] = alphabet[rng.IntN(len(alphabet))]
		}
		if got, want := fastSafeBytes(b), fastSafeBytesByByte(b); got != want {
			t.Fatalf("%q: %v, want %v", b, got, want)
		}
	}
}

func BenchmarkFastSafeBytes(b *testing.B) {
	text := bytes.Repeat([]byte("apiVersion: apps/v1\nkind: Deployment\nmetadata:\n  name: web\n  labels: {app: web, tier: frontend}\nspec:\n  template:\n    spec:\n      containers:\n      - name: app\n        image: registry.example.com/web:1.4.2\n"), 100)
	b.SetBytes(int64(len(text)))
	for b.Loop() {
		fastSafeBytes(text)
	}
}

package source

import (
	"bytes"
	"math/bits"
	"slices"
	"strconv"
)

// Field lines: findings name a field path ("spec.template.spec.
// containers[0].securityContext.privileged"). For objects read from text,
// the finding points at the line of the deepest field of its path that the
// text spells. Each document gets a fieldIndex while it is parsed, from the
// lines the parser has just split, and the checks' findings are placed
// from it as they are made: no file is read a second time, and the lines
// are those of the bytes that were checked.
//
// A block-style document's structure is read from indentation alone: a
// line's block is the lines after it up to one as shallow (a sequence at
// its key's indentation still belongs to the key), and the block's entries
// are its lines at the indentation of its first. Flow collections and
// block scalars are leaves: a field inside one is found at its key.

// endsBlock reports whether content line l is past the block of a line
// at indentation indent (seq: a sequence entry): it is shallower, or at
// the same indentation and not a sequence that sits at its key's
// indentation.
func endsBlock(indent int, seq bool, l fastLine) bool {
	if l.indent != indent {
		return l.indent < indent
	}
	return seq || !isSeqEntry(l.content)
}

// lineKey is the mapping key a line starts (after a "- " for compact
// sequence entries it is the entry's first key), or "".
func lineKey(content []byte) string {
	if blank(fastLine{content: content}) {
		return ""
	}
	if isSeqEntry(content) {
		content = bytes.TrimLeft(content[1:], " ")
	}
	key, _, ok, err := splitKey(stripComment(content))
	if err != nil || !ok {
		return ""
	}
	return key
}

// plainKey is lineKey for the usual line, "key: value" with a plain key,
// without copying the key; nil for any other line, which lineKey reads.
func plainKey(content []byte) []byte {
	if len(content) == 0 {
		return nil
	}
	switch content[0] {
	case '"', '\'', '?', '&', '*', '!', '|', '>', '%', '@', '`', '[', '{', ',', '#', '-', ':', ']', '}':
		return nil
	}
	for i := 0; i < len(content) && i < maxImplicitKey; i++ {
		switch content[i] {
		case '#', '"', '\'':
			return nil
		case ':':
			if i+1 == len(content) || content[i+1] == ' ' {
				if key := content[:i]; key[len(key)-1] != ' ' && !(len(key) == 2 && key[0] == '<' && key[1] == '<') {
					return key
				}
				return nil
			}
		}
	}
	return nil
}

// fieldIndex holds the lines of one document's fields: every mapping key
// and sequence entry the document writes in block style, under the path a
// finding names it by ("spec.containers[0].image"; a key may hold dots, as
// label names do). Paths are kept hashed, with their lines, in one slice:
// eight bytes a field.
type fieldIndex struct {
	base    int      // the file line of the document's first line
	entries []uint64 // path hash in the high bits, line in the document in the low
}

// fieldLineBits of an entry hold the line within the document: fields of
// a document's lines past a million are not indexed (a finding there
// points at the deepest field above them that is). The 44 bits of hash
// left make a wrong line for a field that is not in a document of a
// thousand fields a chance of one in 10^10 per lookup.
const (
	fieldLineBits = 20
	fieldLineMask = 1<<fieldLineBits - 1
)

// FNV-1a, over the bytes of a path as it is spelled.
const (
	fnvOffset = 14695981039346656037
	fnvPrime  = 1099511628211
)

func hashBytes[T string | []byte](h uint64, s T) uint64 {
	for i := 0; i < len(s); i++ {
		h = (h ^ uint64(s[i])) * fnvPrime
	}
	return h
}

// hashIndex continues h with "[i]".
func hashIndex(h uint64, i int) uint64 {
	var buf [24]byte
	b := append(strconv.AppendInt(append(buf[:0], '['), int64(i), 10), ']')
	return hashBytes(h, b)
}

// fieldKey is an entry's hash bits for a path hash: FNV's high bits are
// mixed (the finaliser of SplitMix64) before the line's bits are cut off.
func fieldKey(h uint64) uint64 {
	h ^= h >> 30
	h *= 0xbf58476d1ce4e5b9
	h ^= h >> 27
	h *= 0x94d049bb133111eb
	h ^= h >> 31
	return h &^ fieldLineMask
}

// prefixKeys appends to keys the entry hash bits of each prefix of path
// that ends a segment, deepest last. The path continues the one h is the
// hash of (fnvOffset for a path from the document's root, with root true;
// a list item's "items[i]" otherwise).
func prefixKeys(keys []uint64, h uint64, root bool, path string) []uint64 {
	if !root {
		h = hashBytes(h, ".")
	}
	for i := 0; i < len(path); i++ {
		if c := path[i]; (c == '.' || c == '[') && i > 0 {
			keys = append(keys, fieldKey(h))
		}
		h = (h ^ uint64(path[i])) * fnvPrime
	}
	return append(keys, fieldKey(h))
}

// line returns the line in the document of the deepest field of path
// that the document spells, or 0 (see prefixKeys for h and root).
func (x *fieldIndex) line(h uint64, root bool, path string) int {
	if x == nil || path == "" {
		return 0
	}
	var stack [32]uint64
	return x.lineOf(prefixKeys(stack[:0], h, root, path))
}

// lineOf is line for a path's prefix keys.
func (x *fieldIndex) lineOf(keys []uint64) int {
	for i := len(keys) - 1; i >= 0; i-- {
		if line := x.find(keys[i]); line > 0 {
			return line
		}
	}
	return 0
}

// find returns the line of the field whose entry has the hash bits key,
// or 0.
func (x *fieldIndex) find(key uint64) int {
	if len(x.entries) <= fieldScanMax {
		for _, e := range x.entries {
			if e&^fieldLineMask == key {
				return int(e & fieldLineMask)
			}
		}
		return 0
	}
	j, _ := slices.BinarySearch(x.entries, key)
	if j < len(x.entries) && x.entries[j]&^fieldLineMask == key {
		return int(x.entries[j] & fieldLineMask)
	}
	return 0
}

// fieldIndexer builds field indexes; a loading worker keeps one, and its
// buffers, for all the documents it parses.
type fieldIndexer struct {
	open    []openBlock
	entries []uint64
	// shapes holds the entries of documents already indexed, by a hash
	// of them: documents with the same fields on the same lines (the pods
	// of a ReplicaSet, generated manifests, one chart's objects) share
	// one copy.
	shapes map[uint64][]uint64
}

// maxShapes bounds a worker's shapes (at most 8 MiB of them, usually a
// few hundred kilobytes).
const maxShapes = 4096

// openBlock is a line whose block the indexer is inside: its entries are
// the lines at the indentation of its first line. A block that is not
// indexed (that of a line at another indentation than its siblings, or of
// one that is neither a key nor a sequence entry) keeps its lines out of
// the index until it ends.
type openBlock struct {
	path     uint64 // hash of the owner's path
	indent   int    // the owner's (for a compact entry's key, its column)
	childInd int    // the entries' indentation, -1 before the first
	entries  int    // sequence entries seen
	seq      bool   // the owner is a sequence entry
	root     bool   // the document: no owner, never ends
	indexed  bool
}

// index returns the field index of a document split into lines, whose
// first line is line base of its file. It reads the lines once, in order,
// keeping the blocks it is inside on a stack.
func (x *fieldIndexer) index(lines []fastLine, base int) *fieldIndex {
	x.entries = x.entries[:0]
	x.open = append(x.open[:0], openBlock{path: fnvOffset, indent: -1, childInd: -1, root: true, indexed: true})
	for _, l := range lines {
		if blank(l) {
			continue
		}
		// A line ends the blocks it is outside of; those are on top.
		top := len(x.open) - 1
		for top > 0 && endsBlock(x.open[top].indent, x.open[top].seq, l) {
			top--
		}
		x.open = x.open[:top+1]
		x.entry(l)
	}
	// Equal paths keep their first line, as a walk down the document
	// would take the first key that matches: a short index is searched
	// in document order, a long one sorted and rid of later duplicates.
	entries := x.entries
	if len(entries) > fieldScanMax {
		slices.Sort(entries)
		entries = slices.CompactFunc(entries, func(a, b uint64) bool { return a&^fieldLineMask == b&^fieldLineMask })
	}
	return &fieldIndex{base: base, entries: x.shared(entries)}
}

// shared returns entries as a slice of their own: that of an earlier
// document with the same ones, or a copy.
func (x *fieldIndexer) shared(entries []uint64) []uint64 {
	h := uint64(len(entries))
	for _, e := range entries {
		h = bits.RotateLeft64((h^e)*0x9e3779b97f4a7c15, 29)
	}
	if same, ok := x.shapes[h]; ok && slices.Equal(same, entries) {
		return same
	}
	own := slices.Clone(entries)
	if x.shapes == nil {
		x.shapes = map[uint64][]uint64{}
	}
	if len(x.shapes) < maxShapes && len(own) <= maxShapeFields {
		x.shapes[h] = own
	}
	return own
}

// maxShapeFields is the most fields of a document whose index another
// can share: a large document rarely repeats, and a worker would keep its
// index for as long as it loads.
const maxShapeFields = 256

// release drops buffers a large document left behind.
func (x *fieldIndexer) release() {
	if cap(x.entries) > 1<<16 {
		x.entries = nil
	}
	if cap(x.open) > 1<<12 {
		x.open = nil
	}
}

// fieldScanMax is the most fields an index holds in document order and
// searches from the start; above it, an index is sorted and searched by
// halves. Most documents are short: sorting them cost more than all their
// searches.
const fieldScanMax = 64

// entry indexes line l, which is inside the block on top of the stack,
// and opens its own block.
func (x *fieldIndexer) entry(l fastLine) {
	parent := &x.open[len(x.open)-1]
	if !parent.indexed {
		return
	}
	if parent.childInd < 0 {
		parent.childInd = l.indent
	}
	if l.indent != parent.childInd {
		x.open = append(x.open, openBlock{indent: l.indent, seq: isSeqEntry(l.content)})
		return
	}
	if isSeqEntry(l.content) {
		h := hashIndex(parent.path, parent.entries)
		parent.entries++
		x.add(h, l.line)
		rest := bytes.TrimLeft(l.content[1:], " ")
		if len(rest) == 0 {
			// "-" alone: the entry's node is on the lines below.
			x.open = append(x.open, openBlock{path: h, indent: l.indent, childInd: -1, seq: true, indexed: true})
			return
		}
		// A compact entry ("- name: x"): a node that starts at the
		// column after the dash, on this very line.
		off := len(l.content) - len(rest)
		x.open = append(x.open, openBlock{path: h, indent: l.indent, childInd: l.indent + off, seq: true, indexed: true})
		x.entry(fastLine{indent: l.indent + off, content: rest, raw: l.raw, line: l.line})
		return
	}
	key := plainKey(l.content)
	if key == nil {
		key = []byte(lineKey(l.content))
	}
	if len(key) == 0 {
		x.open = append(x.open, openBlock{indent: l.indent, seq: isSeqEntry(l.content)})
		return
	}
	h := parent.path
	if !parent.root {
		h = hashBytes(h, ".")
	}
	h = hashBytes(h, key)
	x.add(h, l.line)
	x.open = append(x.open, openBlock{path: h, indent: l.indent, childInd: -1, indexed: true})
}

func (x *fieldIndexer) add(h uint64, line int) {
	if line <= fieldLineMask {
		x.entries = append(x.entries, fieldKey(h)|uint64(line))
	}
}

// fieldsOf indexes a chunk the fast parser did not decode, from its own
// split; nil when its lines cannot be split (directives, document
// markers).
func (p *fastParser) fieldsOf(c chunk) *fieldIndex {
	p.lines = p.lines[:0]
	if p.split(c.data) != nil {
		return nil
	}
	return p.fields.index(p.lines, c.line)
}

// indexTemplates gives objects whose position is in a template, not in
// the text that was parsed (a chart rendered in-process, helm template's
// output with "# Source:" comments), the field lines of the template
// itself. read returns a template's text by the file an object names, nil
// when there is none; an object whose template has none keeps no field
// lines.
//
// An object's line is where it was rendered, and a template's directives
// move lines ("{{- if }}" and "{{- range }}" before the "---" of the
// document they repeat, includes of several lines). So an object is
// placed among the template's documents that spell a top-level kind, its
// own or one a directive fills in: in the last of them that starts at or
// before its line, else in the first (a template with one object, the
// usual case, always gets it); only when there are none, in the document
// that holds its line. An object placed in a document that spells a kind
// starts there.
func indexTemplates(objs []*Object, read func(file string) []byte) {
	var p fastParser
	docsOf := map[string][]templateDocument{}
	for _, o := range objs {
		o.fields = nil
		docs, ok := docsOf[o.Source.File]
		if !ok {
			if data := read(o.Source.File); data != nil && checkText(data) == nil {
				for c := range splitDocuments(data) {
					fields := p.fieldsOf(c)
					d := templateDocument{start: c.line, fields: fields}
					if kindLine := fields.line(fnvOffset, true, "kind"); kindLine > 0 {
						d.kind = spelledKind(c.data, kindLine)
						d.objectLine = kindLine
						if l := fields.line(fnvOffset, true, "apiVersion"); l > 0 {
							d.objectLine = min(kindLine, l)
						}
						d.objectLine += fields.base - 1
					}
					docs = append(docs, d)
				}
			}
			docsOf[o.Source.File] = docs
		}
		d := templateDocumentOf(docs, o.Kind(), o.Source.Line)
		if d == nil {
			continue
		}
		o.fields = d.fields
		if d.objectLine > 0 && o.Item < 0 {
			o.Source.Line = d.objectLine
		}
	}
}

// templateDocument is one document of a template, with its field index.
// When it spells a top-level kind, objectLine is the file line an object
// of it starts at (its apiVersion or kind, the first), and kind is the
// kind's value ("" when a directive makes it); objectLine is 0 otherwise.
type templateDocument struct {
	start      int
	fields     *fieldIndex
	objectLine int
	kind       string
}

// spelledKind returns the value on line n (1-based) of a document, a
// "kind: Value" line, or "" when it is not a plain word.
func spelledKind(doc []byte, n int) string {
	for range n - 1 {
		i := bytes.IndexByte(doc, '\n')
		if i < 0 {
			return ""
		}
		doc = doc[i+1:]
	}
	if i := bytes.IndexByte(doc, '\n'); i >= 0 {
		doc = doc[:i]
	}
	_, value, ok := bytes.Cut(doc, []byte(":"))
	if !ok {
		return ""
	}
	if i := bytes.Index(value, []byte(" #")); i >= 0 {
		value = value[:i]
	}
	value = bytes.Trim(bytes.TrimSpace(value), `"'`)
	for _, c := range value {
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return ""
		}
	}
	return string(value)
}

// templateDocumentOf picks the document of a template that an object of
// kind rendered at line came from (see indexTemplates), nil when there is
// none.
func templateDocumentOf(docs []templateDocument, kind string, line int) *templateDocument {
	var before, after *templateDocument
	for i := range docs {
		switch d := &docs[i]; {
		case d.objectLine == 0 || (d.kind != "" && d.kind != kind):
		case d.start <= line:
			before = d
		case after == nil:
			after = d
		}
	}
	if before != nil {
		return before
	}
	if after != nil {
		return after
	}
	for i := len(docs) - 1; i >= 0; i-- {
		if docs[i].start <= line {
			return &docs[i]
		}
	}
	return nil
}

// templateFiles reads the files "# Source:" comments name as any input is
// read: within limit, and never a device or a FIFO (the path comes from
// the input).
func templateFiles(limit int64) func(file string) []byte {
	return func(file string) []byte {
		data, err := readFile(file, limit, nil)
		if err != nil {
			return nil
		}
		return data
	}
}

package source

import (
	"math"
	"strconv"
	"strings"
	"sync"
)

// Field lines: findings name a field path ("spec.template.spec.
// containers[0].securityContext.privileged"); for objects read from files,
// the path is followed through the document's lines to the line of the
// deepest field that exists, so SARIF and the table can point at it.

// pathSegment is a mapping key or a sequence index.
type pathSegment struct {
	key   string
	index int // -1 for keys
}

func splitPath(path string) []pathSegment {
	var out []pathSegment
	for _, part := range strings.Split(path, ".") {
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

// docTable is a document's line table with each line's mapping key
// ("" when the line holds none) and where its block ends: what following a
// field path needs, built once for all the findings of the document.
type docTable struct {
	lines []fastLine
	keys  []string // filled by key on first use
	keyed []bool
	// ends[j] is blockEnd of content line j: the index of the next line
	// that is not part of j's block, so a walk steps from sibling to
	// sibling instead of over every nested line.
	ends []int32
}

// build makes t the line table of doc, reusing p's line buffer and t's own
// slices: a scan builds one table per document with findings.
func (t *docTable) build(p *fastParser, doc []byte) {
	p.lines = p.lines[:0]
	if err := p.split(doc); err != nil {
		*t = docTable{keys: t.keys[:0], keyed: t.keyed[:0], ends: t.ends[:0]}
		return
	}
	n := len(p.lines)
	t.lines = p.lines
	t.keys = resize(t.keys, n)
	t.keyed = resize(t.keyed, n)
	t.ends = resize(t.ends, n)
	// Lines whose block is still open, deepest last. A line k closes the
	// open lines blockEnd would stop at k; those are always on top.
	open := p.open[:0]
	for k, l := range p.lines {
		if blank(l) {
			continue
		}
		for len(open) > 0 {
			j := open[len(open)-1]
			if !endsBlock(p.lines[j], l) {
				break
			}
			t.ends[j] = int32(k)
			open = open[:len(open)-1]
		}
		open = append(open, k)
	}
	for _, j := range open {
		t.ends[j] = int32(len(p.lines))
	}
	p.open = open
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

// key returns line j's mapping key. A walk visits few lines of a document,
// so keys are found as they are needed; a table belongs to one goroutine.
func (t docTable) key(j int) string {
	if !t.keyed[j] {
		t.keys[j], t.keyed[j] = lineKey(t.lines[j].content), true
	}
	return t.keys[j]
}

// endsBlock reports whether content line l is past the block of line
// owner: it is shallower, or at the same indentation and not a sequence
// that sits at its key's indentation.
func endsBlock(owner, l fastLine) bool {
	if l.indent != owner.indent {
		return l.indent < owner.indent
	}
	return isSeqEntry(owner.content) || !isSeqEntry(l.content)
}

// lineKey is the mapping key a line starts (after a "- " for compact
// sequence entries it is the entry's first key), or "".
func lineKey(content []byte) string {
	if blank(fastLine{content: content}) {
		return ""
	}
	if isSeqEntry(content) {
		content = []byte(strings.TrimLeft(string(content[1:]), " "))
	}
	key, _, ok, err := splitKey(stripComment(content))
	if err != nil || !ok {
		return ""
	}
	return key
}

// matchKeys reports how many path segments from s the key spells, keys
// being allowed to contain dots ("pod-security.kubernetes.io/enforce"),
// or 0.
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

// fieldLineSegs follows a field path through a document's line table and
// returns the 1-based line, within the document, of the deepest field of
// the path that exists, or 0. A compact sequence entry ("- name: x") is
// read as a mapping whose first line starts at the key's column: one
// virtual line overrides the table while the walk is inside that entry.
func fieldLineSegs(t docTable, segs []pathSegment) int {
	table := t.lines
	if len(table) == 0 {
		return 0
	}
	virtual, override := -1, fastLine{}
	at := func(j int) fastLine {
		if j == virtual {
			return override
		}
		return table[j]
	}
	// sibling is the first line after j's block (bounded by hi).
	sibling := func(j, hi int) int {
		if j == virtual {
			return blockEnd(at, hi, j, override.indent)
		}
		return min(int(t.ends[j]), hi)
	}
	lo, hi := 0, len(table)
	for lo < hi && blank(at(lo)) {
		lo++
	}
	if lo >= hi {
		return 0
	}
	ind := at(lo).indent
	found := 0
	for s := 0; s < len(segs); {
		seg := segs[s]
		if seg.index >= 0 {
			i, n := -1, 0
			for j := lo; j < hi; j = sibling(j, hi) {
				l := at(j)
				if l.indent != ind || !isSeqEntry(l.content) {
					continue
				}
				if n == seg.index {
					i = j
					break
				}
				n++
			}
			if i < 0 {
				return found
			}
			entry := at(i)
			found = entry.line
			end := sibling(i, hi)
			rest := strings.TrimLeft(string(entry.content[1:]), " ")
			if rest == "" { // "-" alone: the entry's node is on the next lines
				lo, hi = i+1, end
				for lo < hi && blank(at(lo)) {
					lo++
				}
				if lo >= hi {
					return found
				}
				ind = at(lo).indent
			} else {
				off := len(entry.content) - len(rest)
				override = fastLine{indent: ind + off, content: entry.content[off:], raw: entry.raw, line: entry.line}
				virtual = i
				lo, hi, ind = i, end, ind+off
			}
			s++
			continue
		}
		// A key; keys may themselves contain dots (label names). The
		// virtual line of a compact entry has the same key as its table
		// line, so the precomputed keys serve both.
		matched := false
		for j := lo; j < hi; j = sibling(j, hi) {
			l := at(j)
			if l.indent != ind {
				continue
			}
			k := matchKeys(t.key(j), segs, s)
			if k == 0 || (j != virtual && isSeqEntry(l.content)) {
				continue
			}
			found, matched = l.line, true
			end := sibling(j, hi)
			lo, hi = j+1, end
			for lo < hi && blank(at(lo)) {
				lo++
			}
			if lo < hi {
				ind = at(lo).indent
			}
			s += k
			break
		}
		if !matched || lo >= hi {
			return found
		}
	}
	return found
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

// FileLines finds field lines in the documents of one file, reading the
// file once. It is not safe for concurrent use; the scan gives each file to
// one worker and drops it when that file's findings are placed, so only the
// files in hand are in memory. Findings come document by document, so it
// keeps the line table of one document and reuses its buffers for the next.
type FileLines struct {
	file   string
	read   bool
	data   []byte // the file; its buffer is reused by Reset
	docs   []chunk
	cur    int // the document whose table is in hand, or -1
	table  docTable
	parser fastParser
	paths  map[string][]pathSegment // findings repeat paths
}

// NewFileLines returns the line finder of file; the file is read by the
// first Line call.
func NewFileLines(file string) *FileLines {
	return &FileLines{file: file, cur: -1, paths: map[string][]pathSegment{}}
}

// Reset points f at another file, keeping its buffers and the parsed field
// paths, which repeat from file to file.
func (f *FileLines) Reset(file string) {
	f.file, f.read, f.docs, f.cur = file, false, f.docs[:0], -1
}

// Line returns the line of path in the object that starts at objLine, or
// objLine when the field cannot be found (or the file cannot be read, or
// changed since it was loaded).
func (f *FileLines) Line(objLine int, path string) int {
	if path == "" || objLine <= 0 || f.file == "" || f.file == "-" {
		return objLine
	}
	start, ok := f.document(objLine)
	if !ok {
		return objLine
	}
	segs, ok := f.paths[path]
	if !ok {
		segs = splitPath(path)
		f.paths[path] = segs
	}
	if l := fieldLineSegs(f.table, segs); l > 0 {
		return start + l - 1
	}
	return objLine
}

// document makes the table in hand that of the document holding objLine,
// and returns the document's first line.
func (f *FileLines) document(objLine int) (int, bool) {
	if !f.read {
		f.read = true
		// No size limit here: the file was accepted when it was loaded.
		if data, err := readFile(f.file, math.MaxInt64/2, f.data[:0]); err == nil {
			f.data = data
			if checkText(data) == nil {
				for c := range splitDocuments(data) {
					f.docs = append(f.docs, c)
				}
			}
		}
	}
	for i := len(f.docs) - 1; i >= 0; i-- {
		if f.docs[i].line > objLine {
			continue
		}
		if i != f.cur {
			f.table.build(&f.parser, f.docs[i].data)
			f.cur = i
		}
		return f.docs[i].line, true
	}
	return 0, false
}

// LineResolver finds field lines in any number of files, keeping each
// file it has read; it is safe for concurrent use.
type LineResolver struct {
	mu    sync.Mutex
	files map[string]*FileLines
}

// NewLineResolver returns an empty resolver.
func NewLineResolver() *LineResolver { return &LineResolver{files: map[string]*FileLines{}} }

// Line returns the line of path in the object that starts at objLine in
// file, or objLine when the field cannot be found.
func (r *LineResolver) Line(file string, objLine int, path string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	f, ok := r.files[file]
	if !ok {
		f = NewFileLines(file)
		r.files[file] = f
	}
	return f.Line(objLine, path)
}

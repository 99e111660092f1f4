package source

import (
	"bytes"
	"encoding/binary"
	"errors"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"
)

// The fast path decodes the plain block-style YAML that nearly all
// Kubernetes manifests are written in, several times faster than building
// a yaml.v3 node tree and converting it. It is deliberately partial: at the
// first construct it does not handle exactly as yaml.v3 would (anchors,
// aliases, tags, folded or indented block scalars, multi-line flow or
// scalars, numbers in unusual notations, duplicate keys, non-printable
// characters, ...) it gives up with errFallback, and the document is
// decoded by yaml.v3 instead. Differential tests and a fuzz target check
// that whenever the fast path answers, it answers what yaml.v3 answers.

// errFallback means "decode this document with yaml.v3".
var errFallback = errors.New("fast path does not handle this document")

type fastLine struct {
	indent  int
	content []byte // without indentation and without a trailing comment for structural use
	raw     []byte // the whole line without its newline (block scalars need it)
	line    int    // 1-based within the chunk
	off     int    // of raw within the chunk
}

type fastParser struct {
	// finalNewline is false when the chunk's last line has no line
	// break, which changes how a block scalar ending there is chomped.
	finalNewline bool
	lines        []fastLine
	pos          int
	depth        int
	chunk        []byte
	deepest      int // the deepest block reached
	// shared, when not nil, hands out one value for equal nested blocks.
	shared *subtrees
	// rewritten are the lines sequence() rewrote, restored by decode.
	rewritten []int
	// fields indexes the lines of each document's fields.
	fields fieldIndexer
	// keyText is blockKey's scratch.
	keyText []byte

	// own are the maps of the document's top level and of its metadata
	// block, which no other document shares; spare are such maps of
	// documents already made into objects, cleared (see reuseOwnMaps).
	own, spare []map[string]any
}

// fastDecode decodes one document chunk. It returns the value (nil for an
// empty document), the 1-based line of its first content line within the
// chunk, or errFallback.
func fastDecode(chunk []byte) (any, int, error) {
	return new(fastParser).decode(chunk)
}

// decode is fastDecode reusing p's line table, which a file's documents
// can share: values never point into it. After a decode, p.lines are the
// chunk's lines as split read them.
func (p *fastParser) decode(chunk []byte) (any, int, error) {
	if !fastSafeBytes(chunk) {
		return nil, 0, errFallback
	}
	*p = fastParser{lines: p.lines[:0], finalNewline: len(chunk) > 0 && chunk[len(chunk)-1] == '\n', chunk: chunk, shared: p.shared, rewritten: p.rewritten[:0], fields: p.fields, keyText: p.keyText,
		own: p.own[:0], spare: p.spare}
	if err := p.split(chunk); err != nil {
		return nil, 0, err
	}
	p.skipBlank()
	if p.pos >= len(p.lines) {
		return nil, 0, nil
	}
	first := p.lines[p.pos]
	if first.indent != 0 {
		return nil, 0, errFallback
	}
	v, err := p.ownBlock(0)
	if err != nil {
		return nil, 0, err
	}
	p.skipBlank()
	if p.pos < len(p.lines) {
		return nil, 0, errFallback // trailing content at a shallower level
	}
	// Leave the lines as split read them, for the field index.
	for _, i := range p.rewritten {
		p.lines[i] = unparsed(p.lines[i])
	}
	return v, first.line, nil
}

// itemLines returns, after a successful decode of a List, the line of each
// entry of its top-level "items" block sequence, as yaml.v3 reports it (the
// line of the item's first key). Items are the lines at the sequence's
// indentation that start with a dash: anything deeper belongs to an item,
// block scalars included.
func (p *fastParser) itemLines() []int {
	i := 0
	for ; i < len(p.lines); i++ {
		if l := p.lines[i]; l.indent == 0 && bytes.Equal(stripComment(l.content), []byte("items:")) {
			break
		}
	}
	var lines []int
	seqIndent := -1
	for i++; i < len(p.lines); i++ {
		l := unparsed(p.lines[i])
		if blank(l) {
			continue
		}
		if seqIndent < 0 {
			seqIndent = l.indent
		}
		if l.indent < seqIndent || (l.indent == 0 && !isSeqEntry(l.content)) {
			break
		}
		if l.indent > seqIndent || !isSeqEntry(l.content) {
			continue
		}
		line := l.line
		if rest := stripComment(bytes.TrimLeft(l.content[1:], " ")); len(rest) == 0 {
			// "-" alone: the item starts on the next content line.
			for j := i + 1; j < len(p.lines); j++ {
				if !blank(unparsed(p.lines[j])) {
					line = p.lines[j].line
					break
				}
			}
		}
		lines = append(lines, line)
	}
	return lines
}

// unparsed returns line l as split read it: sequence() rewrites the lines
// of compact mappings ("- key: v") in place.
func unparsed(l fastLine) fastLine {
	indent := 0
	for indent < len(l.raw) && l.raw[indent] == ' ' {
		indent++
	}
	return fastLine{indent: indent, content: l.raw[indent:], raw: l.raw, line: l.line, off: l.off}
}

// fastSafeBytes rejects input with characters whose handling differs
// between YAML processors or that yaml.v3 treats specially: tabs, carriage
// returns, control characters, byte-order marks, C1 controls and Unicode
// line separators.
func fastSafeBytes(b []byte) bool {
	for i := 0; i < len(b); {
		// Eight printable ASCII bytes at a time: none at or above 0x80,
		// none below 0x20 (line breaks included: they take the byte path)
		// and no DEL.
		if i+8 <= len(b) {
			const ones, highs = 0x0101010101010101, 0x8080808080808080
			w := binary.LittleEndian.Uint64(b[i:])
			del := w ^ (0x7f * ones)
			if (w|(w-0x20*ones)|(del-ones)&^del)&highs == 0 {
				i += 8
				continue
			}
		}
		c := b[i]
		if c < utf8.RuneSelf {
			if c == '\r' && i+1 < len(b) && b[i+1] == '\n' {
				i++ // CRLF is a line break; split drops the '\r'
				continue
			}
			if (c < 0x20 && c != '\n') || c == 0x7f {
				return false
			}
			i++
			continue
		}
		r, size := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError || (r >= 0x80 && r <= 0x9f) || r == 0x2028 || r == 0x2029 || r == 0xfeff || r >= 0xfffe {
			return false
		}
		i += size
	}
	return true
}

func (p *fastParser) split(chunk []byte) error {
	if lines := bytes.Count(chunk, []byte{'\n'}) + 1; cap(p.lines) < lines {
		p.lines = make([]fastLine, 0, lines)
	}
	n, off := 0, 0
	for len(chunk) > 0 {
		n++
		var line []byte
		start := off
		if i := bytes.IndexByte(chunk, '\n'); i >= 0 {
			line, chunk = chunk[:i], chunk[i+1:]
			off += i + 1
		} else {
			line, chunk = chunk, nil
		}
		line = bytes.TrimSuffix(line, []byte{'\r'})
		indent := 0
		for indent < len(line) && line[indent] == ' ' {
			indent++
		}
		content := line[indent:]
		if len(content) > 0 && (content[0] == '%' || bytes.HasPrefix(content, []byte("---")) || bytes.HasPrefix(content, []byte("..."))) && indent == 0 {
			return errFallback // directives and document markers
		}
		p.lines = append(p.lines, fastLine{indent: indent, content: content, raw: line, line: n, off: start})
	}
	return nil
}

// blank reports whether a line holds nothing but a comment or spaces.
func blank(l fastLine) bool { return len(l.content) == 0 || l.content[0] == '#' }

func (p *fastParser) skipBlank() {
	for p.pos < len(p.lines) && blank(p.lines[p.pos]) {
		p.pos++
	}
}

const fastMaxDepth = 100

// block parses the node starting at the current line, whose indentation
// is ind.
func (p *fastParser) block(ind int) (any, error) { return p.blockOf(ind, false) }

// ownBlock is block for the document's own blocks (its top level and its
// metadata): a mapping there is made in a spare map and recorded in own.
// Every object's metadata differs from every other's (its name), so
// sharing it would cost a lookup and save nothing.
func (p *fastParser) ownBlock(ind int) (any, error) { return p.blockOf(ind, true) }

func (p *fastParser) blockOf(ind int, own bool) (any, error) {
	p.depth++
	defer func() { p.depth-- }()
	if p.depth > fastMaxDepth {
		return nil, errFallback
	}
	p.deepest = max(p.deepest, p.depth)
	l := p.lines[p.pos]
	if isSeqEntry(l.content) {
		return p.sequence(ind)
	}
	if _, _, ok, err := splitKey(stripComment(l.content)); err != nil {
		return nil, err
	} else if ok {
		return p.mapping(ind, own)
	}
	return nil, errFallback // a bare scalar or flow node as a block: rare, leave to yaml.v3
}

func isSeqEntry(c []byte) bool {
	return len(c) > 0 && c[0] == '-' && (len(c) == 1 || c[1] == ' ')
}

// next returns the next content line if it is at indentation ind; ok is
// false when the block at ind has ended (end of input or a shallower
// line). A deeper line is not valid here.
func (p *fastParser) next(ind int) (l fastLine, ok bool, err error) {
	p.skipBlank()
	if p.pos >= len(p.lines) || p.lines[p.pos].indent < ind {
		return fastLine{}, false, nil
	}
	if p.lines[p.pos].indent > ind {
		return fastLine{}, false, errFallback
	}
	return p.lines[p.pos], true, nil
}

// mapping parses a block mapping at indentation ind; own says it is one
// of the document's own (ownBlock).
func (p *fastParser) mapping(ind int, own bool) (map[string]any, error) {
	var out map[string]any
	if own {
		if n := len(p.spare); n > 0 {
			out, p.spare = p.spare[n-1], p.spare[:n-1]
		} else {
			out = make(map[string]any, 8)
		}
		p.own = append(p.own, out)
	} else {
		out = make(map[string]any, 8)
	}
	for {
		l, ok, err := p.next(ind)
		if err != nil || !ok {
			return out, err
		}
		if isSeqEntry(l.content) {
			return nil, errFallback
		}
		key, rest, ok, err := splitKey(stripComment(l.content))
		if err != nil {
			return nil, err
		}
		if !ok {
			return nil, errFallback
		}
		if _, dup := out[key]; dup {
			return nil, errFallback // leave duplicate keys to the yaml.v3 path
		}
		p.pos++
		var v any
		if own && p.depth == 1 && key == "metadata" && len(stripComment(rest)) == 0 {
			v, err = p.ownMetadata(ind)
		} else {
			v, err = p.value(rest, ind, l, true)
		}
		if err != nil {
			return nil, err
		}
		out[key] = v
	}
}

// ownMetadata reads the value of the top-level key "metadata" on the
// lines below it, as value would, except that a block mapping there is the
// document's own (ownBlock).
func (p *fastParser) ownMetadata(parent int) (any, error) {
	p.skipBlank()
	if p.pos < len(p.lines) {
		if next := p.lines[p.pos]; next.indent > parent && !isSeqEntry(next.content) {
			if _, _, ok, _ := splitKey(stripComment(next.content)); ok {
				return p.ownBlock(next.indent)
			}
		}
	}
	return p.nested(parent, true)
}

// reuseOwnMaps hands the maps of the document decoded last back for the
// next one to fill: the caller has made its objects, which keep none of
// them (NewObject keeps the values, not the maps), and no other document
// shares them. A List's items are not its own maps.
func (p *fastParser) reuseOwnMaps() {
	for _, m := range p.own {
		if len(p.spare) < 4 {
			clear(m)
			p.spare = append(p.spare, m)
		}
	}
	p.own = p.own[:0]
}

func (p *fastParser) sequence(ind int) ([]any, error) {
	var out []any
	for {
		l, ok, err := p.next(ind)
		if err != nil || !ok {
			return out, err
		}
		if !isSeqEntry(l.content) {
			// "key:\n- a\nnext: b": the sequence sat at its key's
			// indentation and the parent mapping goes on.
			return out, nil
		}
		rest := l.content[1:]
		offset := 1
		for len(rest) > 0 && rest[0] == ' ' {
			rest = rest[1:]
			offset++
		}
		if len(rest) == 0 || rest[0] == '#' {
			p.pos++
			v, err := p.nested(ind, false)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		if isSeqEntry(rest) {
			return nil, errFallback // "- - x"
		}
		if _, _, ok, err := splitKey(stripComment(rest)); err != nil {
			return nil, err
		} else if ok {
			// A compact mapping: "- name: x" continues on lines indented
			// to the key's column.
			p.lines[p.pos] = fastLine{indent: ind + offset, content: rest, raw: l.raw, line: l.line, off: l.off}
			p.rewritten = append(p.rewritten, p.pos)
			v, err := p.mapping(ind+offset, false)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			continue
		}
		p.pos++
		v, err := p.value(rest, ind, l, false)
		if err != nil {
			return nil, err
		}
		out = append(out, v)
	}
}

// value decodes what follows "key:" or "- " on line l (rest), reading
// following lines for nested blocks and block scalars. parent is the
// indentation of the mapping or sequence that holds the value.
func (p *fastParser) value(rest []byte, parent int, l fastLine, inMapping bool) (any, error) {
	rest = stripComment(rest)
	if len(rest) == 0 {
		return p.nested(parent, inMapping)
	}
	var (
		v   any
		err error
	)
	switch rest[0] {
	case '|':
		return p.literal(rest, parent)
	case '"', '\'':
		if closingQuote(rest) < 0 {
			return p.quotedScalar(rest, parent)
		}
		if rest[0] == '"' {
			v, err = doubleQuoted(rest)
		} else {
			v, err = singleQuoted(rest)
		}
	case '[', '{':
		v, err = p.sharedFlow(rest)
	case '>', '&', '*', '!', '%', '@', '`', ',', ']', '}', '#':
		return nil, errFallback
	default:
		// A comment ends a plain scalar: a deeper line after it is not a
		// continuation.
		if len(bytes.TrimRight(l.content, " ")) != len(stripComment(l.content)) {
			v, err = p.plainBlock(rest)
			break
		}
		return p.plainScalar(rest, parent)
	}
	if err != nil {
		return nil, err
	}
	// A following line indented deeper than the parent continues a
	// multi-line flow node, or text after a comment: leave that to yaml.v3.
	if p.deeperFollows(parent) {
		return nil, errFallback
	}
	return v, nil
}

// plainScalar decodes a plain scalar that starts with first and may go on
// over following lines indented deeper than parent. Continuation lines are
// folded as YAML does: a single line break becomes a space, and each empty
// line between two text lines a newline. Anything that could make such a
// line mean something else (a comment, ": ", an indicator at its start)
// is left to yaml.v3.
func (p *fastParser) plainScalar(first []byte, parent int) (any, error) {
	v, err := p.plainBlock(first)
	if err != nil {
		return nil, err
	}
	end := p.pos
	for end < len(p.lines) {
		l := p.lines[end]
		if len(l.content) > 0 && (l.content[0] == '#' || l.indent <= parent) {
			break // a comment or the parent's next entry ends the scalar
		}
		end++
	}
	for end > p.pos && len(p.lines[end-1].content) == 0 {
		end-- // trailing empty lines are not part of the scalar
	}
	if end == p.pos {
		if p.deeperFollows(parent) {
			return nil, errFallback // text after a comment inside the scalar
		}
		return v, nil
	}
	b := append([]byte(nil), first...)
	breaks := 0
	for ; p.pos < end; p.pos++ {
		c := bytes.TrimRight(p.lines[p.pos].content, " ")
		if len(c) == 0 {
			breaks++
			continue
		}
		if !plainContinuation(c) {
			return nil, errFallback
		}
		b = append(fold(b, breaks), c...)
		breaks = 0
	}
	if p.deeperFollows(parent) {
		return nil, errFallback // text after a comment inside the scalar
	}
	return resolvePlain(string(b))
}

// fold appends the line break between two lines of a multi-line scalar
// with breaks empty lines between them: a space when there are none, else
// a newline for each.
func fold(b []byte, breaks int) []byte {
	if breaks == 0 {
		return append(b, ' ')
	}
	for range breaks {
		b = append(b, '\n')
	}
	return b
}

// deeperFollows skips blank lines and reports whether the next line is
// indented deeper than parent: text the scalar just read cannot own.
func (p *fastParser) deeperFollows(parent int) bool {
	p.skipBlank()
	return p.pos < len(p.lines) && p.lines[p.pos].indent > parent
}

// quotedScalar decodes a single- or double-quoted scalar that opens in
// first and closes on a following line indented deeper than parent. Line
// breaks fold as in a plain scalar; an escaped line break ("\" at the end
// of a double-quoted line) is left to yaml.v3.
func (p *fastParser) quotedScalar(first []byte, parent int) (any, error) {
	q := first[0]
	if q == '"' && first[len(first)-1] == '\\' {
		return nil, errFallback
	}
	b := append([]byte(nil), first...)
	breaks := 0
	for ; p.pos < len(p.lines); p.pos++ {
		l := p.lines[p.pos]
		c := bytes.TrimRight(l.content, " ")
		if len(c) == 0 {
			breaks++
			continue
		}
		if l.indent <= parent {
			return nil, errFallback
		}
		b = fold(b, breaks)
		breaks = 0
		end := closingQuote(append([]byte{q}, c...)) - 1
		if end < 0 {
			if q == '"' && c[len(c)-1] == '\\' {
				return nil, errFallback
			}
			b = append(b, c...)
			continue
		}
		if after := c[end+1:]; len(after) > 0 && !bytes.HasPrefix(after, []byte(" #")) {
			return nil, errFallback // text after the closing quote
		}
		b = append(b, c[:end+1]...)
		p.pos++
		if p.deeperFollows(parent) {
			return nil, errFallback
		}
		if q == '"' {
			return doubleQuoted(b)
		}
		return singleQuoted(b)
	}
	return nil, errFallback // never closed
}

// plainStart reports whether c, a trimmed non-empty line, starts a plain
// scalar the fast path reads (and is not a key or a sequence entry).
func plainStart(c []byte) bool {
	switch c[0] {
	case '-', '?', ':', ',', '[', ']', '{', '}', '#', '&', '*', '!', '|', '>', '\'', '"', '%', '@', '`':
		return false
	}
	return plainContinuation(c)
}

// plainContinuation reports whether c, a trimmed non-empty line, can be
// folded into a plain scalar by the fast path.
func plainContinuation(c []byte) bool {
	// Indicators only mean something at the start of a token; inside a
	// plain scalar, past its first line, they are text. A comment or ": "
	// ends the scalar.
	return c[0] != '#' && c[len(c)-1] != ':' && !bytes.Contains(c, []byte(": ")) && !bytes.Contains(c, []byte(" #"))
}

// nested reads the block on the following lines, if it is indented deeper
// than parent (or, in a mapping, is a sequence at the same indentation).
func (p *fastParser) nested(parent int, inMapping bool) (any, error) {
	p.skipBlank()
	if p.pos >= len(p.lines) {
		return nil, nil
	}
	next := p.lines[p.pos]
	switch {
	case next.indent > parent:
		if c := stripComment(next.content); len(c) > 0 && (c[0] == '[' || c[0] == '{' || plainStart(c)) {
			// A plain scalar or a flow node on the lines below its key or
			// dash.
			p.pos++
			return p.value(next.content, parent, next, inMapping)
		}
		return p.sharedBlock(next.indent)
	case inMapping && next.indent == parent && isSeqEntry(next.content):
		return p.sequence(parent)
	}
	return nil, nil
}

// literal decodes a "|" block scalar with clip, strip or keep chomping.
func (p *fastParser) literal(header []byte, parent int) (any, error) {
	chomp := byte(0)
	if len(header) > 1 {
		chomp = header[1]
		if (chomp != '-' && chomp != '+') || len(bytes.TrimSpace(header[2:])) > 0 {
			return nil, errFallback // indentation indicators, odd headers
		}
	}
	// Content indentation is that of the first non-empty line.
	start := p.pos
	contentIndent := -1
	for i := start; i < len(p.lines); i++ {
		if len(p.lines[i].content) > 0 {
			contentIndent = p.lines[i].indent
			break
		}
		if len(p.lines[i].raw) > parent+1 {
			return nil, errFallback // leading lines with spaces: subtle rules
		}
	}
	var lines [][]byte
	if contentIndent > parent {
		for p.pos < len(p.lines) {
			l := p.lines[p.pos]
			if len(l.content) > 0 && l.indent < contentIndent {
				break
			}
			if len(l.content) == 0 {
				if len(l.raw) > contentIndent {
					lines = append(lines, l.raw[contentIndent:])
				} else {
					lines = append(lines, nil)
				}
			} else {
				lines = append(lines, l.raw[contentIndent:])
			}
			p.pos++
		}
	}
	if p.pos == len(p.lines) && !p.finalNewline {
		return nil, errFallback
	}
	// Trailing empty lines are the chomping's business.
	body := len(lines)
	for body > 0 && len(bytes.TrimSpace(lines[body-1])) == 0 {
		body--
	}
	for _, l := range lines[body:] {
		if len(l) > 0 {
			return nil, errFallback // trailing lines with spaces beyond the indentation
		}
	}
	var b []byte
	for i, l := range lines[:body] {
		if i > 0 {
			b = append(b, '\n')
		}
		b = append(b, l...)
	}
	switch chomp {
	case '-':
	case '+':
		if body == 0 {
			return nil, errFallback
		}
		b = append(b, '\n')
		for range lines[body:] {
			b = append(b, '\n')
		}
	default:
		if body > 0 {
			b = append(b, '\n')
		}
	}
	return string(b), nil
}

// stripComment removes a trailing " # comment" outside quotes.
func stripComment(b []byte) []byte {
	if bytes.IndexByte(b, '#') < 0 {
		return bytes.TrimRight(b, " ") // most lines: no comment to look for
	}
	if b[0] == '#' {
		return nil
	}
	inSingle, inDouble := false, false
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case inDouble:
			if c == '\\' {
				i++
			} else if c == '"' {
				inDouble = false
			}
		case inSingle:
			if c == '\'' {
				inSingle = false
			}
		case c == '"' && (i == 0 || isFlowStart(b[i-1])):
			inDouble = true
		case c == '\'' && (i == 0 || isFlowStart(b[i-1])):
			inSingle = true
		case c == '#' && i > 0 && b[i-1] == ' ':
			return bytes.TrimRight(b[:i], " ")
		}
	}
	return bytes.TrimRight(b, " ")
}

// isFlowStart reports whether a quote after c starts a quoted scalar.
func isFlowStart(c byte) bool {
	return c == ' ' || c == '[' || c == '{' || c == ',' || c == ':'
}

// maxImplicitKey is YAML's limit on the length of an implicit key; yaml.v3
// rejects longer ones.
const maxImplicitKey = 1024

// splitKey splits "key: rest" (the key plain or quoted). ok is false when
// the line is not a mapping entry.
func splitKey(c []byte) (key string, rest []byte, ok bool, err error) {
	if len(c) == 0 {
		return "", nil, false, nil
	}
	switch c[0] {
	case '"', '\'':
		end := closingQuote(c)
		if end < 0 {
			return "", nil, false, nil // a quoted scalar going on over lines, not a key
		}
		if end >= maxImplicitKey {
			return "", nil, false, errFallback
		}
		var k any
		if c[0] == '"' {
			k, err = doubleQuoted(c[:end+1])
		} else {
			k, err = singleQuoted(c[:end+1])
		}
		if err != nil {
			return "", nil, false, err
		}
		after := c[end+1:]
		if len(after) == 0 || after[0] != ':' {
			return "", nil, false, nil // a quoted scalar, not a key
		}
		if len(after) > 1 && after[1] != ' ' {
			return "", nil, false, errFallback
		}
		return k.(string), bytes.TrimLeft(after[1:], " "), true, nil
	case '?', '&', '*', '!', '|', '>', '%', '@', '`', '[', '{', ',', '#', '-', ':', ']', '}':
		if c[0] == '-' && len(c) > 1 && c[1] != ' ' {
			break // "-foo: x" is a plain key
		}
		if c[0] == '-' || c[0] == '[' || c[0] == '{' || c[0] == '|' {
			return "", nil, false, nil // a sequence entry, a flow node or a block scalar, not a key
		}
		return "", nil, false, errFallback
	}
	for i := 0; i < len(c); i++ {
		if i >= maxImplicitKey {
			return "", nil, false, errFallback
		}
		if c[i] == ':' && (i+1 == len(c) || c[i+1] == ' ') {
			key := c[:i]
			if len(key) == 0 || key[len(key)-1] == ' ' || bytes.ContainsAny(key, "#\"'") {
				return "", nil, false, errFallback
			}
			if k := string(key); k == "<<" {
				return "", nil, false, errFallback
			}
			return internKey(key), bytes.TrimLeft(c[i+1:], " "), true, nil
		}
	}
	return "", nil, false, nil
}

func closingQuote(c []byte) int {
	q := c[0]
	for i := 1; i < len(c); i++ {
		switch {
		case q == '"' && c[i] == '\\':
			i++
		case c[i] == q:
			if q == '\'' && i+1 < len(c) && c[i+1] == '\'' {
				i++
				continue
			}
			return i
		}
	}
	return -1
}

// doubleQuoted decodes a complete one-line double-quoted scalar (the whole
// of b) with the common escapes.
func doubleQuoted(b []byte) (any, error) {
	end := closingQuote(b)
	if end != len(b)-1 {
		return nil, errFallback
	}
	in := b[1:end]
	if bytes.IndexByte(in, '\\') < 0 {
		return string(in), nil
	}
	out := make([]byte, 0, len(in))
	for i := 0; i < len(in); i++ {
		c := in[i]
		if c != '\\' {
			out = append(out, c)
			continue
		}
		i++
		if i >= len(in) {
			return nil, errFallback
		}
		switch in[i] {
		case '\\', '"':
			out = append(out, in[i])
		case 'n':
			out = append(out, '\n')
		case 't':
			out = append(out, '\t')
		case 'r':
			out = append(out, '\r')
		case '0':
			out = append(out, 0)
		default:
			// Everything else, "\/" included (JSON's escape, which
			// yaml.v3 rejects), is yaml.v3's to judge.
			return nil, errFallback
		}
	}
	return string(out), nil
}

// singleQuoted decodes a complete one-line single-quoted scalar.
func singleQuoted(b []byte) (any, error) {
	end := closingQuote(b)
	if end != len(b)-1 {
		return nil, errFallback
	}
	in := b[1:end]
	if bytes.IndexByte(in, '\'') < 0 {
		return string(in), nil
	}
	return string(bytes.ReplaceAll(in, []byte("''"), []byte("'"))), nil
}

// plainBlock is plainBlock(b) through p.shared: short scalars repeat
// (apiVersions, kinds, namespaces, names an application's objects share),
// and each decodes to a string and the interface value holding it.
func (p *fastParser) plainBlock(b []byte) (any, error) {
	if p.shared == nil || len(b) > scalarMaxBytes {
		return plainBlock(b)
	}
	if v, ok := p.shared.scalars[string(b)]; ok {
		return v, nil
	}
	v, err := plainBlock(b)
	if err != nil {
		return v, err
	}
	p.shared.keep()
	if s, ok := v.(string); ok && s == string(b) { // the key without another copy
		p.shared.scalars[s] = v
	} else {
		p.shared.scalars[string(b)] = v
	}
	return v, nil
}

// Plain scalars up to scalarMaxBytes long are shared.
const scalarMaxBytes = 64

// plainBlock decodes a plain scalar in block context.
func plainBlock(b []byte) (any, error) {
	if bytes.Contains(b, []byte(": ")) || b[len(b)-1] == ':' || bytes.Contains(b, []byte(" #")) {
		return nil, errFallback
	}
	if (b[0] == '?' || b[0] == ':' || b[0] == '-') && (len(b) == 1 || b[1] == ' ') {
		return nil, errFallback
	}
	return resolvePlain(string(b))
}

// yamlStyleFloat is yaml.v3's pattern for plain floats.
var yamlStyleFloat = regexp.MustCompile(`^[-+]?(\.[0-9]+|[0-9]+(\.[0-9]*)?)([eE][-+]?[0-9]+)?$`)

// resolvePlain applies yaml.v3's resolution of untagged plain scalars, as
// our converter then turns them into values, and falls back on the forms
// where the two could differ (underscores, binary, unsigned overflow).
func resolvePlain(s string) (any, error) {
	switch s {
	case "~", "null", "Null", "NULL":
		return nil, nil
	case "true", "True", "TRUE":
		return true, nil
	case "false", "False", "FALSE":
		return false, nil
	case "<<", ".nan", ".NaN", ".NAN", ".inf", ".Inf", ".INF", "+.inf", "+.Inf", "+.INF", "-.inf", "-.Inf", "-.INF":
		return nil, errFallback
	}
	switch c := s[0]; {
	case c == '.':
		if _, err := strconv.ParseFloat(s, 64); err != nil {
			return s, nil
		}
		return nil, errFallback
	case c != '-' && c != '+' && (c < '0' || c > '9'):
		return s, nil
	}
	// Sign or digit first: yaml.v3 tries a timestamp (which our converter
	// keeps as its text), then an integer, an unsigned integer, a float and
	// binary notation, in that order.
	// yaml.v3 drops underscores before trying the numbers; the converter
	// drops them again for an integer, so the integer is the same.
	plain := s
	if strings.IndexByte(s, '_') >= 0 {
		plain = strings.ReplaceAll(s, "_", "")
	}
	// Only signs, digits, hex digits and base prefixes can make an
	// integer; the parsers would fail on anything else, and each failure
	// allocates its error ("100m", "128Mi", "1.4.2" are common values).
	if couldBeInteger(plain) {
		if n, err := strconv.ParseInt(plain, 0, 64); err == nil {
			return n, nil
		}
		if _, err := strconv.ParseUint(plain, 0, 64); err == nil {
			return nil, errFallback
		}
	}
	if yamlStyleFloat.MatchString(plain) {
		if f, err := strconv.ParseFloat(plain, 64); err == nil && plain == s {
			return f, nil
		}
		return nil, errFallback
	}
	// Binary and octal notations that ParseInt's base prefixes did not
	// take (overflow, a sign before "0b"): leave them to yaml.v3.
	for _, n := range []struct{ prefix, digits string }{{"0b", "01"}, {"-0b", "01"}, {"0o", "01234567"}, {"-0o", "01234567"}} {
		if rest, ok := strings.CutPrefix(plain, n.prefix); ok && rest != "" && strings.Trim(rest, n.digits) == "" {
			return nil, errFallback
		}
	}
	return s, nil
}

// couldBeInteger reports whether s is made only of the characters an
// integer literal of strconv.ParseInt with base 0 can have.
func couldBeInteger(s string) bool {
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c >= '0' && c <= '9', c >= 'a' && c <= 'f', c >= 'A' && c <= 'F',
			c == 'x', c == 'X', c == 'o', c == 'O', c == '+', c == '-', c == '_':
		default:
			return false
		}
	}
	return true
}

// flow decodes a flow collection that opens and closes on this line.
func flow(b []byte) (any, error) {
	f := &flowParser{b: b}
	v, err := f.node(0)
	if err != nil {
		return nil, err
	}
	f.spaces()
	if f.i != len(f.b) {
		return nil, errFallback
	}
	return v, nil
}

type flowParser struct {
	b []byte
	i int
}

func (f *flowParser) spaces() {
	for f.i < len(f.b) && f.b[f.i] == ' ' {
		f.i++
	}
}

func (f *flowParser) node(depth int) (any, error) {
	if depth > fastMaxDepth {
		return nil, errFallback
	}
	f.spaces()
	if f.i >= len(f.b) {
		return nil, errFallback
	}
	switch f.b[f.i] {
	case '[':
		f.i++
		out := []any{}
		for !f.closes(']') {
			v, err := f.node(depth + 1)
			if err != nil {
				return nil, err
			}
			out = append(out, v)
			if done, err := f.separator(']'); err != nil || done {
				return out, err
			}
		}
		return out, nil
	case '{':
		f.i++
		out := map[string]any{}
		for !f.closes('}') {
			quoted := f.i < len(f.b) && (f.b[f.i] == '"' || f.b[f.i] == '\'')
			ks, err := f.key()
			if err != nil {
				return nil, err
			}
			if ks == "<<" {
				return nil, errFallback
			}
			if f.i >= len(f.b) || f.b[f.i] != ':' {
				return nil, errFallback
			}
			// After a plain key the ':' must be followed by a space ("{a:}"
			// is the key "a:"); after a quoted key it may touch the value.
			if !quoted && (f.i+1 >= len(f.b) || f.b[f.i+1] != ' ') {
				return nil, errFallback
			}
			f.i++
			f.spaces()
			var v any
			if f.i < len(f.b) && (f.b[f.i] == ',' || f.b[f.i] == '}') {
				v = nil
			} else if v, err = f.node(depth + 1); err != nil {
				return nil, err
			}
			if _, dup := out[ks]; dup {
				return nil, errFallback
			}
			out[ks] = v
			if done, err := f.separator('}'); err != nil || done {
				return out, err
			}
		}
		return out, nil
	}
	return f.scalar()
}

// closes consumes the closing bracket c if it comes next.
func (f *flowParser) closes(c byte) bool {
	f.spaces()
	if f.i < len(f.b) && f.b[f.i] == c {
		f.i++
		return true
	}
	return false
}

// separator consumes what follows an item of a flow collection: ',' when
// more items follow, or the closing bracket when it is done.
func (f *flowParser) separator(closing byte) (done bool, err error) {
	f.spaces()
	if f.i < len(f.b) && f.b[f.i] == ',' {
		f.i++
		return false, nil
	}
	if f.i < len(f.b) && f.b[f.i] == closing {
		f.i++
		return true, nil
	}
	return false, errFallback
}

// key reads a mapping key as its string: a plain key without boxing it
// (common ones shared), a quoted key through quoted. A quoted key that
// does not decode to a string falls back.
func (f *flowParser) key() (string, error) {
	if f.i < len(f.b) && (f.b[f.i] == '"' || f.b[f.i] == '\'') {
		k, err := f.quoted(true)
		if err != nil {
			return "", err
		}
		ks, ok := k.(string)
		if !ok {
			return "", errFallback
		}
		return ks, nil
	}
	raw, err := f.plain(true)
	if err != nil {
		return "", err
	}
	return internKey(raw), nil
}

// scalar reads a quoted or plain scalar value in flow context.
func (f *flowParser) scalar() (any, error) {
	if f.i < len(f.b) && (f.b[f.i] == '"' || f.b[f.i] == '\'') {
		return f.quoted(false)
	}
	raw, err := f.plain(false)
	if err != nil {
		return nil, err
	}
	return resolvePlain(string(raw))
}

// quoted reads the quoted scalar at f.i; as a key it is held to YAML's
// limit on implicit keys, and the spaces before its ':' are skipped.
func (f *flowParser) quoted(key bool) (any, error) {
	end := closingQuote(f.b[f.i:])
	if end < 0 {
		return nil, errFallback
	}
	if key && end >= maxImplicitKey {
		return nil, errFallback
	}
	raw := f.b[f.i : f.i+end+1]
	f.i += end + 1
	if key {
		f.spaces()
	}
	if raw[0] == '"' {
		return doubleQuoted(raw)
	}
	return singleQuoted(raw)
}

// plain reads a plain scalar in flow context and returns its text. As a
// key it must be followed by ':'.
func (f *flowParser) plain(key bool) ([]byte, error) {
	if f.i >= len(f.b) {
		return nil, errFallback
	}
	start := f.i
	switch f.b[f.i] {
	case '&', '*', '!', '|', '>', '%', '@', '`', '#', '?', ':', '-', ',', '[', ']', '{', '}':
		if !(f.b[f.i] == '-' && f.i+1 < len(f.b) && f.b[f.i+1] != ' ' && f.b[f.i+1] != ',') {
			return nil, errFallback
		}
	}
	for f.i < len(f.b) {
		c := f.b[f.i]
		if c == ',' || c == ']' || c == '}' || c == '[' || c == '{' || c == '#' {
			break
		}
		if c == ':' {
			if key {
				break
			}
			return nil, errFallback // "a:b" in flow: leave to yaml.v3
		}
		if c == '?' {
			return nil, errFallback // yaml.v3 ends a flow scalar at "?" ("[0?]" is an error there)
		}
		f.i++
	}
	raw := bytes.TrimRight(f.b[start:f.i], " ")
	if len(raw) == 0 || (f.i < len(f.b) && (f.b[f.i] == '[' || f.b[f.i] == '{' || f.b[f.i] == '#')) {
		return nil, errFallback
	}
	if key && f.i-start >= maxImplicitKey {
		return nil, errFallback
	}
	return raw, nil
}

// commonKeys are field names that recur in nearly every object; sharing
// one string for each saves an allocation per occurrence and keeps the
// loaded objects smaller.
var commonKeys = func() map[string]string {
	m := map[string]string{}
	for _, k := range strings.Fields(`apiVersion kind metadata name namespace labels annotations spec status
		template selector matchLabels matchExpressions replicas containers initContainers image imagePullPolicy
		ports containerPort protocol hostPort env value valueFrom resources requests limits cpu memory
		securityContext runAsNonRoot runAsUser runAsGroup fsGroup readOnlyRootFilesystem allowPrivilegeEscalation
		privileged capabilities drop add seccompProfile type volumeMounts mountPath volumes configMap secret
		secretName emptyDir persistentVolumeClaim claimName readinessProbe livenessProbe startupProbe httpGet
		path port tcpSocket exec command args serviceAccountName automountServiceAccountToken nodeSelector
		tolerations affinity key operator effect data rules apiGroups verbs subjects roleRef app ownerReferences
		uid controller targetPort ingress egress from to podSelector namespaceSelector policyTypes items
		hostNetwork hostPID hostIPC terminationGracePeriodSeconds restartPolicy strategy jobTemplate schedule
		app.kubernetes.io/name app.kubernetes.io/instance app.kubernetes.io/version app.kubernetes.io/component
		app.kubernetes.io/part-of app.kubernetes.io/managed-by tier version component initialDelaySeconds
		periodSeconds timeoutSeconds failureThreshold successThreshold fieldRef fieldPath configMapKeyRef
		secretKeyRef optional readOnly subPath serviceName clusterIP nodePort`) {
		m[k] = k
	}
	return m
}()

func internKey(b []byte) string {
	if k, ok := commonKeys[string(b)]; ok { // no allocation for the lookup
		return k
	}
	return string(b)
}

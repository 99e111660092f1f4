package source

import "crypto/sha256"

// subtrees shares decoded nested blocks between the documents one loading
// worker reads: a block whose text (indentation included) was decoded
// before is not decoded again, and its value is shared. Manifests repeat
// themselves: a ReplicaSet carries its Deployment's pod template, a
// Deployment's pods carry the same spec, every object of an application
// the same labels. Decoded values are read-only once loaded (Object), so
// sharing them is safe, and it saves both the decoding and the memory.
//
// Blocks are known by their exact text, so no input can be crafted to make
// two different blocks share a value: short ones (under shortKeyBytes) by
// a copy of the text, longer ones by its SHA-256 (a collision is out of
// reach, and no copy is kept). Hashing a short text cost more than the
// copy: on the real-world corpus, SHA-256 of blocks under 64 bytes was 3%
// of a scan's CPU.
type subtrees struct {
	values  textTable[sharedValue]
	flows   textTable[any] // flow nodes ("{app: web}")
	scalars map[string]any // plain scalars, by their text
	entries int
}

// textTable holds values by the text they were decoded from.
type textTable[V any] struct {
	short  map[string]V
	hashed map[[sha256.Size]byte]V
}

// shortKeyBytes is the length from which a text is known by its hash.
const shortKeyBytes = 64

func newTextTable[V any]() textTable[V] {
	return textTable[V]{short: map[string]V{}, hashed: map[[sha256.Size]byte]V{}}
}

// textKey is how a table knows a text: the text itself when it is short,
// else its hash.
type textKey struct {
	text []byte
	sum  [sha256.Size]byte
}

func keyOf(text []byte) textKey {
	k := textKey{text: text}
	if len(text) >= shortKeyBytes {
		k.sum = sha256.Sum256(text)
	}
	return k
}

func (t textTable[V]) get(k textKey) (V, bool) {
	if len(k.text) < shortKeyBytes {
		v, ok := t.short[string(k.text)]
		return v, ok
	}
	v, ok := t.hashed[k.sum]
	return v, ok
}

func (t textTable[V]) put(k textKey, v V) {
	if len(k.text) < shortKeyBytes {
		t.short[string(k.text)] = v
	} else {
		t.hashed[k.sum] = v
	}
}

func (t textTable[V]) clear() {
	clear(t.short)
	clear(t.hashed)
}

func (t textTable[V]) len() int { return len(t.short) + len(t.hashed) }

type sharedValue struct {
	v     any
	depth int // of nesting below the block, for the depth limit
}

// Blocks shorter than subtreeMinBytes are decoded again. Even a block of
// one short pair ("app: web", a label set) decodes to a map of about 300
// bytes, so sharing pays from 16 bytes: on the real-world corpus it took
// 14 MB off the peak against a floor of 64, for no more CPU. Blocks longer
// than subtreeMaxBlock are decoded again too: large
// blocks rarely repeat, and each level of one would be hashed (on the
// real-world corpus, blocks of up to 4 KiB are a quarter of the bytes of
// all blocks and find as many repeats). The table is emptied when it holds
// subtreeMaxEntries: repeats are mostly near each other (one
// application's objects).
const (
	subtreeMinBytes   = 16
	subtreeMaxBlock   = 4 << 10
	subtreeMaxEntries = 1 << 14
)

func newSubtrees() *subtrees {
	return &subtrees{values: newTextTable[sharedValue](), flows: newTextTable[any](), scalars: map[string]any{}}
}

// Flow nodes from flowMinBytes long are shared: a flow mapping decodes
// to a map of at least 300 bytes, and labels written as one are repeated
// on every object of an application.
const flowMinBytes = 8

// sharedFlow is flow(text) through p.shared. A flow node on one line
// decodes the same wherever it is.
func (p *fastParser) sharedFlow(text []byte) (any, error) {
	if p.shared == nil || len(text) < flowMinBytes || len(text) > subtreeMaxBlock {
		return flow(text)
	}
	key := keyOf(text)
	if v, ok := p.shared.flows.get(key); ok {
		return v, nil
	}
	v, err := flow(text)
	if err != nil {
		return v, err
	}
	p.shared.keep()
	p.shared.flows.put(key, v)
	return v, nil
}

// keep makes room for an entry, emptying the table when it is full.
func (s *subtrees) keep() {
	if s.entries >= subtreeMaxEntries {
		s.values.clear()
		s.flows.clear()
		clear(s.scalars)
		s.entries = 0
	}
	s.entries++
}

// blockKey is how the table knows the block of lines p.pos to end, text,
// at indentation ind: its text with the first ind columns of every line
// taken off. Mappings, sequences and block scalars are read relative to
// the indentation of the lines that hold them, so that text decodes to
// the same value at any indentation, and equal blocks at different depths
// share one value: a Deployment's labels and its template's, a template's
// spec and a Pod's. ok is false when a line's first ind columns are not
// all spaces and the line is not empty (a comment or a blank line
// indented less than the block): such a block is not shared.
func (p *fastParser) blockKey(ind, end int, text []byte) (textKey, bool) {
	if ind == 0 {
		return keyOf(text), true
	}
	key := p.keyText[:0]
	for i := p.pos; i < end; i++ {
		lineEnd := len(p.chunk)
		if i+1 < len(p.lines) {
			lineEnd = p.lines[i+1].off
		}
		line := p.chunk[p.lines[i].off:lineEnd]
		switch {
		case indentedBy(line, ind):
			key = append(key, line[ind:]...)
		case len(line) == 0 || line[0] == '\n' || line[0] == '\r' && len(line) == 2 && line[1] == '\n':
			key = append(key, line...)
		default:
			return textKey{}, false
		}
	}
	p.keyText = key
	return keyOf(key), true
}

// indentedBy reports whether line starts with n spaces.
func indentedBy(line []byte, n int) bool {
	if len(line) < n {
		return false
	}
	for _, c := range line[:n] {
		if c != ' ' {
			return false
		}
	}
	return true
}

// sharedBlock is block(ind) through p.shared. The block is the lines from
// the current one up to the next content line indented less than ind,
// blank and comment lines included (a "|+" scalar keeps trailing blank
// lines), and its value depends on nothing else: equal text decodes to an
// equal value.
func (p *fastParser) sharedBlock(ind int) (any, error) {
	if p.shared == nil {
		return p.block(ind)
	}
	start := p.lines[p.pos].off
	end := p.pos + 1
	for end < len(p.lines) {
		if l := unparsed(p.lines[end]); !blank(l) && l.indent < ind {
			break
		}
		if p.lines[end].off-start > subtreeMaxBlock {
			return p.block(ind) // too large to share: no need to find its end
		}
		end++
	}
	// The text runs to the next line, or to the end of the document: a
	// block scalar's chomping there depends on the final line break,
	// which is then part of the text.
	text := p.chunk[start:]
	if end < len(p.lines) {
		text = p.chunk[start:p.lines[end].off]
	}
	if len(text) < subtreeMinBytes || len(text) > subtreeMaxBlock {
		return p.block(ind)
	}
	key, ok := p.blockKey(ind, end, text)
	if !ok {
		return p.block(ind)
	}
	if sv, found := p.shared.values.get(key); found && p.depth+sv.depth <= fastMaxDepth {
		p.pos = end
		p.deepest = max(p.deepest, p.depth+sv.depth) // for an enclosing block's entry
		return sv.v, nil
	}
	entry, deepest := p.depth, p.deepest
	p.deepest = p.depth
	v, err := p.block(ind)
	depth := p.deepest - entry
	p.deepest = max(deepest, p.deepest)
	// Only a block that ended where the next shallower line starts is
	// shared (a sequence at its key's indentation ends earlier).
	if err != nil || p.pos != end {
		return v, err
	}
	p.shared.keep()
	p.shared.values.put(key, sharedValue{v: v, depth: depth})
	return v, nil
}

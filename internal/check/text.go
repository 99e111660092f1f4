package check

import (
	"hash/maphash"
	"math/bits"
	"sync/atomic"
	"unsafe"
)

// A TextKind is one kind of text a check derives from up to two strings
// that repeat across objects: a field path under a container's path, a
// message naming a container. Env.Text builds each distinct text once per
// run. A scan reports the same few thousand messages and paths on hundreds
// of thousands of findings; building each and then dropping the copy was a
// third of what evaluating the real-world corpus allocated.
type TextKind struct {
	build func(a, b string) string
}

// NewTextKind returns the kind of text build makes. build must depend only
// on its arguments.
func NewTextKind(build func(a, b string) string) *TextKind {
	return &TextKind{build: build}
}

// Text returns kind's text for a and b, building it the first time this
// Env is asked for it. It is safe for concurrent use.
func (e *Env) Text(kind *TextKind, a, b string) string {
	return e.run.texts.get(kind, a, b)
}

// textCache holds built texts in a fixed table of slots, found by a hash
// of kind and parts and read without a lock: an entry, once in its slot,
// never changes, and keeps its key for the lookup to check. A text whose
// slots (textProbes from its hash) are all taken is built each time: the
// table bounds the cache.
type textCache struct {
	seed  maphash.Seed
	slots []atomic.Pointer[textEntry] // a power of two of them
}

// newTextCache returns a cache of that many slots (a power of two). The
// table is made with the Env, before evaluation: made by the first check
// that asks, it was half a megabyte allocated while the collector marks,
// and that check paid for it in assists.
func newTextCache(slots int) textCache {
	return textCache{seed: maphash.MakeSeed(), slots: make([]atomic.Pointer[textEntry], slots)}
}

type textEntry struct {
	hash       uint64
	kind       *TextKind
	a, b, text string
}

const (
	textSlotsMin = 1 << 8  // an object alone (an admission request): 2 KB
	textSlotsMax = 1 << 16 // half a megabyte of pointers
	textProbes   = 8
)

// textSlotsFor sizes the table for a run over that many objects: the
// real-world corpus's 12,000 objects have about 8,000 distinct texts.
func textSlotsFor(objects int) int {
	n := textSlotsMin
	for n < textSlotsMax && n < 4*objects {
		n *= 2
	}
	return n
}

func (c *textCache) get(kind *TextKind, a, b string) string {
	h := maphash.String(c.seed, a) ^ bits.RotateLeft64(maphash.String(c.seed, b), 31) ^ uint64(uintptr(unsafe.Pointer(kind)))*0x9e3779b97f4a7c15
	var made *textEntry
	for i := range uint64(textProbes) {
		slot := &c.slots[(h+i)&uint64(len(c.slots)-1)]
		for {
			e := slot.Load()
			if e == nil {
				if made == nil {
					made = &textEntry{hash: h, kind: kind, a: a, b: b, text: kind.build(a, b)}
				}
				if !slot.CompareAndSwap(nil, made) {
					continue // another worker filled the slot: look at it
				}
				return made.text
			}
			if e.hash == h && e.kind == kind && e.a == a && e.b == b {
				return e.text
			}
			break
		}
	}
	if made != nil {
		return made.text
	}
	return kind.build(a, b)
}

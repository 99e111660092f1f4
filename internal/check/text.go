package check

import (
	"hash/maphash"
	"sync"
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
	return e.texts.get(kind, a, b)
}

type textKey struct {
	kind *TextKind
	a, b string
}

// textCache holds built texts in shards, each with its own lock. A shard
// stops growing at textShardMax texts; beyond that texts are built each
// time.
type textCache struct {
	seed   maphash.Seed
	once   sync.Once
	shards [textShards]textShard
}

type textShard struct {
	mu sync.RWMutex
	m  map[textKey]string
}

const (
	textShards   = 8
	textShardMax = 1 << 13
)

func (c *textCache) get(kind *TextKind, a, b string) string {
	c.once.Do(func() { c.seed = maphash.MakeSeed() })
	key := textKey{kind, a, b}
	s := &c.shards[maphash.String(c.seed, a)%textShards]
	s.mu.RLock()
	t, ok := s.m[key]
	s.mu.RUnlock()
	if ok {
		return t
	}
	t = kind.build(a, b)
	s.mu.Lock()
	if old, ok := s.m[key]; ok {
		t = old
	} else if len(s.m) < textShardMax {
		if s.m == nil {
			s.m = map[textKey]string{}
		}
		s.m[key] = t
	}
	s.mu.Unlock()
	return t
}

package check

import (
	"sync"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// Settings are the user's choices that change what checks report.
type Settings struct {
	// PSSVersion is the Pod Security Standards version to evaluate:
	// "latest" (the default) or "v1.N".
	PSSVersion string
	// PSSLevel is "restricted" (the default: baseline and restricted
	// controls) or "baseline" (baseline controls only).
	PSSLevel string
}

// Env is what a check function may read besides its view: the whole
// inventory (for cross-object checks) and the settings. It is safe for
// concurrent use; checks must not modify what it returns.
type Env struct {
	Inventory *inventory.Inventory
	Settings  Settings
	// Cluster holds facts about the live cluster being scanned, or nil.
	Cluster *ClusterFacts
	// Node holds the configuration of a node's components, or nil.
	Node *nodeconfig.Node

	// run is shared by the Env and the copies the runner makes for its
	// workers (forWorker); results is a worker's own.
	run     *runState
	results *resultBuffer
}

// runState is what one evaluation shares between its workers.
type runState struct {
	memo  sync.Map // key -> *memoEntry
	texts textCache
}

type memoEntry struct {
	once  sync.Once
	value any
}

// NewEnv returns the environment for one evaluation of inv.
func NewEnv(inv *inventory.Inventory, s Settings) *Env {
	if s.PSSVersion == "" {
		s.PSSVersion = "latest"
	}
	if s.PSSLevel == "" {
		s.PSSLevel = "restricted"
	}
	objects := 0
	if inv != nil {
		objects = inv.Len()
	}
	return &Env{Inventory: inv, Settings: s, run: &runState{texts: newTextCache(textSlotsFor(objects))}}
}

// forWorker returns a copy of e for one evaluation worker: the same
// inventory, settings, memos and texts, with a result buffer of its own.
func (e *Env) forWorker() *Env {
	w := *e
	w.results = &resultBuffer{}
	return &w
}

// Memo computes a value once per Env and shares it between checks and
// goroutines: derived indexes, compiled policies. key should be a
// package-private type so checks cannot collide.
func (e *Env) Memo(key any, compute func() any) any {
	v, ok := e.run.memo.Load(key)
	if !ok {
		// Only the first caller for a key pays for an entry.
		v, _ = e.run.memo.LoadOrStore(key, &memoEntry{})
	}
	entry := v.(*memoEntry)
	entry.once.Do(func() { entry.value = compute() })
	return entry.value
}

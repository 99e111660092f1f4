// Package inventory is the indexed, read-only set of loaded objects and the
// views derived from it (pod specs of every workload kind, namespaces,
// service accounts). Checks read it; nothing writes to it after Build.
package inventory

import (
	"hash/maphash"
	"runtime"
	"sync"
	"sync/atomic"

	"github.com/kubeharden/kubeharden/internal/source"
)

// Key identifies an object: API group, kind, namespace and name.
type Key struct {
	Group, Kind, Namespace, Name string
}

// KeyOf returns the key of o.
func KeyOf(o *source.Object) Key {
	return Key{Group: o.Group(), Kind: o.Kind(), Namespace: o.Namespace(), Name: o.Name()}
}

// Inventory is an immutable set of objects with their views.
type Inventory struct {
	objects []*source.Object
	byKey   keyIndex
	pods    map[*source.Object]*Pod
	// podErrors holds objects whose pod template could not be decoded.
	podErrors []*source.Error
}

// Build indexes objects and derives their views, decoding pod templates
// in parallel. Objects whose pod template cannot be decoded are kept as
// plain objects and reported in PodErrors.
func Build(objects []*source.Object) *Inventory {
	inv := &Inventory{
		objects: objects,
		pods:    make(map[*source.Object]*Pod),
	}
	pods := make([]*Pod, len(objects))
	errs := make([]error, len(objects))
	// A few objects (an admission request) are cheaper decoded here than
	// handed to goroutines.
	workers := min(runtime.GOMAXPROCS(0), max(1, len(objects)/32))
	// Workers take runs of objects in turn, so that they do not write to
	// the same cache lines of pods and errs, and a run of workloads in
	// the input (a directory of Deployments) is still shared out.
	const run = 64
	var next atomic.Int64
	decode := func() {
		shared := newSharedViews()
		for {
			start := int(next.Add(run)) - run
			if start >= len(objects) {
				return
			}
			for i := start; i < min(start+run, len(objects)); i++ {
				pods[i], errs[i] = podOf(objects[i], shared)
			}
		}
	}
	index := func() { inv.byKey = newKeyIndex(objects, nil) }
	if workers == 1 {
		decode()
		index()
	} else {
		// The index reads only the objects: it is built beside the
		// decoding, which writes only pods and errs.
		var wg sync.WaitGroup
		wg.Go(index)
		for range workers {
			wg.Go(decode)
		}
		wg.Wait()
	}
	for i, o := range objects {
		switch {
		case errs[i] != nil:
			inv.podErrors = append(inv.podErrors, &source.Error{Source: o.Source.String(), Err: errs[i]})
		case pods[i] != nil:
			inv.pods[o] = pods[i]
		}
	}
	return inv
}

// Objects returns every object in load order.
func (inv *Inventory) Objects() []*source.Object { return inv.objects }

// Len is the number of objects.
func (inv *Inventory) Len() int { return len(inv.objects) }

// Get finds an object by key.
func (inv *Inventory) Get(k Key) (*source.Object, bool) {
	o, ok := inv.byKey.get(k)
	return o, ok
}

// Pod returns the pod-spec view of o, or nil when o carries no pod spec.
func (inv *Inventory) Pod(o *source.Object) *Pod { return inv.pods[o] }

// PodErrors lists objects whose pod template was malformed.
func (inv *Inventory) PodErrors() []*source.Error { return inv.podErrors }

// AutomountDisabled reports whether the ServiceAccount ns/name is in the
// inventory with automountServiceAccountToken: false.
func (inv *Inventory) AutomountDisabled(ns, name string) bool {
	sa, ok := inv.Get(Key{Kind: "ServiceAccount", Namespace: ns, Name: name})
	if !ok {
		return false
	}
	v, set := sa.Field("automountServiceAccountToken").(bool)
	return set && !v
}

// keyIndex finds objects by key, the last one loaded for a key that
// several objects have. Objects are held by a 64-bit hash of their key
// (16 bytes an entry, where a map by Key takes 72: at a hundred thousand
// objects, 8 MB less), and the rare key whose hash another key holds in a
// map by Key.
type keyIndex struct {
	hash     func(Key) uint64
	byHash   map[uint64]*source.Object
	collided map[Key]*source.Object
}

// newKeyIndex indexes objects by hash, maphash of the key when nil.
func newKeyIndex(objects []*source.Object, hash func(Key) uint64) keyIndex {
	if hash == nil {
		seed := maphash.MakeSeed()
		hash = func(k Key) uint64 { return maphash.Comparable(seed, k) }
	}
	x := keyIndex{hash: hash, byHash: make(map[uint64]*source.Object, len(objects))}
	for _, o := range objects {
		k := KeyOf(o)
		h := hash(k)
		if held, ok := x.byHash[h]; ok && KeyOf(held) != k {
			if x.collided == nil {
				x.collided = map[Key]*source.Object{}
			}
			x.collided[k] = o
			continue
		}
		x.byHash[h] = o
	}
	return x
}

func (x keyIndex) get(k Key) (*source.Object, bool) {
	if x.byHash == nil {
		return nil, false
	}
	if o, ok := x.byHash[x.hash(k)]; ok && KeyOf(o) == k {
		return o, true
	}
	o, ok := x.collided[k]
	return o, ok
}

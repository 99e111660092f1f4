package inventory

import (
	"encoding/binary"
	"math"
	"slices"

	corev1 "k8s.io/api/core/v1"
)

// resourceLists shares equal container resource lists between the pod
// views one worker decodes. A typed ResourceList is a Go map of Quantity
// values, 700 bytes for two entries, and most containers of a cluster ask
// for one of a few sizes (every replica of a workload, and teams' standard
// sizes). Views are read-only, so equal lists can be one map. Lists are
// equal when their decoded sources are: the same names with the same
// values of the same types.
type resourceLists struct {
	m   map[string]corev1.ResourceList
	buf []byte
}

// maxSharedLists bounds the table: inputs with more distinct lists keep
// the rest unshared.
const maxSharedLists = 1 << 14

func newResourceLists() *resourceLists {
	return &resourceLists{m: map[string]corev1.ResourceList{}}
}

// shareContainers replaces the limits and requests of ps's containers and
// init containers, decoded from spec, with equal lists seen before. A nil
// receiver does nothing.
func (r *resourceLists) shareContainers(spec map[string]any, ps *corev1.PodSpec) {
	if r == nil {
		return
	}
	for _, list := range []struct {
		field string
		typed []corev1.Container
	}{{"initContainers", ps.InitContainers}, {"containers", ps.Containers}} {
		src, _ := spec[list.field].([]any)
		if len(src) != len(list.typed) {
			continue
		}
		for i := range list.typed {
			c, _ := src[i].(map[string]any)
			res, _ := c["resources"].(map[string]any)
			if res == nil {
				continue
			}
			r.share(res["limits"], &list.typed[i].Resources.Limits)
			r.share(res["requests"], &list.typed[i].Resources.Requests)
		}
	}
}

// share replaces *rl, decoded from src, with an equal list seen before, or
// remembers it. Lists whose source has values other than strings and
// numbers, or more than eight entries, are left alone.
func (r *resourceLists) share(src any, rl *corev1.ResourceList) {
	m, _ := src.(map[string]any)
	if len(m) == 0 || len(m) > 8 || len(*rl) != len(m) {
		return
	}
	var names [8]string
	n := 0
	for k := range m {
		names[n] = k
		n++
	}
	slices.Sort(names[:n])
	// The key spells each name and value with its length first, so no
	// two different lists share one.
	b := r.buf[:0]
	for _, k := range names[:n] {
		b = binary.AppendUvarint(b, uint64(len(k)))
		b = append(b, k...)
		switch v := m[k].(type) {
		case string:
			b = binary.AppendUvarint(append(b, 's'), uint64(len(v)))
			b = append(b, v...)
		case int64:
			b = binary.AppendVarint(append(b, 'i'), v)
		case float64:
			b = binary.AppendUvarint(append(b, 'f'), math.Float64bits(v))
		default:
			r.buf = b
			return
		}
	}
	r.buf = b
	if seen, ok := r.m[string(b)]; ok {
		*rl = seen
		return
	}
	if len(r.m) < maxSharedLists {
		r.m[string(b)] = *rl
	}
}

package netpol

import (
	"cmp"
	"slices"
)

// Change is a connection that differs between two inputs.
type Change struct {
	// Type is "added" (no connection before), "removed" (none after) or
	// "changed".
	Type     string
	Src, Dst string
	Old, New Conns
}

// Diff lists the connections — between workloads, and between workloads
// and outside address ranges — that differ from old to new. A workload
// present in one input only has no connections in the other.
func Diff(old, new *Model) []Change {
	in, eg := atomsOf(true, old, new), atomsOf(false, old, new)
	before, after := old.connectionMap(in, eg, new), new.connectionMap(in, eg, old)
	var out []Change
	for key, o := range before {
		n := after[key]
		if !o.Equal(n) {
			out = append(out, change(key, o, n))
		}
	}
	for key, n := range after {
		if _, seen := before[key]; !seen {
			out = append(out, change(key, Conns{}, n))
		}
	}
	slices.SortFunc(out, func(a, b Change) int {
		return cmp.Or(cmp.Compare(a.Type, b.Type), cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst))
	})
	return out
}

func change(key [2]string, o, n Conns) Change {
	c := Change{Type: "changed", Src: key[0], Dst: key[1], Old: o, New: n}
	switch {
	case o.IsEmpty():
		c.Type = "added"
	case n.IsEmpty():
		c.Type = "removed"
	}
	return c
}

// connectionMap is every allowed connection by (source, destination),
// outside addresses split at the given atoms for workloads that the other
// input has too, and at m's own for the others (as netpol-analyzer does).
func (m *Model) connectionMap(inAtoms, egAtoms []ipRange, other *Model) map[[2]string]Conns {
	out := map[[2]string]Conns{}
	for _, c := range m.Connections() {
		out[[2]string{c.Src.String(), c.Dst.String()}] = c.Conns
	}
	ownIn, ownEg := m.atoms(true), m.atoms(false)
	for _, w := range m.Workloads {
		inAtoms, egAtoms := inAtoms, egAtoms
		if _, shared := other.byIdentity[w.String()]; !shared {
			inAtoms, egAtoms = ownIn, ownEg
		}
		for _, a := range egAtoms {
			if c := m.egressToIP(w, a); !c.IsEmpty() {
				out[[2]string{w.String(), a.String() + "[External]"}] = c
			}
		}
		for _, a := range inAtoms {
			if c := m.ingressFromIP(w, a); !c.IsEmpty() {
				out[[2]string{a.String() + "[External]", w.String()}] = c
			}
		}
	}
	return out
}

package netpol

import (
	"fmt"
	"net/netip"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
)

// ipRange is an inclusive range of IPv4 addresses.
type ipRange struct{ lo, hi uint32 }

func (r ipRange) String() string {
	return addr(r.lo).String() + "-" + addr(r.hi).String()
}

func addr(v uint32) netip.Addr {
	return netip.AddrFrom4([4]byte{byte(v >> 24), byte(v >> 16), byte(v >> 8), byte(v)})
}

// prefixRange is the IPv4 range of a CIDR; ok is false for IPv6.
func prefixRange(cidr string) (ipRange, bool) {
	p, err := netip.ParsePrefix(cidr)
	if err != nil || !p.Addr().Is4() {
		return ipRange{}, false
	}
	p = p.Masked()
	b := p.Addr().As4()
	lo := uint32(b[0])<<24 | uint32(b[1])<<16 | uint32(b[2])<<8 | uint32(b[3])
	size := uint64(1) << (32 - p.Bits())
	return ipRange{lo, uint32(uint64(lo) + size - 1)}, true
}

// atoms split the IPv4 space at every boundary of every ipBlock (CIDR and
// except) of the policies' ingress (or egress) rules: within an atom
// every such ipBlock either contains all addresses or none.
func (m *Model) atoms(ingress bool) []ipRange { return atomsOf(ingress, m) }

// atomsOf is the atoms that tell apart the addresses any of the models'
// rules of the direction tell apart.
func atomsOf(ingress bool, models ...*Model) []ipRange {
	cuts := []uint64{0, 1 << 32}
	for _, m := range models {
		cuts = append(cuts, m.cuts(ingress)...)
		cuts = append(cuts, m.adminCuts(ingress)...)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	out := make([]ipRange, 0, len(cuts)-1)
	for i := 0; i+1 < len(cuts); i++ {
		out = append(out, ipRange{uint32(cuts[i]), uint32(cuts[i+1] - 1)})
	}
	return out
}

// cuts are the range boundaries of the ipBlocks of the direction's rules.
func (m *Model) cuts(ingress bool) []uint64 {
	var cuts []uint64
	for _, p := range m.policies {
		for _, peer := range rulePeers(p.np, ingress) {
			if peer.IPBlock == nil {
				continue
			}
			for _, r := range blockRanges(peer.IPBlock) {
				cuts = append(cuts, uint64(r.lo), uint64(r.hi)+1)
			}
		}
	}
	return cuts
}

func rulePeers(np *networkingv1.NetworkPolicy, ingress bool) []networkingv1.NetworkPolicyPeer {
	var peers []networkingv1.NetworkPolicyPeer
	if ingress {
		for _, r := range np.Spec.Ingress {
			peers = append(peers, r.From...)
		}
		return peers
	}
	for _, r := range np.Spec.Egress {
		peers = append(peers, r.To...)
	}
	return peers
}

// blockRanges is the IPv4 addresses of an ipBlock (its CIDR minus its
// excepts) as sorted, merged ranges: adjacent excepts leave one hole.
func blockRanges(b *networkingv1.IPBlock) []ipRange {
	r, ok := prefixRange(b.CIDR)
	if !ok {
		return nil
	}
	out := []ipRange{r}
	for _, e := range b.Except {
		x, ok := prefixRange(e)
		if !ok {
			continue
		}
		var next []ipRange
		for _, y := range out {
			if x.hi < y.lo || x.lo > y.hi {
				next = append(next, y)
				continue
			}
			if x.lo > y.lo {
				next = append(next, ipRange{y.lo, x.lo - 1})
			}
			if x.hi < y.hi {
				next = append(next, ipRange{x.hi + 1, y.hi})
			}
		}
		out = next
	}
	return out
}

// blockContains reports whether the ipBlock holds the whole atom (atoms
// never straddle a block's boundaries).
func blockContains(b *networkingv1.IPBlock, a ipRange) bool {
	for _, r := range blockRanges(b) {
		if a.lo >= r.lo && a.hi <= r.hi {
			return true
		}
	}
	return false
}

// ipPeersMatch: an empty peer list matches every address; otherwise an
// ipBlock peer holding the atom.
func ipPeersMatch(peers []networkingv1.NetworkPolicyPeer, a ipRange) bool {
	if len(peers) == 0 {
		return true
	}
	for _, p := range peers {
		if p.IPBlock != nil && blockContains(p.IPBlock, a) {
			return true
		}
	}
	return false
}

// egressToIP is what w may send to the addresses of atom a (named ports
// cannot apply to an address).
func (m *Model) egressToIP(w *Workload, a ipRange) Conns {
	np := func() Conns {
		return allowedBy(w.egress, false, func(peers []networkingv1.NetworkPolicyPeer, _ string) bool { return ipPeersMatch(peers, a) }, &Workload{})
	}
	return m.layered(w, false, len(w.egress) > 0, np, func(p adminPeer) bool { return p.matchesIP(a) }, nil)
}

// ingressFromIP is what w admits from the addresses of atom a.
func (m *Model) ingressFromIP(w *Workload, a ipRange) Conns {
	np := func() Conns {
		return allowedBy(w.ingress, true, func(peers []networkingv1.NetworkPolicyPeer, _ string) bool { return ipPeersMatch(peers, a) }, w)
	}
	// Admin ingress peers are namespaces and pods: they never match an address.
	return m.layered(w, true, len(w.ingress) > 0, np, func(adminPeer) bool { return false }, w)
}

// ExternalConnection is an allowed connection between a workload and a
// range of outside addresses.
type ExternalConnection struct {
	Workload *Workload
	// Range is the addresses, "a.b.c.d-e.f.g.h".
	Range string
	// Inbound is set when the addresses connect to the workload.
	Inbound bool
	Conns   Conns
}

// Endpoint writes the range as netpol-analyzer does.
func (e ExternalConnection) Endpoint() string { return e.Range + "[External]" }

// ExternalConnections lists, for every workload, the outside address
// ranges it may reach and be reached from, one entry per range of
// addresses the rules of that direction tell apart (as netpol-analyzer
// lists them).
func (m *Model) ExternalConnections() []ExternalConnection {
	in, eg := m.atoms(true), m.atoms(false)
	var out []ExternalConnection
	for _, w := range m.Workloads {
		for _, a := range eg {
			if c := m.egressToIP(w, a); !c.IsEmpty() {
				out = append(out, ExternalConnection{Workload: w, Range: a.String(), Conns: c})
			}
		}
		for _, a := range in {
			if c := m.ingressFromIP(w, a); !c.IsEmpty() {
				out = append(out, ExternalConnection{Workload: w, Range: a.String(), Inbound: true, Conns: c})
			}
		}
	}
	return out
}

// String writes the connection as a netpol-analyzer line.
func (e ExternalConnection) String() string {
	if e.Inbound {
		return fmt.Sprintf("%s => %s : %s", e.Endpoint(), e.Workload, e.Conns)
	}
	return fmt.Sprintf("%s => %s : %s", e.Workload, e.Endpoint(), e.Conns)
}

// Package netpol evaluates Kubernetes NetworkPolicies with the API's exact
// semantics: which workloads may connect to which, on which protocols and
// ports.
package netpol

import (
	"cmp"
	"slices"
	"strconv"
	"strings"

	corev1 "k8s.io/api/core/v1"
)

// Protocols are the protocols NetworkPolicies govern, in output order.
var Protocols = []corev1.Protocol{corev1.ProtocolSCTP, corev1.ProtocolTCP, corev1.ProtocolUDP}

const (
	minPort = 1
	maxPort = 65535
)

// portRange is an inclusive range of ports.
type portRange struct{ lo, hi int32 }

// Conns is a set of connections: for each protocol, a set of ports kept
// as sorted, disjoint, non-adjacent ranges. The zero value is empty.
type Conns struct {
	ports map[corev1.Protocol][]portRange
}

// AllConns is every port of every protocol.
func AllConns() Conns {
	c := Conns{ports: map[corev1.Protocol][]portRange{}}
	for _, p := range Protocols {
		c.ports[p] = []portRange{{minPort, maxPort}}
	}
	return c
}

// PortConns is one protocol's ports lo..hi.
func PortConns(p corev1.Protocol, lo, hi int32) Conns {
	lo, hi = max(lo, minPort), min(hi, maxPort)
	if lo > hi {
		return Conns{}
	}
	return Conns{ports: map[corev1.Protocol][]portRange{p: {{lo, hi}}}}
}

// ProtocolConns is every port of one protocol.
func ProtocolConns(p corev1.Protocol) Conns { return PortConns(p, minPort, maxPort) }

// IsEmpty reports whether no connection is in the set.
func (c Conns) IsEmpty() bool {
	for _, r := range c.ports {
		if len(r) > 0 {
			return false
		}
	}
	return true
}

// IsAll reports whether every connection is in the set.
func (c Conns) IsAll() bool { return c.Equal(AllConns()) }

// Equal reports whether both sets hold the same connections.
func (c Conns) Equal(o Conns) bool {
	for _, p := range Protocols {
		if !slices.Equal(c.ports[p], o.ports[p]) {
			return false
		}
	}
	return true
}

// Union is every connection in either set.
func (c Conns) Union(o Conns) Conns {
	out := Conns{ports: map[corev1.Protocol][]portRange{}}
	for _, p := range Protocols {
		if r := normalize(append(slices.Clone(c.ports[p]), o.ports[p]...)); len(r) > 0 {
			out.ports[p] = r
		}
	}
	return out
}

// Intersect is every connection in both sets.
func (c Conns) Intersect(o Conns) Conns {
	out := Conns{ports: map[corev1.Protocol][]portRange{}}
	for _, p := range Protocols {
		var r []portRange
		for _, a := range c.ports[p] {
			for _, b := range o.ports[p] {
				if lo, hi := max(a.lo, b.lo), min(a.hi, b.hi); lo <= hi {
					r = append(r, portRange{lo, hi})
				}
			}
		}
		if r = normalize(r); len(r) > 0 {
			out.ports[p] = r
		}
	}
	return out
}

// Subtract is every connection in c and not in o.
func (c Conns) Subtract(o Conns) Conns {
	out := Conns{ports: map[corev1.Protocol][]portRange{}}
	for _, p := range Protocols {
		rest := slices.Clone(c.ports[p])
		for _, b := range o.ports[p] {
			var next []portRange
			for _, a := range rest {
				if b.hi < a.lo || b.lo > a.hi {
					next = append(next, a)
					continue
				}
				if a.lo < b.lo {
					next = append(next, portRange{a.lo, b.lo - 1})
				}
				if b.hi < a.hi {
					next = append(next, portRange{b.hi + 1, a.hi})
				}
			}
			rest = next
		}
		if len(rest) > 0 {
			out.ports[p] = rest
		}
	}
	return out
}

// Contains reports whether port p of protocol proto is in the set.
func (c Conns) Contains(proto corev1.Protocol, port int32) bool {
	for _, r := range c.ports[proto] {
		if r.lo <= port && port <= r.hi {
			return true
		}
	}
	return false
}

// normalize sorts ranges and merges overlapping or adjacent ones.
func normalize(r []portRange) []portRange {
	if len(r) == 0 {
		return nil
	}
	slices.SortFunc(r, func(a, b portRange) int { return cmp.Compare(a.lo, b.lo) })
	out := []portRange{r[0]}
	for _, x := range r[1:] {
		last := &out[len(out)-1]
		if x.lo <= last.hi+1 {
			last.hi = max(last.hi, x.hi)
			continue
		}
		out = append(out, x)
	}
	return out
}

// String writes the set as netpol-analyzer does: "All Connections", or
// protocols in order with their ports, "SCTP 9003,TCP 80,443,UDP 1-52".
func (c Conns) String() string {
	if c.IsAll() {
		return "All Connections"
	}
	if c.IsEmpty() {
		return "No Connections"
	}
	var parts []string
	for _, p := range Protocols {
		r := c.ports[p]
		if len(r) == 0 {
			continue
		}
		var ports []string
		for _, x := range r {
			if x.lo == x.hi {
				ports = append(ports, strconv.Itoa(int(x.lo)))
			} else {
				ports = append(ports, strconv.Itoa(int(x.lo))+"-"+strconv.Itoa(int(x.hi)))
			}
		}
		parts = append(parts, string(p)+" "+strings.Join(ports, ","))
	}
	return strings.Join(parts, ",")
}

package netpol

import (
	"fmt"
	"net/netip"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/util/intstr"
)

// validatePeers rejects what the API server's validation would: invalid
// selectors and CIDRs, except outside their CIDR, endPort with a named or
// missing port, or below port. It keeps the selectors it parses in
// parsed.
func validatePeers(np *networkingv1.NetworkPolicy, parsed map[*metav1.LabelSelector]labels.Selector) error {
	check := func(where string, peers []networkingv1.NetworkPolicyPeer, ports []networkingv1.NetworkPolicyPort, egress bool) error {
		for i, peer := range peers {
			if peer.PodSelector == nil && peer.NamespaceSelector == nil && peer.IPBlock == nil {
				return fmt.Errorf("%s peer %d: a peer needs a podSelector, a namespaceSelector or an ipBlock", where, i)
			}
			if egress && peer.IPBlock != nil {
				for _, p := range ports {
					if p.Port != nil && p.Port.Type == intstr.String {
						return fmt.Errorf("%s: named port %q cannot apply to ipBlock peer %d (an address has no named ports)", where, p.Port.StrVal, i)
					}
				}
			}
			for _, sel := range []*metav1.LabelSelector{peer.PodSelector, peer.NamespaceSelector} {
				if sel == nil {
					continue
				}
				parsedSel, err := metav1.LabelSelectorAsSelector(sel)
				if err != nil {
					return fmt.Errorf("%s peer %d: %w", where, i, err)
				}
				parsed[sel] = parsedSel
			}
			if b := peer.IPBlock; b != nil {
				if peer.PodSelector != nil || peer.NamespaceSelector != nil {
					return fmt.Errorf("%s peer %d: ipBlock cannot be combined with selectors", where, i)
				}
				cidr, err := netip.ParsePrefix(b.CIDR)
				if err != nil {
					return fmt.Errorf("%s peer %d: ipBlock.cidr %q: %w", where, i, b.CIDR, err)
				}
				for _, e := range b.Except {
					ex, err := netip.ParsePrefix(e)
					if err != nil {
						return fmt.Errorf("%s peer %d: ipBlock.except %q: %w", where, i, e, err)
					}
					if !cidr.Contains(ex.Addr()) || ex.Bits() < cidr.Bits() {
						return fmt.Errorf("%s peer %d: ipBlock.except %q is not inside %q", where, i, e, b.CIDR)
					}
				}
			}
		}
		for i, p := range ports {
			if p.EndPort == nil {
				continue
			}
			if p.Port == nil || p.Port.Type == intstr.String {
				return fmt.Errorf("%s port %d: endPort needs a numeric port", where, i)
			}
			if *p.EndPort < p.Port.IntVal {
				return fmt.Errorf("%s port %d: endPort %d is below port %d", where, i, *p.EndPort, p.Port.IntVal)
			}
		}
		return nil
	}
	for i, r := range np.Spec.Ingress {
		if err := check(fmt.Sprintf("spec.ingress[%d]", i), r.From, r.Ports, false); err != nil {
			return err
		}
	}
	for i, r := range np.Spec.Egress {
		if err := check(fmt.Sprintf("spec.egress[%d]", i), r.To, r.Ports, true); err != nil {
			return err
		}
	}
	return nil
}

// peerMatches reports whether peer (of a policy in namespace policyNS)
// selects workload w. ipBlocks select addresses, never pods.
func (m *Model) peerMatches(peer networkingv1.NetworkPolicyPeer, policyNS string, w *Workload) bool {
	if peer.IPBlock != nil {
		return false
	}
	if peer.NamespaceSelector != nil {
		if !m.sel(peer.NamespaceSelector).Matches(m.namespaceLabels(w)) {
			return false
		}
	} else if w.Namespace != policyNS {
		return false
	}
	if peer.PodSelector != nil {
		return m.sel(peer.PodSelector).Matches(w.Labels)
	}
	return true
}

// portConns is the connections a rule's ports allow to dst: every
// connection when the list is empty; named ports resolve against dst's
// container ports.
func portConns(ports []networkingv1.NetworkPolicyPort, dst *Workload) Conns {
	if len(ports) == 0 {
		return AllConns()
	}
	var out Conns
	for _, p := range ports {
		proto := corev1.ProtocolTCP
		if p.Protocol != nil {
			proto = *p.Protocol
		}
		switch {
		case p.Port == nil:
			out = out.Union(ProtocolConns(proto))
		case p.Port.Type == intstr.String:
			for _, cp := range dst.Ports {
				cproto := cp.Protocol
				if cproto == "" {
					cproto = corev1.ProtocolTCP
				}
				if cp.Name == p.Port.StrVal && cproto == proto {
					out = out.Union(PortConns(proto, cp.ContainerPort, cp.ContainerPort))
				}
			}
		default:
			end := p.Port.IntVal
			if p.EndPort != nil {
				end = *p.EndPort
			}
			out = out.Union(PortConns(proto, p.Port.IntVal, end))
		}
	}
	return out
}

// allowedBy is what the isolating policies allow: every connection when
// none isolates, else the union of the ports of their rules (of the
// direction) whose peers match, resolved against dst.
func allowedBy(isolating []*policy, ingress bool, peersMatch func(peers []networkingv1.NetworkPolicyPeer, policyNS string) bool, dst *Workload) Conns {
	if len(isolating) == 0 {
		return AllConns()
	}
	var out Conns
	for _, p := range isolating {
		if ingress {
			for _, rule := range p.np.Spec.Ingress {
				if peersMatch(rule.From, p.np.Namespace) {
					out = out.Union(portConns(rule.Ports, dst))
				}
			}
			continue
		}
		for _, rule := range p.np.Spec.Egress {
			if peersMatch(rule.To, p.np.Namespace) {
				out = out.Union(portConns(rule.Ports, dst))
			}
		}
	}
	return out
}

// Ingress is what dst admits from src: everything unless a policy
// isolates dst for ingress, else the union of the rules of those
// policies whose peers select src — within what admin network policies
// leave to NetworkPolicies (admin.go).
func (m *Model) Ingress(src, dst *Workload) Conns {
	np := func() Conns {
		return allowedBy(dst.ingress, true, func(peers []networkingv1.NetworkPolicyPeer, ns string) bool { return m.rulePeersMatch(peers, ns, src) }, dst)
	}
	if !m.hasAdmin() {
		return np() // the common case, without building the admin tiers' closures
	}
	return m.layered(dst, true, len(dst.ingress) > 0, np, func(p adminPeer) bool { return p.matchesWorkload(m, src) }, dst)
}

// Egress is what src may send to dst, likewise.
func (m *Model) Egress(src, dst *Workload) Conns {
	np := func() Conns {
		return allowedBy(src.egress, false, func(peers []networkingv1.NetworkPolicyPeer, ns string) bool { return m.rulePeersMatch(peers, ns, dst) }, dst)
	}
	if !m.hasAdmin() {
		return np()
	}
	return m.layered(src, false, len(src.egress) > 0, np, func(p adminPeer) bool { return p.matchesWorkload(m, dst) }, dst)
}

// rulePeersMatch: an empty peer list matches everything.
func (m *Model) rulePeersMatch(peers []networkingv1.NetworkPolicyPeer, policyNS string, w *Workload) bool {
	if len(peers) == 0 {
		return true
	}
	for _, peer := range peers {
		if m.peerMatches(peer, policyNS, w) {
			return true
		}
	}
	return false
}

// Allowed is what src may open to dst: allowed by src's egress and by
// dst's ingress.
func (m *Model) Allowed(src, dst *Workload) Conns {
	return m.Egress(src, dst).Intersect(m.Ingress(src, dst))
}

// Connection is one allowed workload pair.
type Connection struct {
	Src, Dst *Workload
	Conns    Conns
}

// Connections lists every allowed pair of distinct workloads.
func (m *Model) Connections() []Connection {
	class, n := m.shapeClasses()
	var cache map[[2]int]Conns
	if n < len(m.Workloads) {
		cache = make(map[[2]int]Conns) // workloads of one shape connect alike: compute once per pair of shapes
	}
	var out []Connection
	for i, src := range m.Workloads {
		for j, dst := range m.Workloads {
			if src == dst {
				continue
			}
			var c Conns
			if cache == nil {
				c = m.Allowed(src, dst)
			} else {
				key := [2]int{class[i], class[j]}
				var ok bool
				if c, ok = cache[key]; !ok {
					c = m.Allowed(src, dst)
					cache[key] = c
				}
			}
			if !c.IsEmpty() {
				out = append(out, Connection{src, dst, c})
			}
		}
	}
	return out
}

// shapeClasses groups workloads by what decides their connections — the
// namespace (its labels and the policies that can select them), the pod
// labels and the container ports (named ports) — and returns each
// workload's class and the number of classes. Replicas are already one
// workload; this merges distinct workloads of one shape.
func (m *Model) shapeClasses() ([]int, int) {
	ids := map[string]int{}
	class := make([]int, len(m.Workloads))
	for i, w := range m.Workloads {
		key := w.Namespace + "\x00" + w.Labels.String() + "\x00" + fmt.Sprint(w.Ports)
		id, ok := ids[key]
		if !ok {
			id = len(ids)
			ids[key] = id
		}
		class[i] = id
	}
	return class, len(ids)
}

// RuleRef names one rule of a policy.
type RuleRef struct {
	Policy string // namespace/name
	// Rule is e.g. "spec.ingress[0]".
	Rule  string
	Conns Conns
}

// Decision explains one direction of a connection: the policies that
// isolate the workload (none: everything is allowed) and the rules whose
// peers match, with what each allows.
type Decision struct {
	Isolating []string
	Rules     []RuleRef
	// Admin are the AdminNetworkPolicy and BaselineAdminNetworkPolicy
	// rules whose peers match, in the order they are applied, with their
	// action and the ports each decides (none when earlier rules of its
	// tier decided them all). Ports an AdminNetworkPolicy passes, or no
	// admin rule decides, go to the NetworkPolicies; when none isolates
	// the workload, to the baseline.
	Admin []AdminRuleRef
}

// AdminRuleRef is a matching admin policy rule.
type AdminRuleRef struct {
	// Policy is "AdminNetworkPolicy NAME (priority N)" or
	// "BaselineAdminNetworkPolicy default".
	Policy, Rule, Action string
	Conns                Conns
}

// Explain says which policies and rules decide src → dst, for egress
// (src's policies) and ingress (dst's).
func (m *Model) Explain(src, dst *Workload) (egress, ingress Decision) {
	explain := func(isolating []*policy, in bool, peer *Workload, dst *Workload) Decision {
		var d Decision
		for _, p := range isolating {
			d.Isolating = append(d.Isolating, p.np.Namespace+"/"+p.np.Name)
			if in {
				for i, r := range p.np.Spec.Ingress {
					if m.rulePeersMatch(r.From, p.np.Namespace, peer) {
						d.Rules = append(d.Rules, RuleRef{p.np.Namespace + "/" + p.np.Name, fmt.Sprintf("spec.ingress[%d]", i), portConns(r.Ports, dst)})
					}
				}
				continue
			}
			for i, r := range p.np.Spec.Egress {
				if m.rulePeersMatch(r.To, p.np.Namespace, peer) {
					d.Rules = append(d.Rules, RuleRef{p.np.Namespace + "/" + p.np.Name, fmt.Sprintf("spec.egress[%d]", i), portConns(r.Ports, dst)})
				}
			}
		}
		return d
	}
	egress, ingress = explain(src.egress, false, dst, dst), explain(dst.ingress, true, src, dst)
	egress.Admin = m.explainAdmin(src, false, func(p adminPeer) bool { return p.matchesWorkload(m, dst) }, dst)
	ingress.Admin = m.explainAdmin(dst, true, func(p adminPeer) bool { return p.matchesWorkload(m, src) }, dst)
	return egress, ingress
}

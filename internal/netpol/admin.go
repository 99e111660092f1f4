package netpol

import (
	"cmp"
	"fmt"
	"net/netip"
	"slices"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"
	anp "sigs.k8s.io/network-policy-api/apis/v1alpha1"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// Cluster-scoped admin policies (sigs.k8s.io/network-policy-api v1alpha1)
// layer around NetworkPolicies, per direction of each pod:
//
//  1. AdminNetworkPolicies that select the pod, lowest priority number
//     first, each one's rules in order: the first rule whose peers match
//     decides a port — Allow, Deny, or Pass (skip to the next tier);
//  2. NetworkPolicies, for the ports left undecided or passed, when they
//     isolate the pod in that direction;
//  3. otherwise the BaselineAdminNetworkPolicy's rules (first match,
//     Allow or Deny), and what it does not decide is allowed.

const (
	actionAllow = "Allow"
	actionDeny  = "Deny"
	actionPass  = "Pass"
)

// adminPeer is a from/to entry: namespaces, pods, or (egress) networks.
type adminPeer struct {
	namespaces       labels.Selector
	podNS, pods      labels.Selector
	networks         []ipRange
	nodesOrDomains   bool // peers kubeharden cannot place: they match nothing here
	namespacesOrPods bool
}

type adminRule struct {
	action string
	peers  []adminPeer
	ports  *[]anp.AdminNetworkPolicyPort
}

// adminPolicy is an AdminNetworkPolicy or the BaselineAdminNetworkPolicy.
type adminPolicy struct {
	name            string
	priority        int32
	subjectNS       labels.Selector // subject.namespaces
	subjectPodNS    labels.Selector // subject.pods
	subjectPod      labels.Selector
	ingress, egress []adminRule
	object          *source.Object
}

func selector(s *metav1.LabelSelector) (labels.Selector, error) {
	if s == nil {
		return nil, nil
	}
	return metav1.LabelSelectorAsSelector(s)
}

func newAdminPeer(ns *metav1.LabelSelector, pods *anp.NamespacedPod, networks []anp.CIDR, other bool) (adminPeer, error) {
	var p adminPeer
	var err error
	set := 0
	for _, b := range []bool{ns != nil, pods != nil, len(networks) > 0, other} {
		if b {
			set++
		}
	}
	if set != 1 {
		return p, fmt.Errorf("exactly one field must be set in a rule peer (namespaces, pods, nodes, networks, domainNames)")
	}
	if p.namespaces, err = selector(ns); err != nil {
		return p, err
	}
	if pods != nil {
		if p.podNS, err = selector(&pods.NamespaceSelector); err != nil {
			return p, err
		}
		if p.pods, err = selector(&pods.PodSelector); err != nil {
			return p, err
		}
	}
	p.namespacesOrPods = ns != nil || pods != nil
	for _, c := range networks {
		r, ok := prefixRange(string(c))
		if !ok {
			if pfx, err := netip.ParsePrefix(string(c)); err == nil && pfx.Addr().Is6() {
				continue // IPv6 networks: outside the IPv4 model
			}
			return p, fmt.Errorf("networks: %q is not a CIDR", c)
		}
		p.networks = append(p.networks, r)
	}
	p.nodesOrDomains = other
	return p, nil
}

// newAdminPolicy decodes an AdminNetworkPolicy or BaselineAdminNetworkPolicy.
func newAdminPolicy(o *source.Object) (*adminPolicy, error) {
	baseline := o.Kind() == "BaselineAdminNetworkPolicy"
	var subject anp.AdminNetworkPolicySubject
	p := &adminPolicy{name: o.Name(), object: o}
	type rule struct {
		action string
		ports  *[]anp.AdminNetworkPolicyPort
		peers  []adminPeer
	}
	// A baseline's rules have an ANP rule's fields: read both as ANP rules.
	var spec anp.AdminNetworkPolicySpec
	if baseline {
		var b anp.BaselineAdminNetworkPolicy
		if err := typed.FromFields(o.Field, &b); err != nil {
			return nil, fmt.Errorf("BaselineAdminNetworkPolicy %s: %w", o.Name(), err)
		}
		if b.Name != "default" {
			return nil, fmt.Errorf("BaselineAdminNetworkPolicy %s: the only allowed name is \"default\"", b.Name)
		}
		spec.Subject = b.Spec.Subject
		for _, r := range b.Spec.Ingress {
			spec.Ingress = append(spec.Ingress, anp.AdminNetworkPolicyIngressRule{Action: anp.AdminNetworkPolicyRuleAction(r.Action), From: r.From, Ports: r.Ports})
		}
		for _, r := range b.Spec.Egress {
			rule := anp.AdminNetworkPolicyEgressRule{Action: anp.AdminNetworkPolicyRuleAction(r.Action), Ports: r.Ports}
			for _, peer := range r.To {
				rule.To = append(rule.To, anp.AdminNetworkPolicyEgressPeer{Namespaces: peer.Namespaces, Pods: peer.Pods, Nodes: peer.Nodes, Networks: peer.Networks})
			}
			spec.Egress = append(spec.Egress, rule)
		}
	} else {
		var a anp.AdminNetworkPolicy
		if err := typed.FromFields(o.Field, &a); err != nil {
			return nil, fmt.Errorf("AdminNetworkPolicy %s: %w", o.Name(), err)
		}
		if a.Spec.Priority < 0 || a.Spec.Priority > 1000 {
			return nil, fmt.Errorf("AdminNetworkPolicy %s: priority %d is outside 0-1000", a.Name, a.Spec.Priority)
		}
		spec = a.Spec
	}
	p.priority, subject = spec.Priority, spec.Subject
	peerErr := func(err error) (*adminPolicy, error) { return nil, fmt.Errorf("%s %s: %w", o.Kind(), o.Name(), err) }
	var in, eg []rule
	for _, r := range spec.Ingress {
		x := rule{action: string(r.Action), ports: r.Ports}
		for _, peer := range r.From {
			ap, err := newAdminPeer(peer.Namespaces, peer.Pods, nil, false)
			if err != nil {
				return peerErr(err)
			}
			x.peers = append(x.peers, ap)
		}
		in = append(in, x)
	}
	for _, r := range spec.Egress {
		x := rule{action: string(r.Action), ports: r.Ports}
		for _, peer := range r.To {
			ap, err := newAdminPeer(peer.Namespaces, peer.Pods, peer.Networks, peer.Nodes != nil || len(peer.DomainNames) > 0)
			if err != nil {
				return peerErr(err)
			}
			x.peers = append(x.peers, ap)
		}
		eg = append(eg, x)
	}
	var err error
	switch {
	case subject.Namespaces != nil && subject.Pods != nil, subject.Namespaces == nil && subject.Pods == nil:
		return nil, fmt.Errorf("%s %s: subject must set exactly one of namespaces and pods", o.Kind(), o.Name())
	case subject.Namespaces != nil:
		p.subjectNS, err = selector(subject.Namespaces)
	default:
		if p.subjectPodNS, err = selector(&subject.Pods.NamespaceSelector); err == nil {
			p.subjectPod, err = selector(&subject.Pods.PodSelector)
		}
	}
	if err != nil {
		return peerErr(err)
	}
	convert := func(rules []rule, dir string) ([]adminRule, error) {
		var out []adminRule
		for i, r := range rules {
			switch {
			case r.action == actionAllow || r.action == actionDeny, r.action == actionPass && !baseline:
			default:
				return nil, fmt.Errorf("%s %s: %s rule %d: action %q is not valid", o.Kind(), o.Name(), dir, i, r.action)
			}
			if len(r.peers) == 0 {
				return nil, fmt.Errorf("%s %s: %s rule %d has no peers", o.Kind(), o.Name(), dir, i)
			}
			if r.ports != nil {
				for j, port := range *r.ports {
					n := 0
					for _, b := range []bool{port.PortNumber != nil, port.NamedPort != nil, port.PortRange != nil} {
						if b {
							n++
						}
					}
					if n != 1 {
						return nil, fmt.Errorf("%s %s: %s rule %d port %d: exactly one of portNumber, namedPort and portRange must be set", o.Kind(), o.Name(), dir, i, j)
					}
					if pr := port.PortRange; pr != nil && (pr.Start > pr.End || pr.Start < 1 || pr.End > 65535) {
						return nil, fmt.Errorf("%s %s: %s rule %d port %d: illegal port range %d-%d", o.Kind(), o.Name(), dir, i, j, pr.Start, pr.End)
					}
				}
			}
			out = append(out, adminRule{action: r.action, peers: r.peers, ports: r.ports})
		}
		return out, nil
	}
	if p.ingress, err = convert(in, "ingress"); err != nil {
		return nil, err
	}
	if p.egress, err = convert(eg, "egress"); err != nil {
		return nil, err
	}
	return p, nil
}

// selects reports whether the policy's subject includes w.
func (p *adminPolicy) selects(m *Model, w *Workload) bool {
	ns := m.namespaceLabels(w)
	if p.subjectNS != nil {
		return p.subjectNS.Matches(ns)
	}
	return p.subjectPodNS.Matches(ns) && p.subjectPod.Matches(w.Labels)
}

// matchesWorkload reports whether the peer selects w.
func (a adminPeer) matchesWorkload(m *Model, w *Workload) bool {
	ns := m.namespaceLabels(w)
	switch {
	case a.namespaces != nil:
		return a.namespaces.Matches(ns)
	case a.pods != nil:
		return a.podNS.Matches(ns) && a.pods.Matches(w.Labels)
	}
	return false
}

// matchesIP reports whether the peer's networks hold every address of a.
func (a adminPeer) matchesIP(r ipRange) bool {
	for _, n := range a.networks {
		if n.lo <= r.lo && r.hi <= n.hi {
			return true
		}
	}
	return false
}

// conns is what a rule's ports cover towards dst (nil for an address:
// named ports cannot apply).
func (r adminRule) conns(dst *Workload) Conns {
	if r.ports == nil {
		return AllConns()
	}
	var out Conns
	for _, p := range *r.ports {
		switch {
		case p.PortNumber != nil:
			out = out.Union(PortConns(cmp.Or(p.PortNumber.Protocol, corev1.ProtocolTCP), p.PortNumber.Port, p.PortNumber.Port))
		case p.PortRange != nil:
			out = out.Union(PortConns(cmp.Or(p.PortRange.Protocol, corev1.ProtocolTCP), p.PortRange.Start, p.PortRange.End))
		case p.NamedPort != nil && dst != nil:
			for _, cp := range dst.Ports {
				if cp.Name == *p.NamedPort {
					out = out.Union(PortConns(cmp.Or(cp.Protocol, corev1.ProtocolTCP), cp.ContainerPort, cp.ContainerPort))
				}
			}
		}
	}
	return out
}

func (p *adminPolicy) rules(ingress bool) []adminRule {
	if ingress {
		return p.ingress
	}
	return p.egress
}

// layered is what subject allows in one direction, with the admin tiers
// around the NetworkPolicy result: isolated says whether NetworkPolicies
// isolate subject in that direction, np computes what they allow, matches
// says whether an admin peer selects the other end, dst is the workload
// named ports resolve on (nil for addresses).
func (m *Model) layered(subject *Workload, ingress, isolated bool, np func() Conns, matches func(adminPeer) bool, dst *Workload) Conns {
	if !m.hasAdmin() {
		if !isolated {
			return AllConns()
		}
		return np()
	}
	var allowed, decided, passed Conns
	for _, p := range m.admin {
		if !p.selects(m, subject) {
			continue
		}
		for _, r := range p.rules(ingress) {
			if !slices.ContainsFunc(r.peers, matches) {
				continue
			}
			ports := r.conns(dst).Subtract(decided)
			switch r.action {
			case actionAllow:
				allowed = allowed.Union(ports)
			case actionPass:
				passed = passed.Union(ports)
			}
			decided = decided.Union(ports)
		}
	}
	undecided := AllConns().Subtract(decided).Union(passed)
	if isolated {
		return allowed.Union(np().Intersect(undecided))
	}
	rest := undecided
	if b := m.baseline; b != nil && b.selects(m, subject) {
		var bAllowed, bDecided Conns
		for _, r := range b.rules(ingress) {
			if !slices.ContainsFunc(r.peers, matches) {
				continue
			}
			ports := r.conns(dst).Subtract(bDecided)
			if r.action == actionAllow {
				bAllowed = bAllowed.Union(ports)
			}
			bDecided = bDecided.Union(ports)
		}
		rest = bAllowed.Union(AllConns().Subtract(bDecided)).Intersect(undecided)
	}
	return allowed.Union(rest)
}

// hasAdmin reports whether any admin network policy is in the model.
func (m *Model) hasAdmin() bool { return len(m.admin) > 0 || m.baseline != nil }

// addAdmin adds an admin policy object to the model.
func (m *Model) addAdmin(o *source.Object) {
	p, err := newAdminPolicy(o)
	if err == nil && o.Kind() == "BaselineAdminNetworkPolicy" && m.baseline != nil {
		err = fmt.Errorf("BaselineAdminNetworkPolicy %s is defined twice", o.Name())
	}
	if err == nil && o.Kind() == "AdminNetworkPolicy" {
		for _, q := range m.admin {
			switch {
			case q.name == p.name:
				err = fmt.Errorf("AdminNetworkPolicy %s is defined twice", p.name)
			case q.priority == p.priority:
				// The API leaves the order of equal priorities undefined.
				err = fmt.Errorf("AdminNetworkPolicies %s and %s have the same priority %d: their order is undefined", q.name, p.name, p.priority)
			}
		}
	}
	if err != nil {
		m.Errors = append(m.Errors, &source.Error{Source: o.Source.String(), Err: err})
		return
	}
	if o.Kind() == "BaselineAdminNetworkPolicy" {
		m.baseline = p
		return
	}
	m.admin = append(m.admin, p)
	slices.SortStableFunc(m.admin, func(a, b *adminPolicy) int { return cmp.Compare(a.priority, b.priority) })
}

// adminCuts are the range boundaries of the admin policies' egress
// networks.
func (m *Model) adminCuts(ingress bool) []uint64 {
	if ingress {
		return nil
	}
	var cuts []uint64
	for _, p := range append(slices.Clone(m.admin), m.baseline) {
		if p == nil {
			continue
		}
		for _, r := range p.egress {
			for _, peer := range r.peers {
				for _, n := range peer.networks {
					cuts = append(cuts, uint64(n.lo), uint64(n.hi)+1)
				}
			}
		}
	}
	return cuts
}

// tellsApart reports whether the policy's subject or one of its pod peers
// selects only one of two label sets of w's replicas.
func (p *adminPolicy) tellsApart(m *Model, w *Workload, variant labels.Set) bool {
	ns := m.namespaceLabels(w)
	if p.subjectPod != nil && p.subjectPodNS.Matches(ns) && p.subjectPod.Matches(w.Labels) != p.subjectPod.Matches(variant) {
		return true
	}
	for _, r := range append(slices.Clone(p.ingress), p.egress...) {
		for _, peer := range r.peers {
			if peer.pods != nil && peer.podNS.Matches(ns) && peer.pods.Matches(w.Labels) != peer.pods.Matches(variant) {
				return true
			}
		}
	}
	return false
}

// explainAdmin lists the admin rules that match for subject in one
// direction, in evaluation order, each with the ports it decides (those
// no earlier rule of its tier decided).
func (m *Model) explainAdmin(subject *Workload, ingress bool, matches func(adminPeer) bool, dst *Workload) []AdminRuleRef {
	dir := "egress"
	if ingress {
		dir = "ingress"
	}
	var out []AdminRuleRef
	var decided Conns
	add := func(p *adminPolicy, label string) {
		if p == nil || !p.selects(m, subject) {
			return
		}
		for i, r := range p.rules(ingress) {
			if slices.ContainsFunc(r.peers, matches) {
				ports := r.conns(dst).Subtract(decided)
				decided = decided.Union(ports)
				out = append(out, AdminRuleRef{Policy: label, Rule: fmt.Sprintf("spec.%s[%d]", dir, i), Action: r.action, Conns: ports})
			}
		}
	}
	for _, p := range m.admin {
		add(p, fmt.Sprintf("AdminNetworkPolicy %s (priority %d)", p.name, p.priority))
	}
	decided = Conns{} // the baseline is its own tier
	add(m.baseline, "BaselineAdminNetworkPolicy default")
	return out
}

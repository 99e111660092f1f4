package netpol

import (
	"fmt"
	"slices"

	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/source"
)

// SelectedBy returns the workloads the NetworkPolicy object o selects
// (whatever directions it isolates), or nil when o is not a policy of the
// model.
func (m *Model) SelectedBy(o *source.Object) []*Workload {
	p := m.byPolicy[o]
	if p == nil {
		return nil
	}
	var out []*Workload
	for _, w := range m.Workloads {
		if p.np.Namespace == w.Namespace && p.selector.Matches(w.Labels) {
			out = append(out, w)
		}
	}
	return out
}

// PodSelector returns the parsed podSelector of the NetworkPolicy object
// o, or false when o is not a policy of the model.
func (m *Model) PodSelector(o *source.Object) (labels.Selector, bool) {
	if p := m.byPolicy[o]; p != nil {
		return p.selector, true
	}
	return nil, false
}

// DanglingPeer is a rule peer that selects nothing in the model.
type DanglingPeer struct {
	// Path is the peer's field path ("spec.ingress[0].from[1]").
	Path string
	// Why says what the peer looks for.
	Why string
}

// DanglingPeers returns the peers of the NetworkPolicy object o that match
// no workload (podSelector peers) or no namespace (namespaceSelector-only
// peers). ipBlock peers are never dangling.
func (m *Model) DanglingPeers(o *source.Object) []DanglingPeer {
	p := m.byPolicy[o]
	if p == nil {
		return nil
	}
	var out []DanglingPeer
	check := func(peers []networkingv1.NetworkPolicyPeer, path string) {
		for j, peer := range peers {
			if peer.IPBlock != nil {
				continue
			}
			if peer.PodSelector == nil {
				if !m.anyNamespaceMatches(peer.NamespaceSelector) {
					out = append(out, DanglingPeer{Path: fmt.Sprintf("%s[%d].namespaceSelector", path, j), Why: "no namespace has these labels"})
				}
				continue
			}
			matched := false
			for _, w := range m.Workloads {
				if m.peerMatches(peer, p.np.Namespace, w) {
					matched = true
					break
				}
			}
			if !matched {
				where := "in namespace " + p.np.Namespace
				if peer.NamespaceSelector != nil {
					where = "in the namespaces it selects"
				}
				out = append(out, DanglingPeer{Path: fmt.Sprintf("%s[%d].podSelector", path, j), Why: "no workload " + where + " has these labels"})
			}
		}
	}
	for i, r := range p.np.Spec.Ingress {
		check(r.From, fmt.Sprintf("spec.ingress[%d].from", i))
	}
	for i, r := range p.np.Spec.Egress {
		check(r.To, fmt.Sprintf("spec.egress[%d].to", i))
	}
	return out
}

// anyNamespaceMatches reports whether a namespace of the model has the
// labels sel asks for.
func (m *Model) anyNamespaceMatches(sel *metav1.LabelSelector) bool {
	for _, set := range m.namespaces {
		if m.sel(sel).Matches(set) {
			return true
		}
	}
	return false
}

// TargetedBy returns the names of the policies that select w with a
// non-empty podSelector: policies written for this workload, not a
// namespace-wide default.
func (w *Workload) TargetedBy() []string {
	var out []string
	for _, p := range append(slices.Clone(w.ingress), w.egress...) {
		sel := p.np.Spec.PodSelector
		if len(sel.MatchLabels)+len(sel.MatchExpressions) == 0 || slices.Contains(out, p.np.Name) {
			continue
		}
		out = append(out, p.np.Name)
	}
	return out
}

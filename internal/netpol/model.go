package netpol

import (
	"cmp"
	"fmt"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// Workload is a set of identical pods: a Pod or the template of a
// workload controller, with its namespace's labels.
type Workload struct {
	Namespace, Name, Kind string
	Labels                labels.Set
	// Ports are the containers' ports, for named-port resolution.
	Ports  []corev1.ContainerPort
	Object *source.Object
	// variants are the labels of merged replicas that differ from Labels.
	variants []labels.Set
	// ingress and egress are the policies that select the workload and
	// isolate it in that direction.
	ingress, egress []*policy
	// nsLabels, when set, are the labels of a namespace the model does
	// not hold (a stand-in such as the ingress controller's).
	nsLabels labels.Set
}

// namespaceLabels are the labels of w's namespace.
func (m *Model) namespaceLabels(w *Workload) labels.Set {
	if w.nsLabels != nil {
		return w.nsLabels
	}
	return m.namespaces[w.Namespace]
}

// String is ns/name[Kind], as netpol-analyzer writes endpoints.
func (w *Workload) String() string { return w.Namespace + "/" + w.Name + "[" + w.Kind + "]" }

// policy is a NetworkPolicy with its selectors parsed once.
type policy struct {
	np       *networkingv1.NetworkPolicy
	selector labels.Selector
	ingress  bool // the policy isolates its pods for ingress
	egress   bool
	object   *source.Object
}

// Model is the workloads, namespaces and policies of a set of objects.
type Model struct {
	Workloads  []*Workload
	namespaces map[string]labels.Set
	policies   []*policy
	byPolicy   map[*source.Object]*policy // the policy each NetworkPolicy object holds
	// admin are the AdminNetworkPolicies by priority; baseline the
	// BaselineAdminNetworkPolicy (admin.go).
	admin    []*adminPolicy
	baseline *adminPolicy
	// selectors are every peer selector, parsed once.
	selectors map[*metav1.LabelSelector]labels.Selector
	// byObject maps each object to the workload it contributes to;
	// byIdentity workloads by ns/name[Kind].
	byObject   map[*source.Object]*Workload
	byIdentity map[string]*Workload
	// routing are the Services, Ingresses, OpenShift Routes and Gateway
	// API routes: what sends traffic from outside to workloads.
	routing []*source.Object
	// Errors are policies that cannot be evaluated (invalid selectors or
	// CIDRs), reported naming their source; they are left out.
	Errors []*source.Error
}

// workloadKinds are the kinds whose pods the model evaluates; pods owned
// by one of them are represented by it.
var workloadKinds = map[string]bool{
	"Pod": true, "Deployment": true, "StatefulSet": true, "DaemonSet": true, "ReplicaSet": true,
	"ReplicationController": true, "Job": true, "CronJob": true,
}

// Build reads workloads (every kind the inventory gives a pod view),
// Namespaces and NetworkPolicies. A namespace without a Namespace object
// has only the kubernetes.io/metadata.name label the API server sets.
func Build(objs []*source.Object) *Model { return FromInventory(inventory.Build(objs), DecodePolicy) }

// A PolicyDecoder reads a NetworkPolicy object into its typed form. The
// model only reads what it returns, so a caller that decodes policies for
// its own use too (the check engine, once per run) can share them.
type PolicyDecoder func(o *source.Object) (*networkingv1.NetworkPolicy, error)

// DecodePolicy is the PolicyDecoder Build uses: o's spec, decoded, with
// its name and namespace (nothing reads the rest of its metadata).
func DecodePolicy(o *source.Object) (*networkingv1.NetworkPolicy, error) {
	var body struct {
		Spec networkingv1.NetworkPolicySpec `json:"spec"`
	}
	if err := typed.FromFields(o.Field, &body); err != nil {
		return nil, fmt.Errorf("NetworkPolicy %s: %w", o.Name(), err)
	}
	np := &networkingv1.NetworkPolicy{Spec: body.Spec}
	np.Name, _ = o.MetadataField("name").(string)
	np.Namespace = o.Namespace()
	return np, nil
}

// FromInventory is Build on an inventory already built (the scan's), with
// its NetworkPolicies read by decode.
func FromInventory(inv *inventory.Inventory, decode PolicyDecoder) *Model {
	m := &Model{namespaces: map[string]labels.Set{}, selectors: map[*metav1.LabelSelector]labels.Selector{}, byObject: map[*source.Object]*Workload{}, byPolicy: map[*source.Object]*policy{}}
	seenPolicies := map[string]bool{}
	for _, o := range inv.Objects() {
		switch {
		case o.Kind() == "Namespace" && o.Group() == "":
			if _, dup := m.namespaces[o.Name()]; dup {
				m.Errors = append(m.Errors, &source.Error{Source: o.Source.String(), Err: fmt.Errorf("namespace %q is defined twice", o.Name())})
				continue
			}
			set := labels.Set(o.Labels())
			if set == nil {
				set = labels.Set{}
			}
			set = labels.Merge(set, labels.Set{corev1.LabelMetadataName: o.Name()})
			m.namespaces[o.Name()] = set
		case o.Kind() == "NetworkPolicy" && o.Group() == networkingv1.GroupName:
			p, err := newPolicy(o, decode, m.selectors)
			if err == nil {
				key := p.np.Namespace + "/" + p.np.Name
				if seenPolicies[key] {
					err = fmt.Errorf("NetworkPolicy %s is defined twice", key)
				}
				seenPolicies[key] = true
			}
			if err != nil {
				m.Errors = append(m.Errors, &source.Error{Source: o.Source.String(), Err: err})
				continue
			}
			m.policies = append(m.policies, p)
			m.byPolicy[o] = p
		case o.Kind() == "Service" && o.Group() == "",
			o.Kind() == "Ingress" && (o.Group() == "networking.k8s.io" || o.Group() == "extensions"),
			o.Kind() == "Route" && o.Group() == "route.openshift.io",
			strings.HasSuffix(o.Kind(), "Route") && o.Group() == "gateway.networking.k8s.io":
			m.routing = append(m.routing, o)
		case (o.Kind() == "AdminNetworkPolicy" || o.Kind() == "BaselineAdminNetworkPolicy") && o.Group() == "policy.networking.k8s.io":
			m.addAdmin(o)
		case workloadKinds[o.Kind()]:
			pod := inv.Pod(o)
			if pod == nil {
				continue
			}
			// Pods (and ReplicaSets, Jobs) a controller made stand for their
			// controller, replicas merged; when the controller is in the
			// input, its template already does.
			kind, name := o.Kind(), o.Name()
			if ownerKind, ownerName, ok := controllerOf(o); ok {
				if _, present := inv.Get(inventory.Key{Group: groupOfKind(ownerKind), Kind: ownerKind, Namespace: o.Namespace(), Name: ownerName}); present {
					continue
				}
				kind, name = ownerKind, ownerName
			}
			w := &Workload{Namespace: namespaceOf(o), Name: name, Kind: kind, Labels: labels.Set(pod.Meta.Labels), Object: o}
			for _, c := range pod.Spec.Containers {
				w.Ports = append(w.Ports, c.Ports...)
			}
			m.byObject[o] = m.addWorkload(w)
		}
	}
	for _, w := range m.Workloads {
		if _, ok := m.namespaces[w.Namespace]; !ok {
			m.namespaces[w.Namespace] = labels.Set{corev1.LabelMetadataName: w.Namespace}
		}
	}
	m.index()
	m.checkReplicaLabels()
	slices.SortFunc(m.Workloads, func(a, b *Workload) int {
		return cmp.Or(cmp.Compare(a.Namespace, b.Namespace), cmp.Compare(a.Name, b.Name), cmp.Compare(a.Kind, b.Kind))
	})
	return m
}

// namespaceOf is the object's namespace, "default" when unset (where
// kubectl would create it).
func namespaceOf(o *source.Object) string {
	if ns := o.Namespace(); ns != "" {
		return ns
	}
	return metav1.NamespaceDefault
}

// controllerOf returns the kind and name of the object's controller.
func controllerOf(o *source.Object) (kind, name string, ok bool) {
	refs, _ := o.MetadataField("ownerReferences").([]any)
	for _, r := range refs {
		m, _ := r.(map[string]any)
		if c, _ := m["controller"].(bool); !c || m["kind"] == "Node" {
			continue // a static pod's mirror is owned by its Node: it stands for itself
		}
		kind, _ = m["kind"].(string)
		name, _ = m["name"].(string)
		if kind == "" {
			kind = o.Kind() // an owner of unknown kind: replicas of the object's own kind
		}
		return kind, name, name != ""
	}
	return "", "", false
}

func groupOfKind(kind string) string {
	switch kind {
	case "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet":
		return "apps"
	case "Job", "CronJob":
		return "batch"
	}
	return ""
}

// addWorkload adds w unless a workload of that identity is already there
// (replicas of one controller).
func (m *Model) addWorkload(w *Workload) *Workload {
	key := w.Namespace + "/" + w.Name + "[" + w.Kind + "]"
	if x, ok := m.byIdentity[key]; ok {
		if !labels.Equals(x.Labels, w.Labels) {
			x.variants = append(x.variants, w.Labels)
		}
		return x
	}
	if m.byIdentity == nil {
		m.byIdentity = map[string]*Workload{}
	}
	m.byIdentity[key] = w
	m.Workloads = append(m.Workloads, w)
	return w
}

// index gives each workload the policies that isolate it, so evaluating a
// pair looks at those alone. Every peer selector of a policy was parsed
// when the policy was validated (newPolicy).
func (m *Model) index() {
	byNS := map[string][]*policy{}
	for _, p := range m.policies {
		byNS[p.np.Namespace] = append(byNS[p.np.Namespace], p)
	}
	for _, w := range m.Workloads {
		for _, p := range byNS[w.Namespace] {
			if !p.selector.Matches(w.Labels) {
				continue
			}
			if p.ingress {
				w.ingress = append(w.ingress, p)
			}
			if p.egress {
				w.egress = append(w.egress, p)
			}
		}
	}
}

// WorkloadOf returns the workload an object contributes to (its own, or
// its controller's for replicas), or nil.
func (m *Model) WorkloadOf(o *source.Object) *Workload { return m.byObject[o] }

// IsolatedForIngress reports whether some policy selects the workload for
// ingress (so only what policies allow may reach it).
func (w *Workload) IsolatedForIngress() bool { return len(w.ingress) > 0 }

// IsolatedForEgress is the same for egress.
func (w *Workload) IsolatedForEgress() bool { return len(w.egress) > 0 }

// sel is a parsed peer selector.
func (m *Model) sel(s *metav1.LabelSelector) labels.Selector { return m.selectors[s] }

// peersTellApart reports whether a rule peer of p that reaches w's
// namespace selects pods labelled w.Labels but not v, or the reverse.
func (m *Model) peersTellApart(p *policy, w *Workload, v labels.Set) bool {
	var peers []networkingv1.NetworkPolicyPeer
	for _, r := range p.np.Spec.Ingress {
		peers = append(peers, r.From...)
	}
	for _, r := range p.np.Spec.Egress {
		peers = append(peers, r.To...)
	}
	for _, peer := range peers {
		if peer.PodSelector == nil {
			continue
		}
		if peer.NamespaceSelector == nil && p.np.Namespace != w.Namespace {
			continue
		}
		if peer.NamespaceSelector != nil {
			if !m.sel(peer.NamespaceSelector).Matches(m.namespaces[w.Namespace]) {
				continue
			}
		}
		if sel := m.sel(peer.PodSelector); sel.Matches(w.Labels) != sel.Matches(v) {
			return true
		}
	}
	return false
}

// checkReplicaLabels reports workloads whose merged replicas carry
// different labels that some policy tells apart: they cannot be analyzed
// as one workload.
func (m *Model) checkReplicaLabels() {
	for _, w := range m.Workloads {
		for _, v := range w.variants {
			for _, p := range m.policies {
				if (p.np.Namespace == w.Namespace && p.selector.Matches(w.Labels) != p.selector.Matches(v)) || m.peersTellApart(p, w, v) {
					m.Errors = append(m.Errors, &source.Error{Source: w.Object.Source.String(), Err: fmt.Errorf(
						"pods of %s have different labels and NetworkPolicy %s/%s selects only some of them", w, p.np.Namespace, p.np.Name)})
					return
				}
			}
			for _, p := range append(slices.Clone(m.admin), m.baseline) {
				if p != nil && p.tellsApart(m, w, v) {
					m.Errors = append(m.Errors, &source.Error{Source: w.Object.Source.String(), Err: fmt.Errorf(
						"pods of %s have different labels and %s %s selects only some of them", w, p.object.Kind(), p.name)})
					return
				}
			}
		}
	}
}

// newPolicy reads the NetworkPolicy o through decode, keeping the peer
// selectors it parses in selectors.
func newPolicy(o *source.Object, decode PolicyDecoder, selectors map[*metav1.LabelSelector]labels.Selector) (*policy, error) {
	np, err := decode(o)
	if err != nil {
		return nil, err
	}
	if np.Namespace == "" {
		// The decoded policy may be shared: the model's copy says where
		// the API server would put it.
		defaulted := *np
		defaulted.Namespace = metav1.NamespaceDefault
		np = &defaulted
	}
	sel, err := metav1.LabelSelectorAsSelector(&np.Spec.PodSelector)
	if err != nil {
		return nil, fmt.Errorf("NetworkPolicy %s/%s: spec.podSelector: %w", np.Namespace, np.Name, err)
	}
	p := &policy{np: np, selector: sel, object: o}
	// policyTypes defaults to Ingress, plus Egress when egress rules exist.
	if len(np.Spec.PolicyTypes) == 0 {
		p.ingress = true
		p.egress = len(np.Spec.Egress) > 0
	}
	for _, t := range np.Spec.PolicyTypes {
		switch t {
		case networkingv1.PolicyTypeIngress:
			p.ingress = true
		case networkingv1.PolicyTypeEgress:
			p.egress = true
		default:
			return nil, fmt.Errorf("NetworkPolicy %s/%s: unknown policyType %q", np.Namespace, np.Name, t)
		}
	}
	if err := validatePeers(np, selectors); err != nil {
		return nil, fmt.Errorf("NetworkPolicy %s/%s: %w", np.Namespace, np.Name, err)
	}
	return p, nil
}

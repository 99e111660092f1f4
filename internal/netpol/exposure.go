package netpol

import (
	"cmp"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// Exposure is how far a workload can be reached: what its ingress policies
// admit from any namespace and from any public address, and what routes
// outside traffic to it.
type Exposure struct {
	Workload *Workload
	// FromAnyNamespace is what a pod in any namespace, with any labels,
	// may open on the workload (rules that select by namespace or pod
	// labels do not count: they name who may connect).
	FromAnyNamespace Conns
	// FromInternet is what every public IPv4 address may open.
	FromInternet Conns
	// Via are the Services of type LoadBalancer or NodePort, Ingresses,
	// OpenShift Routes and Gateway API routes that send outside traffic to
	// the workload, and its host ports (host-network pods expose every
	// container port that way).
	Via []string
}

// nonPublic are the IPv4 ranges that are not public addresses.
var nonPublic = []string{"0.0.0.0/8", "10.0.0.0/8", "100.64.0.0/10", "127.0.0.0/8", "169.254.0.0/16", "172.16.0.0/12", "192.168.0.0/16", "224.0.0.0/3"}

// publicAtoms are the address ranges the ingress rules tell apart, cut at
// the non-public ranges, keeping the public ones.
func (m *Model) publicAtoms() []ipRange {
	cuts := append([]uint64{0, 1 << 32}, m.cuts(true)...)
	var private []ipRange
	for _, c := range nonPublic {
		r, _ := prefixRange(c)
		private = append(private, r)
		cuts = append(cuts, uint64(r.lo), uint64(r.hi)+1)
	}
	slices.Sort(cuts)
	cuts = slices.Compact(cuts)
	var out []ipRange
	for i := 0; i+1 < len(cuts); i++ {
		a := ipRange{uint32(cuts[i]), uint32(cuts[i+1] - 1)}
		if !slices.ContainsFunc(private, func(p ipRange) bool { return p.lo <= a.lo && a.lo <= p.hi }) {
			out = append(out, a)
		}
	}
	return out
}

// Exposures returns every workload's exposure, sorted by workload.
func (m *Model) Exposures() []Exposure {
	via := m.Routes()
	for _, w := range m.Workloads {
		for _, p := range w.Ports {
			if p.HostPort > 0 {
				via[w] = append(via[w], fmt.Sprintf("hostPort %s %d on its nodes' addresses", cmp.Or(p.Protocol, corev1.ProtocolTCP), p.HostPort))
			}
		}
	}
	public := m.publicAtoms()
	anyNS := anyNamespacePod()
	out := make([]Exposure, 0, len(m.Workloads))
	for _, w := range m.Workloads {
		e := Exposure{Workload: w, FromAnyNamespace: m.Ingress(anyNS, w), Via: via[w]}
		e.FromInternet = AllConns()
		for _, a := range public {
			if e.FromInternet = e.FromInternet.Intersect(m.ingressFromIP(w, a)); e.FromInternet.IsEmpty() {
				break
			}
		}
		out = append(out, e)
	}
	slices.SortFunc(out, func(a, b Exposure) int { return cmp.Compare(a.Workload.String(), b.Workload.String()) })
	return out
}

// anyNamespacePod stands for a pod in a namespace no policy names, with no
// labels.
func anyNamespacePod() *Workload {
	return &Workload{Namespace: "\x00any-namespace", Name: "any", Kind: "Pod", Labels: labels.Set{}}
}

// AdmitsAnyPod reports whether w admits every connection from a pod in any
// namespace: no NetworkPolicy isolates it and no admin network policy
// restricts it.
func (m *Model) AdmitsAnyPod(w *Workload) bool {
	return m.Ingress(anyNamespacePod(), w).IsAll()
}

// Routes maps workloads to what sends outside traffic to them:
// LoadBalancer and NodePort Services that select them, and Ingresses,
// OpenShift Routes and Gateway API routes whose backend Services select
// them.
func (m *Model) Routes() map[*Workload][]string {
	services := map[string]*Service{}
	for _, o := range m.routing {
		if s, ok := ServiceOf(o); ok {
			services[s.Namespace+"/"+o.Name()] = s
		}
	}
	out := map[*Workload][]string{}
	via := func(svc *Service, label string) {
		if svc == nil || len(svc.Selector) == 0 {
			return
		}
		sel := labels.SelectorFromSet(svc.Selector)
		for _, w := range m.Workloads {
			if w.Namespace == svc.Namespace && sel.Matches(w.Labels) {
				out[w] = append(out[w], label)
			}
		}
	}
	for key, svc := range services {
		if svc.Type == corev1.ServiceTypeLoadBalancer || svc.Type == corev1.ServiceTypeNodePort {
			via(svc, fmt.Sprintf("Service %s (%s)", key, svc.Type))
		}
	}
	for _, o := range m.routing {
		for _, name := range RoutedServices(o) {
			via(services[namespaceOf(o)+"/"+name], fmt.Sprintf("%s %s/%s → Service %s", o.Kind(), namespaceOf(o), o.Name(), name))
		}
	}
	for w := range out {
		slices.Sort(out[w])
		out[w] = slices.Compact(out[w])
	}
	return out
}

// Service is what routing reads of a Service: where it is, its type and
// the pods it selects.
type Service struct {
	// Namespace is the Service's, "default" when it names none.
	Namespace string
	Type      corev1.ServiceType
	Selector  map[string]string
}

// ServiceOf reads o as a Service; ok is false for anything else and for a
// Service whose type or selector does not decode.
func ServiceOf(o *source.Object) (*Service, bool) {
	if o.Kind() != "Service" || o.Group() != "" {
		return nil, false
	}
	var body struct {
		Spec struct {
			Type     corev1.ServiceType `json:"type,omitempty"`
			Selector map[string]string  `json:"selector,omitempty"`
		} `json:"spec"`
	}
	if typed.FromFields(o.Field, &body) != nil {
		return nil, false
	}
	return &Service{Namespace: namespaceOf(o), Type: body.Spec.Type, Selector: body.Spec.Selector}, true
}

// ExposureFormats are the outputs of WriteExposures.
var ExposureFormats = []string{"table", "json"}

// WriteExposures renders exposures as a table or JSON; with exposedOnly,
// workloads reachable from neither any namespace nor the internet and
// behind no outside route are left out.
func WriteExposures(w io.Writer, format string, exps []Exposure, exposedOnly bool) error {
	type row struct {
		Workload         string   `json:"workload"`
		FromAnyNamespace string   `json:"fromAnyNamespace"`
		FromInternet     string   `json:"fromInternet"`
		Via              []string `json:"via"`
	}
	rows := []row{}
	for _, e := range exps {
		if exposedOnly && e.FromAnyNamespace.IsEmpty() && e.FromInternet.IsEmpty() && len(e.Via) == 0 {
			continue
		}
		via := e.Via
		if via == nil {
			via = []string{}
		}
		rows = append(rows, row{e.Workload.String(), e.FromAnyNamespace.String(), e.FromInternet.String(), via})
	}
	if format == "json" {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "WORKLOAD\tFROM ANY NAMESPACE\tFROM THE INTERNET\tEXPOSED VIA")
	for _, r := range rows {
		via := "-"
		if len(r.Via) > 0 {
			via = strings.Join(r.Via, "; ")
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\n", r.Workload, r.FromAnyNamespace, r.FromInternet, via)
	}
	return tw.Flush()
}

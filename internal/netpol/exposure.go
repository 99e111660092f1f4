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
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeharden/kubeharden/internal/source"
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
	via := exposedVia(m, m.routing)
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

// exposedVia maps workloads to the objects that route outside traffic to
// them: LoadBalancer and NodePort Services that select them, and Ingresses
// and Gateway API routes whose backends are Services that select them.
func exposedVia(m *Model, objs []*source.Object) map[*Workload][]string {
	type svc struct {
		spec corev1.ServiceSpec
		ref  string
	}
	services := map[string]svc{}
	for _, o := range objs {
		var s corev1.Service
		if o.Kind() != "Service" || o.Group() != "" || runtime.DefaultUnstructuredConverter.FromUnstructured(o.Body, &s) != nil {
			continue
		}
		services[namespaceOf(o)+"/"+o.Name()] = svc{s.Spec, "Service " + namespaceOf(o) + "/" + o.Name()}
	}
	selects := func(key string, w *Workload) bool {
		s, ok := services[key]
		ns, _, _ := strings.Cut(key, "/")
		return ok && len(s.spec.Selector) > 0 && ns == w.Namespace && labels.SelectorFromSet(s.spec.Selector).Matches(w.Labels)
	}
	out := map[*Workload][]string{}
	for key, s := range services {
		if s.spec.Type != corev1.ServiceTypeLoadBalancer && s.spec.Type != corev1.ServiceTypeNodePort {
			continue
		}
		for _, w := range m.Workloads {
			if selects(key, w) {
				out[w] = append(out[w], fmt.Sprintf("%s (%s)", s.ref, s.spec.Type))
			}
		}
	}
	for _, o := range objs {
		names := RoutedServices(o)
		if o.Kind() == "Route" && o.Group() == "route.openshift.io" {
			for _, b := range routeBackends(o) {
				names = append(names, b.service)
			}
		}
		for _, name := range names {
			key := namespaceOf(o) + "/" + name
			for _, w := range m.Workloads {
				if selects(key, w) {
					out[w] = append(out[w], fmt.Sprintf("%s %s/%s → Service %s", o.Kind(), namespaceOf(o), o.Name(), name))
				}
			}
		}
	}
	for _, w := range m.Workloads {
		for _, p := range w.Ports {
			if p.HostPort > 0 {
				out[w] = append(out[w], fmt.Sprintf("hostPort %s %d on its nodes' addresses", cmp.Or(p.Protocol, corev1.ProtocolTCP), p.HostPort))
			}
		}
	}
	for w := range out {
		slices.Sort(out[w])
		out[w] = slices.Compact(out[w])
	}
	return out
}

// RoutedServices are the Services (in o's namespace) an Ingress
// (networking.k8s.io/v1 service backends, or the older serviceName) or a
// Gateway API route (backendRefs of kind Service) sends traffic to.
func RoutedServices(o *source.Object) []string {
	isIngress := o.Kind() == "Ingress" && (o.Group() == "networking.k8s.io" || o.Group() == "extensions")
	isRoute := strings.HasSuffix(o.Kind(), "Route") && o.Group() == "gateway.networking.k8s.io"
	if !isIngress && !isRoute {
		return nil
	}
	var out []string
	var walk func(v any)
	walk = func(v any) {
		switch t := v.(type) {
		case map[string]any:
			if s, ok := t["service"].(map[string]any); ok && isIngress {
				if name, _ := s["name"].(string); name != "" {
					out = append(out, name)
				}
			}
			if name, _ := t["serviceName"].(string); name != "" && isIngress {
				out = append(out, name)
			}
			for k, e := range t {
				if k == "backendRefs" && isRoute {
					refs, _ := e.([]any)
					for _, r := range refs {
						rm, _ := r.(map[string]any)
						if kind, _ := rm["kind"].(string); kind == "" || kind == "Service" {
							if name, _ := rm["name"].(string); name != "" {
								out = append(out, name)
							}
						}
					}
					continue
				}
				walk(e)
			}
		case []any:
			for _, e := range t {
				walk(e)
			}
		}
	}
	walk(o.Body["spec"])
	slices.Sort(out)
	return slices.Compact(out)
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

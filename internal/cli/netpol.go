package cli

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	"github.com/spf13/cobra"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubeharden/kubeharden/internal/netpol"
)

// netpolKinds are what the netpol commands read from a live cluster.
var netpolKinds = []string{"Namespace", "NetworkPolicy", "AdminNetworkPolicy", "BaselineAdminNetworkPolicy", "Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob"}

// exposureKinds add what routes outside traffic to workloads.
var exposureKinds = append(slices.Clone(netpolKinds), "Service", "Ingress", "HTTPRoute", "GRPCRoute", "TLSRoute", "TCPRoute", "UDPRoute")

func newNetpolCommand(stdio IO, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "netpol",
		Short: "What NetworkPolicies allow: workload-to-workload connections",
		Long: "The netpol commands evaluate networking.k8s.io/v1 NetworkPolicies with the API's\n" +
			"semantics (policyTypes defaulting, peers, named ports, endPort ranges, additive\n" +
			"policies) over the pods of every workload kind. Workloads are NAMESPACE/NAME.",
	}
	cmd.AddCommand(newNetpolMatrixCommand(stdio, g), newNetpolCanReachCommand(stdio, g), newNetpolExposureCommand(stdio, g), newNetpolDiffCommand(stdio, g))
	return cmd
}

func loadNetpolModel(cmd *cobra.Command, stdio IO, g *globalFlags, in *inputFlags) (*netpol.Model, error) {
	loaded, err := in.load(cmd.Context(), stdio, g.logger(stdio.Err), netpolKinds)
	if err != nil {
		return nil, err
	}
	m := netpol.Build(loaded.Objects)
	for _, e := range m.Errors {
		fmt.Fprintf(stdio.Err, "error: %v\n", e)
	}
	if len(loaded.Errors)+len(m.Errors) > 0 {
		return m, &exitError{code: ExitError, err: fmt.Errorf("%d inputs could not be evaluated (see the errors above)", len(loaded.Errors)+len(m.Errors))}
	}
	return m, nil
}

func newNetpolMatrixCommand(stdio IO, g *globalFlags) *cobra.Command {
	var in inputFlags
	var output string
	cmd := &cobra.Command{
		Use:     "matrix",
		Short:   "List every allowed connection between workloads and outside address ranges, with protocols and ports",
		Example: "  kubeharden netpol matrix -f ./manifests\n  kubeharden netpol matrix --cluster -o dot | dot -Tsvg > net.svg",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, netpol.Formats...); err != nil {
				return err
			}
			m, loadErr := loadNetpolModel(cmd, stdio, g, &in)
			if m == nil {
				return loadErr
			}
			if err := netpol.WriteRows(stdio.Out, output, m.Rows()); err != nil {
				return err
			}
			return loadErr
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table (src => dst : connections), json, csv, dot or markdown")
	return cmd
}

func newNetpolExposureCommand(stdio IO, g *globalFlags) *cobra.Command {
	var in inputFlags
	var output string
	var all bool
	cmd := &cobra.Command{
		Use:   "exposure",
		Short: "What each workload admits from any namespace and from the internet, and what routes outside traffic to it",
		Long: "exposure lists, for every workload, the connections its ingress NetworkPolicies admit from a pod\n" +
			"in any namespace with any labels, and from every public IPv4 address, and the LoadBalancer or\n" +
			"NodePort Services, Ingresses and Gateway API routes in front of it. Workloads reachable from\n" +
			"neither and behind no route are left out unless --all is given.",
		Example: "  kubeharden netpol exposure -f ./manifests\n  kubeharden netpol exposure --cluster -o json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if err := checkFormat(output, netpol.ExposureFormats...); err != nil {
				return err
			}
			loaded, err := in.load(cmd.Context(), stdio, g.logger(stdio.Err), exposureKinds)
			if err != nil {
				return err
			}
			m := netpol.Build(loaded.Objects)
			for _, e := range m.Errors {
				fmt.Fprintf(stdio.Err, "error: %v\n", e)
			}
			if err := netpol.WriteExposures(stdio.Out, output, m.Exposures(), !all); err != nil {
				return err
			}
			if n := len(loaded.Errors) + len(m.Errors); n > 0 {
				return &exitError{code: ExitError, err: fmt.Errorf("%d inputs could not be evaluated (see the errors above)", n)}
			}
			return nil
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	cmd.Flags().BoolVar(&all, "all", false, "list every workload, also those nothing outside can reach")
	return cmd
}

func newNetpolCanReachCommand(stdio IO, g *globalFlags) *cobra.Command {
	var in inputFlags
	var kind, protocol string
	var port int32
	cmd := &cobra.Command{
		Use:   "can-reach SRC DST [--port N] [--protocol TCP|UDP|SCTP]",
		Short: "Whether one workload may connect to another (exit 0 allowed, 1 denied)",
		Long: "can-reach answers whether workload SRC (NAMESPACE/NAME) may open a connection to DST,\n" +
			"on --port and --protocol when given, and prints what each side allows, the policies\n" +
			"that isolate it and the rules that decide. It\n" +
			"exits 0 when allowed and 1 when denied, so scripts can use it.",
		Example: "  kubeharden netpol can-reach shop/web shop/db --port 5432 -f ./manifests",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			proto := corev1.Protocol(strings.ToUpper(protocol))
			if proto != corev1.ProtocolTCP && proto != corev1.ProtocolUDP && proto != corev1.ProtocolSCTP {
				return usageError("--protocol %q: want TCP, UDP or SCTP", protocol)
			}
			if port < 0 || port > 65535 {
				return usageError("--port %d: want 1-65535", port)
			}
			m, loadErr := loadNetpolModel(cmd, stdio, g, &in)
			if m == nil {
				return loadErr
			}
			src, err := findWorkload(m, args[0], kind)
			if err != nil {
				return usageError("%v", err)
			}
			dst, err := findWorkload(m, args[1], kind)
			if err != nil {
				return usageError("%v", err)
			}
			allowed := m.Allowed(src, dst)
			ok := !allowed.IsEmpty()
			if port != 0 {
				ok = allowed.Contains(proto, port)
			}
			verdict := "denied"
			if ok {
				verdict = "allowed"
			}
			what := "any connection"
			if port != 0 {
				what = fmt.Sprintf("%s %d", proto, port)
			}
			fmt.Fprintf(stdio.Out, "%s: %s => %s on %s\n", verdict, src, dst, what)
			egress, ingress := m.Explain(src, dst)
			for _, side := range []struct {
				dir   string
				w     *netpol.Workload
				conns netpol.Conns
				d     netpol.Decision
			}{{"egress", src, m.Egress(src, dst), egress}, {"ingress", dst, m.Ingress(src, dst), ingress}} {
				fmt.Fprintf(stdio.Out, "  %s of %s allows: %s\n", side.dir, side.w, side.conns)
				for _, r := range side.d.Admin {
					fmt.Fprintf(stdio.Out, "    %s %s: %s %s\n", r.Policy, r.Rule, r.Action, r.Conns)
				}
				if len(side.d.Isolating) == 0 {
					fmt.Fprintf(stdio.Out, "    no NetworkPolicy isolates it for %s\n", side.dir)
					continue
				}
				fmt.Fprintf(stdio.Out, "    isolated by %s\n", strings.Join(side.d.Isolating, ", "))
				for _, r := range side.d.Rules {
					fmt.Fprintf(stdio.Out, "    %s %s allows %s\n", r.Policy, r.Rule, r.Conns)
				}
			}
			fmt.Fprintf(stdio.Out, "  together: %s\n", allowed)
			switch {
			case loadErr != nil:
				return loadErr
			case !ok:
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().StringVar(&kind, "kind", "", "workload kind, when NAMESPACE/NAME is ambiguous")
	cmd.Flags().Int32Var(&port, "port", 0, "destination port (default: any)")
	cmd.Flags().StringVar(&protocol, "protocol", "TCP", "protocol of --port")
	return cmd
}

// findWorkload resolves NAMESPACE/NAME (and kind when ambiguous).
func findWorkload(m *netpol.Model, ref, kind string) (*netpol.Workload, error) {
	ns, name, ok := strings.Cut(ref, "/")
	if !ok || ns == "" || name == "" {
		return nil, fmt.Errorf("workload %q: want NAMESPACE/NAME", ref)
	}
	var found []*netpol.Workload
	for _, w := range m.Workloads {
		if w.Namespace == ns && w.Name == name && (kind == "" || strings.EqualFold(w.Kind, kind)) {
			found = append(found, w)
		}
	}
	switch len(found) {
	case 0:
		return nil, fmt.Errorf("workload %s: not found", ref)
	case 1:
		return found[0], nil
	}
	return nil, fmt.Errorf("workload %s is ambiguous (%s, %s, …): name its --kind", ref, found[0].Kind, found[1].Kind)
}

func newNetpolDiffCommand(stdio IO, g *globalFlags) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "diff OLD NEW",
		Short: "Connections a change opens, closes or changes (between two manifest paths)",
		Long: "diff evaluates the NetworkPolicies of OLD and NEW (files or directories) and lists\n" +
			"every connection, between workloads or to and from outside address ranges, that\n" +
			"is added, removed or changed. It exits 1 when something differs.",
		Example: "  kubeharden netpol diff main/ feature-branch/",
		Args:    cobra.ExactArgs(2),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "table", "json"); err != nil {
				return err
			}
			var models [2]*netpol.Model
			var loadErr error
			for i, path := range args {
				in := inputFlags{filenames: []string{path}, maxFileSize: "32Mi"}
				m, err := loadNetpolModel(cmd, stdio, g, &in)
				if m == nil {
					return err
				}
				if err != nil {
					loadErr = err
				}
				models[i] = m
			}
			changes := netpol.Diff(models[0], models[1])
			type changeJSON struct {
				Type string `json:"diffType"`
				Src  string `json:"src"`
				Dst  string `json:"dst"`
				Old  string `json:"old"`
				New  string `json:"new"`
			}
			rows := make([]changeJSON, 0, len(changes))
			for _, c := range changes {
				rows = append(rows, changeJSON{c.Type, c.Src, c.Dst, c.Old.String(), c.New.String()})
			}
			if output == "json" {
				enc := json.NewEncoder(stdio.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(rows); err != nil {
					return err
				}
			} else if len(rows) == 0 {
				fmt.Fprintln(stdio.Out, "No connection differs.")
			} else {
				for _, r := range rows {
					fmt.Fprintf(stdio.Out, "%-8s %s => %s : %s -> %s\n", r.Type, r.Src, r.Dst, r.Old, r.New)
				}
			}
			switch {
			case loadErr != nil:
				return loadErr
			case len(rows) > 0:
				return &exitError{code: ExitFindings}
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

package cli

import (
	"encoding/json"
	"fmt"
	"os"

	"github.com/spf13/cobra"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/report"
)

// nodeFlags choose where a node's facts come from.
type nodeFlags struct {
	root      string
	facts     string
	pids      []int
	manifests string
	noProc    bool
}

func (f *nodeFlags) register(cmd *cobra.Command, withFacts bool) {
	fl := cmd.Flags()
	fl.StringVar(&f.root, "root", "/", "read the node's files under this directory (a captured filesystem); processes are read only when it is /")
	fl.IntSliceVar(&f.pids, "pid", nil, "read only these processes (when several instances of a component run on one host)")
	fl.StringVar(&f.manifests, "manifests", "", "static pod manifest directory (default: the kubelet's, or "+nodeconfig.DefaultManifestDir+")")
	fl.BoolVar(&f.noProc, "no-processes", false, "do not read running processes, only files")
	if withFacts {
		fl.StringVar(&f.facts, "facts", "", "evaluate facts written by `kubeharden node collect` instead of reading this host")
	}
}

// gather collects the node's facts or reads them from --facts.
func (f *nodeFlags) gather(cmd *cobra.Command) (*nodeconfig.Node, error) {
	if f.facts != "" {
		data, err := os.ReadFile(f.facts)
		if err != nil {
			return nil, usageError("--facts: %v", err)
		}
		var n nodeconfig.Node
		if err := json.Unmarshal(data, &n); err != nil {
			return nil, usageError("--facts %s: %v", f.facts, err)
		}
		if n.SchemaVersion != nodeconfig.SchemaVersion {
			return nil, usageError("--facts %s: schemaVersion %q, want %q", f.facts, n.SchemaVersion, nodeconfig.SchemaVersion)
		}
		return &n, nil
	}
	n, err := nodeconfig.Collect(cmd.Context(), nodeconfig.Options{
		Root:        f.root,
		PIDs:        f.pids,
		NoProcesses: f.noProc || (f.root != "" && f.root != "/"),
		ManifestDir: f.manifests,
	})
	if err != nil {
		return nil, usageError("%v", err)
	}
	return n, nil
}

func newNodeCommand(stdio IO, g *globalFlags) *cobra.Command {
	nf := &nodeFlags{}
	sf := &scanFlags{pssVersion: "latest", pssLevel: "restricted", maxFileSize: "32Mi"}
	cmd := &cobra.Command{
		Use:   "node [--root DIR | --facts FILE]",
		Short: "Check this node's control-plane and kubelet configuration against the CIS Kubernetes Benchmark",
		Long: "node discovers the Kubernetes components of the host it runs on (kube-apiserver,\n" +
			"kube-controller-manager, kube-scheduler, etcd, kubelet, kube-proxy) from running processes,\n" +
			"static pod manifests, the kubelet's systemd unit and the configuration files they name, records\n" +
			"the owner and mode of the files the CIS Kubernetes Benchmark names, and reports the benchmark's\n" +
			"findings in the formats and with the exit codes of `scan`. Run it as root on the node, or with\n" +
			"--root on a captured filesystem, or with --facts on facts `kubeharden node collect` wrote.\n" +
			"Components that are not present are not checked; on a node without a visible control plane\n" +
			"(a managed cluster) the control-plane checks do not apply. See docs/cis.md.",
		Example: "  sudo kubeharden node\n" +
			"  kubeharden node --root /mnt/node-capture -o json\n" +
			"  kubeharden node collect > node.json && kubeharden node --facts node.json --fail-on medium",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := g.logger(stdio.Err)
			p, err := sf.plan(stdio, log)
			if err != nil {
				return err
			}
			n, err := nf.gather(cmd)
			if err != nil {
				return err
			}
			for _, note := range n.Notes {
				log.Warn(note)
			}
			switch {
			case len(n.Components) == 0:
				log.Warn("no Kubernetes component found: nothing to check (run as root on a node, or use --root or --facts)")
			case !n.ControlPlaneVisible():
				log.Warn("no control-plane component on this node (a worker, or a managed cluster): the control-plane checks do not apply here; see docs/cis.md#managed-clusters")
			}
			env := check.NewEnv(inventory.Build(nil), p.settings)
			env.Node = n
			outcome, err := p.runner.Run(cmd.Context(), env)
			if err != nil {
				return err
			}
			findings := check.Findings{outcome.Findings}
			if p.baseline != nil {
				findings = p.baseline.FilterNew(findings)
			}
			errs := make([]report.Error, 0, len(n.Problems))
			for _, pr := range n.Problems {
				errs = append(errs, report.Error{Source: pr.Source, Message: pr.Message})
			}
			return p.finish(stdio, len(n.Components)+len(n.Files), findings, errs)
		},
	}
	nf.register(cmd, true)
	sf.registerReportFlags(cmd.Flags())
	cmd.AddCommand(newNodeCollectCommand(stdio))
	return cmd
}

func newNodeCollectCommand(stdio IO) *cobra.Command {
	nf := &nodeFlags{}
	cmd := &cobra.Command{
		Use:   "collect [--root DIR]",
		Short: "Write this node's facts as JSON for offline review (`kubeharden node --facts`)",
		Long: "collect writes what `kubeharden node` reads — components and their flags, the kubelet's config\n" +
			"file, the audit policy, the encryption configuration reduced to provider types and key lengths\n" +
			"(never key material), and the owner and mode of the files the benchmark names — as one JSON\n" +
			"document, so a node can be reviewed somewhere else.",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			n, err := nf.gather(cmd)
			if err != nil {
				return err
			}
			enc := json.NewEncoder(stdio.Out)
			enc.SetIndent("", "  ")
			if err := enc.Encode(n); err != nil {
				return fmt.Errorf("writing facts: %w", err)
			}
			return nil
		},
	}
	nf.register(cmd, false)
	return cmd
}

package cli

import (
	"encoding/json"
	"fmt"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubeharden/kubeharden/internal/probe"
)

func newEtcdCommand(stdio IO, _ *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "etcd",
		Short: "Read-only probes of etcd",
	}
	cmd.AddCommand(newVerifyEncryptionCommand(stdio))
	return cmd
}

func newVerifyEncryptionCommand(stdio IO) *cobra.Command {
	var (
		o      probe.EtcdOptions
		secret string
		limit  int
		output string
	)
	cmd := &cobra.Command{
		Use:   "verify-encryption --endpoints URL [--cacert F --cert F --key F] [--secret NS/NAME]",
		Short: "Prove whether Secrets are encrypted at rest, by reading how etcd stores them",
		Long: "verify-encryption reads Secrets' raw values from etcd with etcd's own client (use the API\n" +
			"server's etcd client certificate) and reports, for each, whether the stored bytes begin with\n" +
			"the k8s:enc: prefix the API server's encryption providers write, and which provider and key.\n" +
			"It reads only Secrets (one named with --secret, or up to --limit found by a keys-only listing),\n" +
			"never prints a value, and writes nothing.\n\n" +
			"Exit codes: 0 every Secret read is encrypted; 1 one is stored in plain text; 2 etcd could not be read.",
		Example: "  kubeharden etcd verify-encryption --endpoints https://127.0.0.1:2379 \\\n" +
			"    --cacert /etc/kubernetes/pki/etcd/ca.crt \\\n" +
			"    --cert /etc/kubernetes/pki/apiserver-etcd-client.crt --key /etc/kubernetes/pki/apiserver-etcd-client.key",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output != "table" && output != "json" {
				return usageError("--output %q: want table or json", output)
			}
			var ns, name string
			if secret != "" {
				var ok bool
				if ns, name, ok = strings.Cut(secret, "/"); !ok || ns == "" || name == "" {
					return usageError("--secret %q: want NAMESPACE/NAME", secret)
				}
			}
			if limit <= 0 {
				return usageError("--limit must be positive")
			}
			found, err := probe.VerifyEncryption(cmd.Context(), o, ns, name, limit)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			if output == "json" {
				enc := json.NewEncoder(stdio.Out)
				enc.SetIndent("", "  ")
				if err := enc.Encode(map[string]any{"secrets": found}); err != nil {
					return err
				}
			} else {
				tw := tabwriter.NewWriter(stdio.Out, 0, 4, 2, ' ', 0)
				fmt.Fprintln(tw, "SECRET\tSTORED\tPROVIDER\tKEY")
				for _, s := range found {
					stored, provider := "plain text ("+s.Format+")", "-"
					if s.Encrypted {
						stored, provider = "encrypted", s.Provider+" "+s.Version
					}
					fmt.Fprintf(tw, "%s/%s\t%s\t%s\t%s\n", s.Namespace, s.Name, stored, provider, orDash(s.KeyName))
				}
				if err := tw.Flush(); err != nil {
					return err
				}
			}
			for _, s := range found {
				if !s.Encrypted {
					return &exitError{code: ExitFindings}
				}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringSliceVar(&o.Endpoints, "endpoints", []string{"https://127.0.0.1:2379"}, "etcd client URLs")
	fl.StringVar(&o.CACert, "cacert", "", "CA certificate that signed etcd's serving certificate")
	fl.StringVar(&o.Cert, "cert", "", "etcd client certificate (the API server's --etcd-certfile)")
	fl.StringVar(&o.Key, "key", "", "etcd client key (the API server's --etcd-keyfile)")
	fl.StringVar(&o.Prefix, "prefix", "/registry", "the API server's --etcd-prefix")
	fl.DurationVar(&o.Timeout, "timeout", 10*time.Second, "time allowed for connecting and reading")
	fl.StringVar(&secret, "secret", "", "check this Secret (NAMESPACE/NAME) only")
	fl.IntVar(&limit, "limit", 10, "how many Secrets to check when --secret is not given")
	fl.StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

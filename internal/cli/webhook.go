package cli

import (
	"fmt"
	"os"
	"os/signal"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/spf13/cobra"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeharden/kubeharden/internal/admission"
	"github.com/kubeharden/kubeharden/internal/source"
)

func newWebhookCommand(stdio IO, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "webhook",
		Short: "The admission webhook: the scan catalogue enforced at admission",
		Long: "The webhook evaluates every admitted object with the same checks, messages and\n" +
			"fingerprints as `kubeharden scan`, and denies, warns or audits by its configuration\n" +
			"(docs/webhook.md).",
	}
	cmd.AddCommand(newWebhookServeCommand(stdio, g), newWebhookManifestsCommand(stdio))
	return cmd
}

func newWebhookServeCommand(stdio IO, g *globalFlags) *cobra.Command {
	var (
		configFile, certFile, keyFile string
		opts                          admission.ServerOptions
		readRBAC                      bool
		conn                          clusterFlags
	)
	cmd := &cobra.Command{
		Use:   "serve --tls-cert FILE --tls-key FILE [--config FILE]",
		Short: "Serve AdmissionReviews over HTTPS (/validate, /mutate, /healthz, /readyz, /metrics)",
		Example: "  kubeharden webhook serve --config webhook.yaml --tls-cert tls.crt --tls-key tls.key\n" +
			"  kubeharden webhook serve --tls-cert tls.crt --tls-key tls.key --listen 127.0.0.1:9443",
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			log := g.logger(stdio.Err)
			if certFile == "" || keyFile == "" {
				return usageError("--tls-cert and --tls-key are required")
			}
			cfg, err := admission.LoadConfig(configFile)
			if err != nil {
				return usageError("%v", err)
			}
			ctx, stop := signal.NotifyContext(cmd.Context(), os.Interrupt, syscall.SIGTERM)
			defer stop()
			var accounts admission.AccountPermissions
			if readRBAC {
				rc, err := source.RESTConfig(conn.options(stdio.Err, false))
				if err != nil {
					return &exitError{code: ExitError, err: err}
				}
				client, err := kubernetes.NewForConfig(rc)
				if err != nil {
					return &exitError{code: ExitError, err: err}
				}
				if accounts, err = admission.NewClusterAccounts(ctx, client, time.Minute, log); err != nil {
					return &exitError{code: ExitError, err: fmt.Errorf("reading RBAC for the automount mutation: %w", err)}
				}
			} else if cfg.Mutate.AutomountServiceAccountToken {
				return usageError("mutate.automountServiceAccountToken needs --read-rbac")
			}
			tuneGC(stdio)
			opts.CertFile, opts.KeyFile = certFile, keyFile
			reviewer, err := admission.NewReviewer(cfg, accounts, log, nil)
			if err != nil {
				return usageError("%v", err)
			}
			srv, err := admission.NewServer(opts, reviewer, log)
			if err != nil {
				return &exitError{code: ExitError, err: err}
			}
			return srv.Serve(ctx)
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&configFile, "config", "", "webhook configuration file (docs/webhook.md); defaults when empty")
	fl.StringVar(&certFile, "tls-cert", "", "serving certificate (PEM), reloaded when it changes")
	fl.StringVar(&keyFile, "tls-key", "", "serving key (PEM), reloaded when it changes")
	fl.StringVar(&opts.Listen, "listen", ":8443", "address to listen on")
	fl.IntVar(&opts.MaxInFlight, "max-in-flight", 64, "requests evaluated at once; more wait up to 100 ms, then get 429")
	fl.DurationVar(&opts.RequestTimeout, "request-timeout", 9*time.Second, "give up on a request after this long (keep it under the webhook's timeoutSeconds)")
	fl.Int64Var(&opts.MaxBodyBytes, "max-body-bytes", 7<<20, "largest request body accepted")
	fl.BoolVar(&readRBAC, "read-rbac", false, "list RBAC objects (in-cluster account or --kubeconfig) for the automount mutation")
	conn.registerConnection(fl)
	return cmd
}

func newWebhookManifestsCommand(stdio IO) *cobra.Command {
	var o admission.ManifestOptions
	var caFile string
	cmd := &cobra.Command{
		Use:   "manifests --namespace NS --image IMAGE",
		Short: "Write the webhook's ServiceAccount, ConfigMap, Service, Deployment and webhook configurations",
		Long: "manifests writes everything the webhook needs except its TLS Secret (NAME-tls, type\n" +
			"kubernetes.io/tls) and namespace. Without --ca-bundle the webhook configurations carry\n" +
			"cert-manager's inject-ca-from annotation. failurePolicy Fail (the default) blocks the\n" +
			"matched requests while no replica answers; Ignore admits them unchecked. The\n" +
			"Deployment is hardened and scans clean when the image is pinned by digest.",
		Example: "  kubeharden webhook manifests --namespace kubeharden --image registry.example.com/kubeharden@sha256:… > webhook.yaml",
		Args:    cobra.NoArgs,
		RunE: func(_ *cobra.Command, _ []string) error {
			if o.Namespace == "" || o.Image == "" {
				return usageError("--namespace and --image are required")
			}
			if caFile != "" {
				ca, err := os.ReadFile(caFile)
				if err != nil {
					return usageError("--ca-bundle: %v", err)
				}
				o.CABundle = ca
			}
			data, err := admission.Manifests(o)
			if err != nil {
				return usageError("%v", err)
			}
			_, err = stdio.Out.Write(data)
			return err
		},
	}
	fl := cmd.Flags()
	fl.StringVarP(&o.Namespace, "namespace", "n", "", "namespace of the webhook (excluded from admission with kube-system)")
	fl.StringVar(&o.Name, "name", "kubeharden-webhook", "name of the objects")
	fl.StringVar(&o.Image, "image", "", "kubeharden image, pinned by digest")
	fl.StringVar(&o.FailurePolicy, "failure-policy", "Fail", "Fail or Ignore")
	fl.Int32Var(&o.TimeoutSeconds, "timeout-seconds", 5, "how long the API server waits for the webhook (1-30)")
	fl.BoolVar(&o.Mutate, "mutate", false, "add the mutating webhook (secure defaults)")
	fl.BoolVar(&o.ReadRBAC, "read-rbac", false, "with --mutate: let the webhook read RBAC to unset token automount for accounts without permissions")
	fl.StringVar(&caFile, "ca-bundle", "", "PEM file of the CA that signed the serving certificate")
	fl.Int32Var(&o.Replicas, "replicas", 2, "Deployment replicas")
	return cmd
}

// tuneGC trades memory for latency in the long-running webhook: its live
// heap is small, so the collector runs a quarter as often (GOGC 400) under
// a soft limit well below the Deployment's 256Mi. GOGC or GOMEMLIMIT in
// the environment win.
func tuneGC(stdio IO) {
	if stdio.Getenv("GOGC") == "" {
		debug.SetGCPercent(400)
	}
	if stdio.Getenv("GOMEMLIMIT") == "" {
		debug.SetMemoryLimit(192 << 20)
	}
}

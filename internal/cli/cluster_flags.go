package cli

import (
	"fmt"
	"io"
	"time"

	"github.com/spf13/pflag"

	"github.com/kubeharden/kubeharden/internal/source"
)

// clusterFlags are the live-cluster flags shared by scan and snapshot,
// named as kubectl names them.
type clusterFlags struct {
	kubeconfig, context, namespace string
	excludeNamespaces, kinds       []string
	qps                            float32
	burst                          int
	timeout                        time.Duration
}

func (c *clusterFlags) register(fl *pflag.FlagSet) {
	fl.StringVarP(&c.namespace, "namespace", "n", "", "read only this namespace's objects (default: all namespaces and cluster-scoped objects)")
	fl.StringSliceVar(&c.excludeNamespaces, "exclude-namespaces", nil, "namespaces to skip")
	fl.StringSliceVar(&c.kinds, "kinds", nil, "list only these kinds or resources (e.g. Deployment,Role)")
	c.registerConnection(fl)
}

// registerConnection registers only how to reach the cluster, for commands
// that read a fixed set of kinds and use -n for something else.
func (c *clusterFlags) registerConnection(fl *pflag.FlagSet) {
	fl.StringVar(&c.kubeconfig, "kubeconfig", "", "kubeconfig file (default: $KUBECONFIG, then ~/.kube/config, then in-cluster)")
	fl.StringVar(&c.context, "context", "", "kubeconfig context (default: the current context)")
	fl.Float32Var(&c.qps, "qps", 50, "API requests per second")
	fl.IntVar(&c.burst, "burst", 100, "API request burst")
	fl.DurationVar(&c.timeout, "timeout", 10*time.Minute, "give up reading the cluster after this long")
}

func (c *clusterFlags) options(progress io.Writer, showProgress bool) source.ClusterOptions {
	o := source.ClusterOptions{
		Kubeconfig:        c.kubeconfig,
		Context:           c.context,
		Namespace:         c.namespace,
		ExcludeNamespaces: c.excludeNamespaces,
		Kinds:             c.kinds,
		QPS:               c.qps,
		Burst:             c.burst,
		Timeout:           c.timeout,
	}
	if showProgress {
		o.Progress = func(listed, total, objects int) {
			fmt.Fprintf(progress, "\r\x1b[Klisting resources %d/%d, %d objects", listed, total, objects)
			if listed == total {
				fmt.Fprintln(progress)
			}
		}
	}
	return o
}

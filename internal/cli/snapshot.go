package cli

import (
	"errors"
	"fmt"
	"time"

	"github.com/spf13/cobra"

	"github.com/kubeharden/kubeharden/internal/source"
)

func newSnapshotCommand(stdio IO, g *globalFlags) *cobra.Command {
	var (
		output  string
		cluster clusterFlags
	)
	cmd := &cobra.Command{
		Use:   "snapshot -o FILE",
		Short: "Capture a live cluster's objects for offline scans (secret values are never written)",
		Long: "snapshot lists every listable resource of the cluster, custom resources included, and writes\n" +
			"them as a JSON List (gzip-compressed when FILE ends in .gz), streaming, so the cluster is never\n" +
			"held in memory. managedFields are dropped; Secret values (data, stringData and the\n" +
			"last-applied-configuration annotation) are removed and their keys kept.\n" +
			"Scan it later with: kubeharden scan --snapshot FILE",
		Example: "  kubeharden snapshot -o prod.json.gz\n  kubeharden snapshot --context prod -n payments -o payments.json",
		Args:    cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if output == "" {
				return usageError("snapshot needs -o FILE")
			}
			w, err := source.CreateSnapshot(output)
			if err != nil {
				return usageError("%v", err)
			}
			opts := cluster.options(stdio.Err, stdio.ErrIsTerminal)
			info, err := source.ProbeCluster(opts)
			if err != nil {
				w.Close()
				return &exitError{code: ExitError, err: err}
			}
			if err := w.Begin(info, time.Now()); err != nil {
				w.Close()
				return &exitError{code: ExitError, err: fmt.Errorf("writing snapshot: %w", err)}
			}
			opts.Sink = w.Write
			res, _, err := source.LoadCluster(cmd.Context(), opts)
			if closeErr := w.Close(); err == nil {
				err = closeErr
			}
			if err != nil {
				return &exitError{code: ExitError, err: fmt.Errorf("writing snapshot: %w", err)}
			}
			fmt.Fprintf(stdio.Err, "wrote %d objects from %s to %s\n", w.Count(), info.Host, output)
			for _, e := range res.Errors {
				fmt.Fprintf(stdio.Err, "  %s: %s\n", e.Source, e.Err)
			}
			if len(res.Errors) > 0 {
				return &exitError{code: ExitError, err: errors.New("some resources could not be read (listed above)")}
			}
			g.logger(stdio.Err).Debug("snapshot written", "objects", w.Count())
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "", "snapshot file to write (.json or .json.gz)")
	cluster.register(cmd.Flags())
	return cmd
}

package cli

import (
	"github.com/spf13/cobra"

	"github.com/kubeharden/kubeharden/internal/checks"
	"github.com/kubeharden/kubeharden/internal/report"
)

func newChecksCommand(stdio IO) *cobra.Command {
	var output string
	cmd := &cobra.Command{
		Use:   "checks",
		Short: "List the check catalogue",
		Example: "  kubeharden checks\n" +
			"  kubeharden checks -o json\n" +
			"  kubeharden checks -o markdown > docs/checks.md",
		Args: cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			format, err := report.ParseFormat(output)
			if err != nil {
				return usageError("%v", err)
			}
			reg, err := checks.Registry()
			if err != nil {
				return err
			}
			if err := report.WriteCatalogue(stdio.Out, format, reg.Checks()); err != nil {
				return usageError("%v", err)
			}
			return nil
		},
	}
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json or markdown")
	return cmd
}

package cli

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/spf13/pflag"
	"k8s.io/apimachinery/pkg/api/resource"

	"github.com/kubeharden/kubeharden/internal/source"
)

// inputFlags are how the analysis commands (rbac, …) read objects:
// -f/--filename paths as kubectl takes them, a snapshot, or the live
// cluster.
type inputFlags struct {
	filenames   []string
	snapshot    string
	cluster     bool
	maxFileSize string
	conn        clusterFlags
}

func (f *inputFlags) register(fl *pflag.FlagSet) {
	fl.StringArrayVarP(&f.filenames, "filename", "f", nil, "manifest file or directory (repeatable; - for stdin); Helm charts and Kustomize directories are rendered")
	fl.StringVar(&f.snapshot, "snapshot", "", "read a snapshot written by `kubeharden snapshot`")
	fl.BoolVar(&f.cluster, "cluster", false, "read the live cluster of the current kubeconfig context")
	fl.StringVar(&f.maxFileSize, "max-file-size", "32Mi", "refuse any single input larger than this")
	f.conn.registerConnection(fl)
}

// load reads every input, listing only kinds from a live cluster. Input
// errors are logged, naming their source; the rest is used.
func (f *inputFlags) load(ctx context.Context, stdio IO, log *slog.Logger, kinds []string) (*source.Result, error) {
	if len(f.filenames) == 0 && f.snapshot == "" && !f.cluster {
		return nil, usageError("name the objects to read: -f PATH, --snapshot FILE or --cluster")
	}
	maxSize, err := resource.ParseQuantity(f.maxFileSize)
	if err != nil || maxSize.Value() <= 0 {
		return nil, usageError("--max-file-size %q: want a size such as 32Mi", f.maxFileSize)
	}
	var co *source.ClusterOptions
	if f.cluster {
		o := f.conn.options(stdio.Err, stdio.ErrIsTerminal)
		o.Kinds = kinds
		co = &o
	}
	loaded, _, err := loadInputs(ctx, log, source.Options{MaxFileSize: maxSize.Value(), Stdin: stdio.In}, f.filenames, f.snapshot, co)
	if err != nil {
		return nil, err
	}
	source.SortErrors(loaded.Errors)
	for _, e := range loaded.Errors {
		fmt.Fprintf(stdio.Err, "error: %v\n", e)
	}
	return loaded, nil
}

// inputErrors is the exit error for inputs that could not be read, after
// the command has answered with the rest.
func inputErrors(r *source.Result) error {
	if len(r.Errors) == 0 {
		return nil
	}
	return &exitError{code: ExitError, err: fmt.Errorf("%d inputs could not be read (see the errors above)", len(r.Errors))}
}

// Package cli holds kubeharden's commands: flags and wiring only; the
// analysis lives in the engine and model packages.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"runtime/debug"

	"github.com/spf13/cobra"
)

// Exit codes, as documented in ARCHITECTURE.md.
const (
	ExitOK       = 0
	ExitFindings = 1
	ExitError    = 2
)

// IO is the process's standard streams, injected for tests.
type IO struct {
	In       io.Reader
	Out, Err io.Writer
	// OutIsTerminal enables colour in the table unless NO_COLOR is set.
	OutIsTerminal bool
	// ErrIsTerminal enables progress lines on stderr.
	ErrIsTerminal bool
	// Getenv reads the environment (os.Getenv by default).
	Getenv func(string) string
}

// exitError carries an exit code through cobra.
type exitError struct {
	code int
	err  error
}

func (e *exitError) Error() string {
	if e.err == nil {
		return fmt.Sprintf("exit %d", e.code)
	}
	return e.err.Error()
}

func (e *exitError) Unwrap() error { return e.err }

// Version is the build's version string.
func Version() string {
	info, ok := debug.ReadBuildInfo()
	if ok && info.Main.Version != "" && info.Main.Version != "(devel)" {
		return info.Main.Version
	}
	return "dev"
}

// Run executes kubeharden with args and returns the exit code.
func Run(ctx context.Context, args []string, stdio IO) int {
	if stdio.Getenv == nil {
		stdio.Getenv = os.Getenv
	}
	root := newRoot(stdio)
	root.SetArgs(args)
	root.SetIn(stdio.In)
	root.SetOut(stdio.Out)
	root.SetErr(stdio.Err)
	err := root.ExecuteContext(ctx)
	if err == nil {
		return ExitOK
	}
	var ee *exitError
	if errors.As(err, &ee) {
		if ee.err != nil {
			fmt.Fprintln(stdio.Err, "Error:", ee.err)
		}
		return ee.code
	}
	fmt.Fprintln(stdio.Err, "Error:", err)
	return ExitError
}

type globalFlags struct {
	verbose bool
}

func newRoot(stdio IO) *cobra.Command {
	g := &globalFlags{}
	root := &cobra.Command{
		Use:   "kubeharden",
		Short: "Take a Kubernetes cluster through the whole hardening checklist",
		Long: "kubeharden checks Kubernetes manifests, Helm charts and Kustomize directories against\n" +
			"the Pod Security Standards, the CIS Kubernetes Benchmark and hardening best practice,\n" +
			"and reports as a table, JSON, SARIF, JUnit or Markdown.",
		SilenceUsage:  true,
		SilenceErrors: true,
		Version:       Version(),
	}
	root.PersistentFlags().BoolVarP(&g.verbose, "verbose", "v", false, "log progress and details to stderr")
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error {
		return &exitError{code: ExitError, err: err}
	})
	root.AddCommand(newScanCommand(stdio, g), newSnapshotCommand(stdio, g), newRBACCommand(stdio, g), newWebhookCommand(stdio, g), newNetpolCommand(stdio, g), newNodeCommand(stdio, g), newEtcdCommand(stdio, g), newChecksCommand(stdio), newVersionCommand(stdio))
	return root
}

func (g *globalFlags) logger(w io.Writer) *slog.Logger {
	level := slog.LevelWarn
	if g.verbose {
		level = slog.LevelDebug
	}
	return slog.New(slog.NewTextHandler(w, &slog.HandlerOptions{Level: level}))
}

// usageError marks a problem with the command line (exit 2).
func usageError(format string, args ...any) error {
	return &exitError{code: ExitError, err: fmt.Errorf(format, args...)}
}

package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
)

const (
	ansiReset = "\x1b[0m"
	ansiBold  = "\x1b[1m"
	ansiDim   = "\x1b[2m"
)

var severityColor = map[check.Severity]string{
	check.Critical: "\x1b[1;31m",
	check.High:     "\x1b[31m",
	check.Medium:   "\x1b[33m",
	check.Low:      "\x1b[36m",
	check.Info:     "\x1b[2m",
}

// writeTable prints findings grouped by object, worst first within each
// object, then a summary and the inputs that could not be read.
func writeTable(w io.Writer, r *Report, opts Options) error {
	ew := &errWriter{w: w}
	paint := func(code, s string) string {
		if !opts.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	for _, group := range objectGroups(r.Findings) {
		head := group[0]
		title := head.Object.String()
		if f := sourceFile(head); f != "" {
			title += "  " + paint(ansiDim, f)
		}
		ew.printf("%s\n", paint(ansiBold, title))
		idWidth := 0
		for _, f := range group {
			idWidth = max(idWidth, len(f.Check))
		}
		for _, f := range group {
			sev := fmt.Sprintf("%-8s", strings.ToUpper(f.Severity.String()))
			ew.printf("  %s  %-*s  %s\n", paint(severityColor[f.Severity], sev), idWidth, f.Check, f.Message)
			if at := fieldLocation(f); at != "" {
				ew.printf("  %-8s  %-*s  %s\n", "", idWidth, "", paint(ansiDim, at))
			}
		}
		ew.printf("\n")
	}
	if len(r.Findings) == 0 {
		ew.printf("No findings.\n")
	}
	var counts []string
	for _, s := range check.Severities() {
		if n := r.Summary.BySeverity[s.String()]; n > 0 {
			counts = append(counts, paint(severityColor[s], fmt.Sprintf("%d %s", n, s)))
		}
	}
	summary := fmt.Sprintf("%d objects scanned, %d findings", r.Summary.Objects, r.Summary.Findings)
	if len(counts) > 0 {
		summary += " (" + strings.Join(counts, ", ") + ")"
	}
	ew.printf("%s\n", summary)
	if len(r.Errors) > 0 {
		noun := "inputs"
		if len(r.Errors) == 1 {
			noun = "input"
		}
		ew.printf("\n%s\n", paint(ansiBold, fmt.Sprintf("%d %s could not be read:", len(r.Errors), noun)))
		for _, e := range r.Errors {
			ew.printf("  %s: %s\n", e.Source, e.Message)
		}
	}
	return ew.err
}

// errWriter keeps the first write error so rendering code stays linear.
type errWriter struct {
	w   io.Writer
	err error
}

func (e *errWriter) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

// fieldLocation is "at PATH (line N)": where in the object the finding is.
func fieldLocation(f check.Finding) string {
	switch {
	case f.Path != "" && f.Source != nil && f.Source.Line > 0:
		return fmt.Sprintf("at %s (line %d)", f.Path, f.Source.Line)
	case f.Path != "":
		return "at " + f.Path
	case f.Source != nil && f.Source.Line > 0:
		return fmt.Sprintf("at line %d", f.Source.Line)
	}
	return ""
}

package report

import (
	"fmt"
	"io"
	"strconv"
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
	labels := map[check.Severity]string{}
	for _, s := range check.Severities() {
		labels[s] = severityLabel(s)
	}
	paint := func(code, s string) string {
		if !opts.Color || code == "" {
			return s
		}
		return code + s + ansiReset
	}
	// Each object's block is rendered on its own (in parallel, written in
	// order): a large scan has hundreds of thousands of rows.
	findings := r.Findings.Index()
	groups := objectGroups(findings)
	ew.err = writeOrdered(w, len(groups), func() itemEncoder {
		return func(b []byte, i int) []byte {
			return appendGroup(b, findings, groups[i], labels, opts.Color)
		}
	})
	if findings.Len() == 0 {
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

// appendGroup appends one object's block: its title (and file), a row per
// finding with the field it is about, and a blank line.
func appendGroup(b []byte, fs check.FindingIndex, group span, labels map[check.Severity]string, colour bool) []byte {
	head := fs.At(group.start)
	if colour {
		b = append(b, ansiBold...)
	}
	b = append(b, head.Object.String()...)
	if f := head.File(); f != "" {
		b = append(b, "  "...)
		b = appendPainted(b, colour, ansiDim, f)
	}
	if colour {
		b = append(b, ansiReset...)
	}
	b = append(b, '\n')
	idWidth := 0
	for i := group.start; i < group.end; i++ {
		idWidth = max(idWidth, len(fs.At(i).Check))
	}
	for i := group.start; i < group.end; i++ {
		f := fs.At(i)
		b = append(b, "  "...)
		label, ok := labels[f.Severity]
		if !ok {
			label = severityLabel(f.Severity)
		}
		b = appendPainted(b, colour, severityColor[f.Severity], label)
		b = append(b, "  "...)
		b = appendPadded(b, f.Check, idWidth)
		b = append(b, "  "...)
		b = append(b, f.Message...)
		b = append(b, '\n')
		if f.Path != "" || f.Source.Line > 0 {
			b = appendPadded(b, "", 2+8+2+idWidth+2)
			if colour {
				b = append(b, ansiDim...)
			}
			b = appendFieldLocation(b, f)
			if colour {
				b = append(b, ansiReset...)
			}
			b = append(b, '\n')
		}
	}
	return append(b, '\n')
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

// appendFieldLocation appends "at PATH (line N)": where in the object the
// finding is. The caller checks there is a path or a line.
func appendFieldLocation(b []byte, f *check.Finding) []byte {
	b = append(b, "at "...)
	line := f.Source.Line
	switch {
	case f.Path != "" && line > 0:
		b = append(b, f.Path...)
		b = append(b, " (line "...)
		b = strconv.AppendInt(b, int64(line), 10)
		b = append(b, ')')
	case f.Path != "":
		b = append(b, f.Path...)
	default:
		b = append(b, "line "...)
		b = strconv.AppendInt(b, int64(line), 10)
	}
	return b
}

// severityLabel is the severity in capitals, padded to the widest.
func severityLabel(s check.Severity) string {
	label := strings.ToUpper(s.String())
	return label + strings.Repeat(" ", max(0, 8-len(label)))
}

func appendPainted(b []byte, colour bool, code, s string) []byte {
	if !colour || code == "" {
		return append(b, s...)
	}
	b = append(b, code...)
	b = append(b, s...)
	return append(b, ansiReset...)
}

// appendPadded appends s and spaces up to width (check IDs are ASCII).
func appendPadded(b []byte, s string, width int) []byte {
	b = append(b, s...)
	for range width - len(s) {
		b = append(b, ' ')
	}
	return b
}

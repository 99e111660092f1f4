// Package report renders scan results: a human table, JSON (the stable
// kubeharden.io/report/v1 schema), SARIF 2.1.0, JUnit XML and Markdown.
package report

import (
	"bufio"
	"fmt"
	"io"
	"slices"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
)

// SchemaVersion is the JSON report's schema identifier.
const SchemaVersion = "kubeharden.io/report/v1"

// Report is everything a renderer needs.
type Report struct {
	SchemaVersion string         `json:"schemaVersion"`
	Tool          Tool           `json:"tool"`
	Summary       Summary        `json:"summary"`
	Findings      check.Findings `json:"findings"`
	Errors        []Error        `json:"errors"`

	// Checks are the catalogue entries that ran (SARIF rules, JUnit
	// suites); not part of the JSON schema.
	Checks []*check.Check `json:"-"`
}

// Tool names the producer.
type Tool struct {
	Name    string `json:"name"`
	Version string `json:"version"`
}

// Summary counts what was scanned and found.
type Summary struct {
	Objects    int            `json:"objects"`
	Findings   int            `json:"findings"`
	BySeverity map[string]int `json:"bySeverity"`
}

// Error is an input that could not be read.
type Error struct {
	Source  string `json:"source"`
	Message string `json:"message"`
}

// New assembles a report and computes its summary.
func New(version string, objects int, findings check.Findings, errs []Error, checks []*check.Check) *Report {
	if errs == nil {
		errs = []Error{}
	}
	r := &Report{
		SchemaVersion: SchemaVersion,
		Tool:          Tool{Name: "kubeharden", Version: version},
		Findings:      findings,
		Errors:        errs,
		Checks:        checks,
	}
	r.Summary = Summary{Objects: objects, Findings: findings.Len(), BySeverity: map[string]int{}}
	var counts [check.Critical + 1]int
	for _, part := range findings {
		for i := range part {
			if s := part[i].Severity; s >= check.Info && s <= check.Critical {
				counts[s]++
			} else {
				r.Summary.BySeverity[s.String()]++
			}
		}
	}
	for _, s := range check.Severities() {
		r.Summary.BySeverity[s.String()] = counts[s]
	}
	return r
}

// Format is an output format name.
type Format string

// The formats.
const (
	Table    Format = "table"
	JSON     Format = "json"
	SARIF    Format = "sarif"
	JUnit    Format = "junit"
	Markdown Format = "markdown"
)

// Formats lists every format.
func Formats() []Format { return []Format{Table, JSON, SARIF, JUnit, Markdown} }

// ParseFormat checks a format name.
func ParseFormat(s string) (Format, error) {
	f := Format(strings.ToLower(s))
	if slices.Contains(Formats(), f) {
		return f, nil
	}
	names := make([]string, 0, len(Formats()))
	for _, f := range Formats() {
		names = append(names, string(f))
	}
	return "", fmt.Errorf("unknown output format %q (want %s)", s, strings.Join(names, ", "))
}

// Options tune rendering.
type Options struct {
	// Color enables ANSI colours in the table.
	Color bool
}

// Write renders r in format f.
func Write(w io.Writer, f Format, r *Report, opts Options) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	if err := write(bw, f, r, opts); err != nil {
		return err
	}
	return bw.Flush()
}

func write(w io.Writer, f Format, r *Report, opts Options) error {
	switch f {
	case Table:
		return writeTable(w, r, opts)
	case JSON:
		return writeJSON(w, r)
	case SARIF:
		return writeSARIF(w, r)
	case JUnit:
		return writeJUnit(w, r)
	case Markdown:
		return writeMarkdown(w, r)
	}
	return fmt.Errorf("unknown output format %q", f)
}

// span is the findings at positions [start, end).
type span struct{ start, end int }

// objectGroups splits sorted findings into runs about the same object (a
// run may cross from one part of the findings into the next).
func objectGroups(fs check.FindingIndex) []span {
	var groups []span
	for i := 0; i < fs.Len(); {
		j := i + 1
		for j < fs.Len() && sameObject(fs.At(i), fs.At(j)) {
			j++
		}
		groups = append(groups, span{i, j})
		i = j
	}
	return groups
}

func sameObject(a, b *check.Finding) bool {
	// The findings of one object share its reference.
	return (a.Object == b.Object || *a.Object == *b.Object) && a.File() == b.File()
}

func location(f *check.Finding) string {
	if f.Source == (check.Source{}) {
		return ""
	}
	if f.Source.Line > 0 {
		return fmt.Sprintf("%s:%d", f.Source.File, f.Source.Line)
	}
	return f.Source.File
}

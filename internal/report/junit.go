package report

import (
	"encoding/xml"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
)

type junitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Name     string       `xml:"name,attr"`
	Tests    int          `xml:"tests,attr"`
	Failures int          `xml:"failures,attr"`
	Errors   int          `xml:"errors,attr"`
	Suites   []junitSuite `xml:"testsuite"`
}

type junitSuite struct {
	Name     string      `xml:"name,attr"`
	Tests    int         `xml:"tests,attr"`
	Failures int         `xml:"failures,attr"`
	Errors   int         `xml:"errors,attr"`
	Cases    []junitCase `xml:"testcase"`
}

type junitCase struct {
	Name      string        `xml:"name,attr"`
	Classname string        `xml:"classname,attr"`
	File      string        `xml:"file,attr,omitempty"`
	Line      int           `xml:"line,attr,omitempty"`
	Failure   *junitProblem `xml:"failure,omitempty"`
	Error     *junitProblem `xml:"error,omitempty"`
}

type junitProblem struct {
	Message string `xml:"message,attr"`
	Type    string `xml:"type,attr"`
	Text    string `xml:",chardata"`
}

// writeJUnit writes one suite per check that ran: a failed case per
// finding, or one passing case when the check found nothing; and a suite
// for inputs that could not be read.
func writeJUnit(w io.Writer, r *Report) error {
	bySuite := map[string][]junitCase{}
	for _, f := range r.Findings.All() {
		c := junitCase{
			Name:      f.Object.String(),
			Classname: f.Check,
			Failure: &junitProblem{
				Message: f.Message,
				Type:    f.Severity.String(),
				Text:    strings.TrimSpace(fmt.Sprintf("%s\nfield: %s\nfix: %s", f.Message, f.Path, f.Remediation)),
			},
		}
		if f.Container != "" {
			c.Name += " container " + f.Container
		}
		if f.Source.File != "" {
			c.File, c.Line = f.Source.File, f.Source.Line
		}
		bySuite[f.Check] = append(bySuite[f.Check], c)
	}
	out := junitSuites{Name: "kubeharden"}
	for _, ch := range r.Checks {
		cases := bySuite[ch.ID]
		delete(bySuite, ch.ID)
		if len(cases) == 0 {
			cases = []junitCase{{Name: "no findings", Classname: ch.ID}}
		}
		out.Suites = append(out.Suites, suiteOf(ch.ID, cases))
	}
	// Findings of checks the report does not list (a caller passed no
	// catalogue) still appear, in a stable order.
	for _, id := range slices.Sorted(maps.Keys(bySuite)) {
		out.Suites = append(out.Suites, suiteOf(id, bySuite[id]))
	}
	if len(r.Errors) > 0 {
		var cases []junitCase
		for _, e := range r.Errors {
			cases = append(cases, junitCase{Name: e.Source, Classname: "inputs", Error: &junitProblem{Message: e.Message, Type: "input", Text: e.Message}})
		}
		out.Suites = append(out.Suites, suiteOf("inputs", cases))
	}
	for _, s := range out.Suites {
		out.Tests += s.Tests
		out.Failures += s.Failures
		out.Errors += s.Errors
	}
	if _, err := io.WriteString(w, xml.Header); err != nil {
		return err
	}
	enc := xml.NewEncoder(w)
	enc.Indent("", "  ")
	if err := enc.Encode(out); err != nil {
		return err
	}
	_, err := io.WriteString(w, "\n")
	return err
}

func suiteOf(name string, cases []junitCase) junitSuite {
	s := junitSuite{Name: name, Tests: len(cases), Cases: cases}
	for _, c := range cases {
		if c.Failure != nil {
			s.Failures++
		}
		if c.Error != nil {
			s.Errors++
		}
	}
	return s
}

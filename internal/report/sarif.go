package report

import (
	"fmt"
	"io"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
)

// SARIF 2.1.0, as GitHub code scanning reads it: one rule per catalogue
// check, one result per finding with a physical location, and a partial
// fingerprint so alerts survive unrelated edits.

const (
	sarifSchema  = "https://json.schemastore.org/sarif-2.1.0.json"
	sarifVersion = "2.1.0"
	infoURI      = "https://github.com/kubeharden/kubeharden"
)

type sarifRun struct {
	Tool        sarifTool         `json:"tool"`
	Invocations []sarifInvocation `json:"invocations"`
}

type sarifTool struct {
	Driver sarifDriver `json:"driver"`
}

type sarifDriver struct {
	Name           string      `json:"name"`
	Version        string      `json:"version,omitempty"`
	InformationURI string      `json:"informationUri"`
	Rules          []sarifRule `json:"rules"`
}

type sarifRule struct {
	ID                   string          `json:"id"`
	Name                 string          `json:"name"`
	ShortDescription     sarifText       `json:"shortDescription"`
	FullDescription      sarifText       `json:"fullDescription"`
	Help                 sarifHelp       `json:"help"`
	HelpURI              string          `json:"helpUri"`
	DefaultConfiguration sarifRuleConfig `json:"defaultConfiguration"`
	Properties           sarifRuleProps  `json:"properties"`
}

type sarifText struct {
	Text string `json:"text"`
}

type sarifHelp struct {
	Text     string `json:"text"`
	Markdown string `json:"markdown"`
}

type sarifRuleConfig struct {
	Level string `json:"level"`
}

type sarifRuleProps struct {
	Tags             []string `json:"tags"`
	SecuritySeverity string   `json:"security-severity"`
	Precision        string   `json:"precision"`
}

type sarifLocation struct {
	PhysicalLocation *sarifPhysical `json:"physicalLocation,omitempty"`
	LogicalLocations []sarifLogical `json:"logicalLocations,omitempty"`
}

type sarifPhysical struct {
	ArtifactLocation sarifArtifact `json:"artifactLocation"`
	Region           *sarifRegion  `json:"region,omitempty"`
}

type sarifArtifact struct {
	URI string `json:"uri"`
}

type sarifRegion struct {
	StartLine int `json:"startLine"`
}

type sarifLogical struct {
	FullyQualifiedName string `json:"fullyQualifiedName"`
	Kind               string `json:"kind"`
}

type sarifInvocation struct {
	ExecutionSuccessful        bool                `json:"executionSuccessful"`
	ToolExecutionNotifications []sarifNotification `json:"toolExecutionNotifications,omitempty"`
}

type sarifNotification struct {
	Level     string          `json:"level"`
	Message   sarifText       `json:"message"`
	Locations []sarifLocation `json:"locations,omitempty"`
}

// sarifLevel maps severities to SARIF levels.
func sarifLevel(s check.Severity) string {
	switch s {
	case check.Critical, check.High:
		return "error"
	case check.Medium:
		return "warning"
	}
	return "note"
}

// securitySeverity is GitHub's 0–10 score: critical ≥ 9, high ≥ 7,
// medium ≥ 4, low > 0.
func securitySeverity(s check.Severity) string {
	switch s {
	case check.Critical:
		return "9.5"
	case check.High:
		return "8.0"
	case check.Medium:
		return "5.5"
	case check.Low:
		return "3.0"
	}
	return "1.0"
}

func writeSARIF(w io.Writer, r *Report) error {
	run := sarifRun{
		Tool:        sarifTool{Driver: sarifDriver{Name: r.Tool.Name, Version: r.Tool.Version, InformationURI: infoURI, Rules: []sarifRule{}}},
		Invocations: []sarifInvocation{{ExecutionSuccessful: true}},
	}
	index := map[string]int{}
	addRule := func(c *check.Check) {
		index[c.ID] = len(run.Tool.Driver.Rules)
		run.Tool.Driver.Rules = append(run.Tool.Driver.Rules, ruleOf(c))
	}
	for _, c := range r.Checks {
		addRule(c)
	}
	// Findings of checks the report does not list still get a rule.
	for _, f := range r.Findings.All() {
		if _, ok := index[f.Check]; !ok {
			addRule(&check.Check{Metadata: check.Metadata{ID: f.Check, Title: f.Check, Severity: f.Severity, Category: f.Category,
				Description: f.Message, Remediation: f.Remediation, Frameworks: frameworksOf(*f)}})
		}
	}
	for _, e := range r.Errors {
		run.Invocations[0].ToolExecutionNotifications = append(run.Invocations[0].ToolExecutionNotifications, sarifNotification{
			Level:     "error",
			Message:   sarifText{Text: e.Message},
			Locations: []sarifLocation{{PhysicalLocation: &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(errorFile(e.Source))}}}},
		})
	}

	// The log is written around its results, which are streamed one per
	// line: a large scan never holds the whole document in memory.
	ew := &errWriter{w: w}
	tool, err := marshalNoEscape(run.Tool, "      ")
	if err != nil {
		return err
	}
	invocations, err := marshalNoEscape(run.Invocations, "      ")
	if err != nil {
		return err
	}
	ew.printf("{\n  \"$schema\": %q,\n  \"version\": %q,\n  \"runs\": [\n    {\n", sarifSchema, sarifVersion)
	ew.printf("      \"tool\": %s,\n      \"invocations\": %s,\n      \"results\": [", tool, invocations)
	findings := r.Findings.Index()
	if ew.err == nil {
		ew.err = writeOrdered(w, findings.Len(), func() itemEncoder {
			var enc sarifResultEncoder
			return func(b []byte, i int) []byte {
				if i > 0 {
					b = append(b, ',')
				}
				b = append(b, "\n        "...)
				f := findings.At(i)
				return enc.append(b, f, index[f.Check])
			}
		})
	}
	if findings.Len() > 0 {
		ew.printf("\n      ")
	}
	ew.printf("]\n    }\n  ]\n}\n")
	return ew.err
}

// sarifResultEncoder writes a finding's SARIF result exactly as
// encoding/json would write resultOf's struct (compact, HTML escaping off),
// without reflection or maps: a scan can have hundreds of thousands of
// results. TestSARIFResultEncoderMatchesJSON holds it to encoding/json.
type sarifResultEncoder struct {
	file, uri string // the last artifact: a file's findings are consecutive
	// The last object's name: an object's findings are consecutive and
	// share their ObjectRef.
	object *check.ObjectRef
	name   string
}

func (e *sarifResultEncoder) objectName(ref *check.ObjectRef) string {
	if ref != e.object {
		e.object, e.name = ref, ref.String()
	}
	return e.name
}

func (e *sarifResultEncoder) append(b []byte, f *check.Finding, ruleIndex int) []byte {
	b = append(b, `{"ruleId":`...)
	b = appendString(b, f.Check)
	b = append(b, `,"ruleIndex":`...)
	b = strconv.AppendInt(b, int64(ruleIndex), 10)
	b = append(b, `,"level":`...)
	b = appendString(b, sarifLevel(f.Severity))
	b = append(b, `,"message":{"text":`...)
	b = appendStrings(b, e.objectName(f.Object), ": ", f.Message)
	b = append(b, `},"locations":[{`...)
	if f.Source.File != "" && f.Source.File != "-" {
		if f.Source.File != e.file {
			e.file, e.uri = f.Source.File, artifactURI(f.Source.File)
		}
		b = append(b, `"physicalLocation":{"artifactLocation":{"uri":`...)
		b = appendString(b, e.uri)
		b = append(b, '}')
		if f.Source.Line > 0 {
			b = append(b, `,"region":{"startLine":`...)
			b = strconv.AppendInt(b, int64(f.Source.Line), 10)
			b = append(b, '}')
		}
		b = append(b, "},"...)
	}
	b = append(b, `"logicalLocations":[{"fullyQualifiedName":`...)
	if f.Container != "" {
		b = appendStrings(b, e.objectName(f.Object), "/", f.Container)
	} else {
		b = appendString(b, e.objectName(f.Object))
	}
	b = append(b, `,"kind":"object"}]}],"partialFingerprints":{"kubeharden/v1":`...)
	b = append(b, '"')
	b = f.AppendFingerprint(b) // hexadecimal: nothing to escape
	b = append(b, '"')
	// Properties are a map in the reference struct: keys in sorted order.
	b = append(b, `},"properties":{`...)
	if f.Container != "" {
		b = append(b, `"container":`...)
		b = appendString(b, f.Container)
		b = append(b, ',')
	}
	b = append(b, `"object":{"apiVersion":`...)
	b = appendString(b, f.Object.APIVersion)
	b = append(b, `,"kind":`...)
	b = appendString(b, f.Object.Kind)
	if f.Object.Namespace != "" {
		b = append(b, `,"namespace":`...)
		b = appendString(b, f.Object.Namespace)
	}
	b = append(b, `,"name":`...)
	b = appendString(b, f.Object.Name)
	b = append(b, '}')
	if f.Path != "" {
		b = append(b, `,"path":`...)
		b = appendString(b, f.Path)
	}
	b = append(b, `,"severity":`...)
	b = appendString(b, f.Severity.String())
	return append(b, "}}"...)
}

func ruleOf(c *check.Check) sarifRule {
	tags := []string{"security", "kubernetes", string(c.Category)}
	for _, id := range c.Frameworks.CIS {
		tags = append(tags, "CIS-"+id)
	}
	for _, id := range c.Frameworks.MITRE {
		tags = append(tags, "MITRE-"+id)
	}
	for _, id := range c.Frameworks.PSS {
		tags = append(tags, "PSS-"+id)
	}
	return sarifRule{
		ID:                   c.ID,
		Name:                 ruleName(c.ID),
		ShortDescription:     sarifText{Text: c.Title},
		FullDescription:      sarifText{Text: c.Description},
		Help:                 sarifHelp{Text: c.Remediation, Markdown: fmt.Sprintf("**%s**\n\n%s\n\n**Fix:** %s", c.Title, c.Description, c.Remediation)},
		HelpURI:              infoURI + "/blob/main/docs/checks.md#" + c.ID,
		DefaultConfiguration: sarifRuleConfig{Level: sarifLevel(c.Severity)},
		Properties:           sarifRuleProps{Tags: tags, SecuritySeverity: securitySeverity(c.Severity), Precision: "very-high"},
	}
}

// ruleName turns "privileged-container" into "PrivilegedContainer".
func ruleName(id string) string {
	var b strings.Builder
	for _, part := range strings.Split(id, "-") {
		if part != "" {
			b.WriteString(strings.ToUpper(part[:1]) + part[1:])
		}
	}
	return b.String()
}

// artifactURI writes a relative path with forward slashes, as GitHub
// resolves it against the repository root.
func artifactURI(file string) string {
	return filepath.ToSlash(filepath.Clean(file))
}

// errorFile strips a ":line" suffix from an error source.
func errorFile(src string) string {
	if i := strings.LastIndexByte(src, ':'); i > 0 {
		if _, err := fmt.Sscanf(src[i+1:], "%d", new(int)); err == nil {
			return src[:i]
		}
	}
	return src
}

func frameworksOf(f check.Finding) check.Frameworks {
	if f.Frameworks == nil {
		return check.Frameworks{}
	}
	return *f.Frameworks
}

package report

import (
	"io"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
)

func writeMarkdown(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
	ew.printf("# kubeharden report\n\n")
	ew.printf("%d objects scanned, %d findings.\n\n", r.Summary.Objects, r.Summary.Findings)
	ew.printf("| Severity | Findings |\n| --- | ---: |\n")
	for _, s := range check.Severities() {
		ew.printf("| %s | %d |\n", s, r.Summary.BySeverity[s.String()])
	}
	if r.Findings.Len() > 0 {
		ew.printf("\n## Findings\n\n")
		ew.printf("| Severity | Check | Object | Container | Message | Location |\n| --- | --- | --- | --- | --- | --- |\n")
		for _, f := range r.Findings.All() {
			loc := location(f)
			if f.Path != "" {
				loc = strings.TrimSpace(loc + " `" + f.Path + "`")
			}
			ew.printf("| %s | `%s` | %s | %s | %s | %s |\n", f.Severity, f.Check, mdCell(f.Object.String()),
				mdCell(f.Container), mdCell(f.Message), strings.ReplaceAll(loc, "|", "\\|"))
		}
	}
	if len(r.Errors) > 0 {
		ew.printf("\n## Inputs that could not be read\n\n| Source | Error |\n| --- | --- |\n")
		for _, e := range r.Errors {
			ew.printf("| %s | %s |\n", mdCell(e.Source), mdCell(e.Message))
		}
	}
	return ew.err
}

var mdCellEscaper = strings.NewReplacer("|", "\\|", "\n", " ", "\r", "", "<", "&lt;", ">", "&gt;")

// mdCell escapes text for a Markdown table cell.
func mdCell(s string) string { return mdCellEscaper.Replace(s) }

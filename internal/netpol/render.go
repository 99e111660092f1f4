package netpol

import (
	"cmp"
	"encoding/csv"
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
)

// Row is one allowed connection as the renderers write it.
type Row struct {
	Src  string `json:"src"`
	Dst  string `json:"dst"`
	Conn string `json:"conn"`
}

// Rows is every allowed connection, between workloads and with outside
// address ranges, sorted by source and destination.
func (m *Model) Rows() []Row {
	var rows []Row
	for _, c := range m.Connections() {
		rows = append(rows, Row{c.Src.String(), c.Dst.String(), c.Conns.String()})
	}
	for _, c := range m.IngressControllerConnections() {
		rows = append(rows, Row{IngressController, c.Dst.String(), c.Conns.String()})
	}
	for _, e := range m.ExternalConnections() {
		if e.Inbound {
			rows = append(rows, Row{e.Endpoint(), e.Workload.String(), e.Conns.String()})
		} else {
			rows = append(rows, Row{e.Workload.String(), e.Endpoint(), e.Conns.String()})
		}
	}
	slices.SortStableFunc(rows, func(a, b Row) int { return cmp.Or(cmp.Compare(a.Src, b.Src), cmp.Compare(a.Dst, b.Dst)) })
	return rows
}

// Formats are the matrix outputs.
var Formats = []string{"table", "json", "csv", "dot", "markdown"}

// WriteRows renders connections as netpol-analyzer-style lines (table),
// JSON, CSV, a Graphviz digraph or a Markdown table.
func WriteRows(w io.Writer, format string, rows []Row) error {
	switch format {
	case "json":
		if rows == nil {
			rows = []Row{}
		}
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	case "csv":
		cw := csv.NewWriter(w)
		cw.Write([]string{"src", "dst", "conn"})
		for _, r := range rows {
			cw.Write([]string{r.Src, r.Dst, r.Conn})
		}
		cw.Flush()
		return cw.Error()
	case "dot":
		fmt.Fprintln(w, "digraph connectivity {")
		fmt.Fprintln(w, "  rankdir=LR;")
		fmt.Fprintln(w, "  node [shape=box, fontname=\"sans-serif\"];")
		var nodes []string
		for _, r := range rows {
			for _, n := range []string{r.Src, r.Dst} {
				if !slices.Contains(nodes, n) {
					nodes = append(nodes, n)
				}
			}
		}
		slices.Sort(nodes)
		for _, n := range nodes {
			shape := ""
			if strings.HasSuffix(n, "[External]") {
				shape = ", shape=ellipse, style=dashed"
			}
			fmt.Fprintf(w, "  %q [label=%q%s];\n", n, n, shape)
		}
		for _, r := range rows {
			fmt.Fprintf(w, "  %q -> %q [label=%q];\n", r.Src, r.Dst, r.Conn)
		}
		_, err := fmt.Fprintln(w, "}")
		return err
	case "markdown":
		fmt.Fprintln(w, "| src | dst | conn |")
		fmt.Fprintln(w, "| --- | --- | --- |")
		esc := strings.NewReplacer("|", `\|`)
		for _, r := range rows {
			fmt.Fprintf(w, "| %s | %s | %s |\n", esc.Replace(r.Src), esc.Replace(r.Dst), esc.Replace(r.Conn))
		}
		return nil
	}
	for _, r := range rows {
		if _, err := fmt.Fprintf(w, "%s => %s : %s\n", r.Src, r.Dst, r.Conn); err != nil {
			return err
		}
	}
	return nil
}

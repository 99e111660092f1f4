package rbac

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	rbacv1 "k8s.io/api/rbac/v1"
)

// via explains a grant in one line: binding → role rules[i].
func (g Grant) via() string {
	if g.Role == nil {
		return g.Note
	}
	return fmt.Sprintf("%s → %s rules[%d]", g.Binding, g.Role, g.RuleIndex)
}

func writeJSON(w io.Writer, v any) error {
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	return enc.Encode(v)
}

// WhoCanReport is the answer to a who-can question.
type WhoCanReport struct {
	Requests []Request `json:"requests"`
	// AllNamespaces is set when RoleBindings of every namespace counted.
	AllNamespaces bool     `json:"allNamespaces"`
	Subjects      []Answer `json:"subjects"`
}

// WriteWhoCan renders a who-can answer as a table or JSON.
func WriteWhoCan(w io.Writer, format string, r WhoCanReport) error {
	if format == "json" {
		return writeJSON(w, r)
	}
	descs := make([]string, 0, len(r.Requests))
	for _, q := range r.Requests {
		descs = append(descs, q.String())
	}
	scope := ""
	if r.AllNamespaces {
		scope = " in any namespace"
	}
	fmt.Fprintf(w, "Who can %s%s:\n\n", strings.Join(descs, " or "), scope)
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "KIND\tNAMESPACE\tNAME\tSCOPE\tGRANTED BY")
	for _, a := range r.Subjects {
		for i, g := range a.Grants {
			kind, ns, name := a.Subject.Kind, a.Subject.Namespace, a.Subject.Name
			if i > 0 {
				kind, ns, name = "", "", ""
			}
			where := "cluster-wide"
			if g.Namespace != "" {
				where = "namespace " + g.Namespace
			}
			fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", kind, ns, name, where, g.via())
		}
	}
	return tw.Flush()
}

// WriteCan renders a subject's permissions as a rakkess-style matrix with
// the rules behind it, or JSON.
func WriteCan(w io.Writer, format string, p Permissions) error {
	if format == "json" {
		return writeJSON(w, p)
	}
	scope := "cluster-wide (cluster-scoped resources, and namespaced ones in every namespace)"
	if p.Namespace != "" {
		scope = "in namespace " + p.Namespace
	}
	fmt.Fprintf(w, "What %s can do %s:\n\n", p.Subject, scope)
	if p.Superuser {
		fmt.Fprintf(w, "Everything: %s.\n", mastersGrant.Note)
		return nil
	}
	if err := writeBindings(w, p.Bindings); err != nil {
		return err
	}
	if len(p.Matrix) == 0 && len(p.NonResourceURLs) == 0 {
		fmt.Fprintln(w, "Permissions: none.")
		return nil
	}
	fmt.Fprintln(w, "Permissions:")
	tw := tabwriter.NewWriter(w, 0, 4, 1, ' ', 0)
	fmt.Fprintf(tw, "RESOURCE\t%s\tOTHER\n", strings.ToUpper(strings.Join(StandardVerbs, "\t")))
	for _, row := range p.Matrix {
		name := row.Resource
		if row.Group != "" {
			name += "." + row.Group
		}
		if row.Subresource != "" {
			name += "/" + row.Subresource
		}
		cells := []string{name}
		for _, v := range StandardVerbs {
			mark := "✖"
			if slices.Contains(row.Verbs, v) {
				mark = "✔"
			}
			cells = append(cells, mark)
		}
		var other []string
		for _, v := range row.Verbs {
			if !slices.Contains(StandardVerbs, v) {
				other = append(other, v)
			}
		}
		cells = append(cells, strings.Join(other, ","))
		fmt.Fprintln(tw, strings.Join(cells, "\t"))
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	if len(p.NonResourceURLs) > 0 {
		fmt.Fprintln(w, "\nNon-resource URLs:")
		for _, u := range sortedKeys(p.NonResourceURLs) {
			fmt.Fprintf(w, "  %s: %s\n", u, strings.Join(p.NonResourceURLs[u], ", "))
		}
	}
	fmt.Fprintln(w, "\nRules:")
	for _, r := range p.Rules {
		fmt.Fprintf(w, "  %s\n    from %s\n", describeRule(r.Rule), r.Grant.via())
	}
	return nil
}

func writeBindings(w io.Writer, bindings []BindingRef) error {
	if len(bindings) == 0 {
		fmt.Fprint(w, "Bindings: none.\n\n")
		return nil
	}
	fmt.Fprintln(w, "Bindings (every namespace):")
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SCOPE\tROLE\tBINDING\tVIA")
	for _, b := range bindings {
		scope := "cluster-wide"
		if b.Namespace != "" {
			scope = b.Namespace
		}
		role := b.Role.String()
		if b.Missing {
			role += " (missing)"
		}
		fmt.Fprintf(tw, "  %s\t%s\t%s\t%s\n", scope, role, b.Binding, b.Via)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(w)
	return nil
}

// PathsReport is the escalation paths of one or more subjects.
type PathsReport struct {
	Subjects []SubjectPaths `json:"subjects"`
}

// SubjectPaths is one subject's shortest paths.
type SubjectPaths struct {
	Subject Subject `json:"subject"`
	Paths   []Path  `json:"paths"`
}

// WritePaths renders escalation paths as a table, JSON, Graphviz DOT or a
// Mermaid flowchart.
func WritePaths(w io.Writer, format string, r PathsReport) error {
	switch format {
	case "json":
		if r.Subjects == nil {
			r.Subjects = []SubjectPaths{}
		}
		return writeJSON(w, r)
	case "dot", "mermaid":
		return writeGraph(w, format, r)
	}
	if len(r.Subjects) == 0 {
		fmt.Fprintln(w, "No subject can reach cluster-admin-equivalent power.")
		return nil
	}
	for i, s := range r.Subjects {
		if i > 0 {
			fmt.Fprintln(w)
		}
		if len(s.Paths) == 0 {
			fmt.Fprintf(w, "%s cannot reach cluster-admin-equivalent power.\n", s.Subject)
			continue
		}
		steps := "steps"
		if len(s.Paths[0].Edges) == 1 {
			steps = "step"
		}
		fmt.Fprintf(w, "%s can reach cluster-admin-equivalent power (shortest: %d %s):\n", s.Subject, len(s.Paths[0].Edges), steps)
		for j, p := range s.Paths {
			fmt.Fprintf(w, "\n  path %d:\n", j+1)
			for k, e := range p.Edges {
				fmt.Fprintf(w, "    %d. %s [%s]\n", k+1, e.Detail, e.Technique.ID)
				if len(e.Grants) > 0 {
					fmt.Fprintf(w, "       granted by %s\n", e.Grants[0].via())
				}
				fmt.Fprintf(w, "       → %s\n", e.To)
			}
		}
	}
	return nil
}

func writeGraph(w io.Writer, format string, r PathsReport) error {
	ids := map[string]string{}
	var order []string
	id := func(n Node) string {
		label := n.String()
		if v, ok := ids[label]; ok {
			return v
		}
		v := fmt.Sprintf("n%d", len(ids))
		ids[label] = v
		order = append(order, label)
		return v
	}
	type edge struct{ from, to, label string }
	var edges []edge
	seen := map[edge]bool{}
	for _, s := range r.Subjects {
		for _, p := range s.Paths {
			for _, e := range p.Edges {
				ed := edge{id(e.From), id(e.To), e.Technique.ID}
				if !seen[ed] {
					seen[ed] = true
					edges = append(edges, ed)
				}
			}
		}
	}
	if format == "dot" {
		fmt.Fprintln(w, "digraph escalation {")
		fmt.Fprintln(w, "  rankdir=LR;")
		fmt.Fprintln(w, "  node [shape=box, fontname=\"sans-serif\"];")
		for _, label := range order {
			attrs := ""
			if label == "cluster-admin-equivalent" {
				attrs = ", style=filled, fillcolor=\"#f4cccc\""
			}
			fmt.Fprintf(w, "  %s [label=%q%s];\n", ids[label], label, attrs)
		}
		for _, e := range edges {
			fmt.Fprintf(w, "  %s -> %s [label=%q];\n", e.from, e.to, e.label)
		}
		fmt.Fprintln(w, "}")
		return nil
	}
	fmt.Fprintln(w, "flowchart LR")
	for _, label := range order {
		fmt.Fprintf(w, "  %s[\"%s\"]\n", ids[label], strings.ReplaceAll(label, `"`, "#quot;"))
	}
	for _, e := range edges {
		fmt.Fprintf(w, "  %s -->|%s| %s\n", e.from, e.label, e.to)
	}
	return nil
}

// describeRule writes a rule compactly: verbs on resources.group [names].
func describeRule(r rbacv1.PolicyRule) string {
	verbs := strings.Join(r.Verbs, ",")
	if len(r.NonResourceURLs) > 0 {
		return verbs + " " + strings.Join(r.NonResourceURLs, ",")
	}
	var res []string
	for _, g := range r.APIGroups {
		for _, x := range r.Resources {
			if g == "" {
				res = append(res, x)
			} else {
				res = append(res, x+"."+g)
			}
		}
	}
	s := verbs + " " + strings.Join(res, ",")
	if len(r.ResourceNames) > 0 {
		s += " named " + strings.Join(r.ResourceNames, ",")
	}
	return s
}

package report

import (
	"bufio"
	"encoding/json"
	"io"
)

// writeJSON streams the report: findings are encoded one at a time, so a
// scan with a hundred thousand findings never holds its whole JSON text in
// memory. The output is the same as encoding the Report with two-space
// indentation.
func writeJSON(w io.Writer, r *Report) error {
	bw := bufio.NewWriterSize(w, 64<<10)
	ew := &errWriter{w: bw}
	field := func(name string, v any, last bool) {
		b, err := marshalNoEscape(v, "  ")
		if err != nil && ew.err == nil {
			ew.err = err
		}
		sep := ","
		if last {
			sep = ""
		}
		ew.printf("  %q: %s%s\n", name, b, sep)
	}
	list := func(name string, n int, item func(i int) any, last bool) {
		if n == 0 {
			field(name, []struct{}{}, last)
			return
		}
		ew.printf("  %q: [\n", name)
		for i := range n {
			b, err := marshalNoEscape(item(i), "    ")
			if err != nil && ew.err == nil {
				ew.err = err
			}
			sep := ","
			if i == n-1 {
				sep = ""
			}
			ew.printf("    %s%s\n", b, sep)
		}
		if last {
			ew.printf("  ]\n")
		} else {
			ew.printf("  ],\n")
		}
	}
	ew.printf("{\n")
	field("schemaVersion", r.SchemaVersion, false)
	field("tool", r.Tool, false)
	field("summary", r.Summary, false)
	list("findings", len(r.Findings), func(i int) any { return r.Findings[i] }, false)
	list("errors", len(r.Errors), func(i int) any { return r.Errors[i] }, true)
	ew.printf("}\n")
	if ew.err != nil {
		return ew.err
	}
	return bw.Flush()
}

// marshalNoEscape is json.MarshalIndent without HTML escaping, so messages
// keep their "<" and ">" readable.
func marshalNoEscape(v any, prefix string) ([]byte, error) {
	var buf jsonBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	enc.SetIndent(prefix, "  ")
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	b := buf.b
	if n := len(b); n > 0 && b[n-1] == '\n' {
		b = b[:n-1]
	}
	return b, nil
}

type jsonBuffer struct{ b []byte }

func (j *jsonBuffer) Write(p []byte) (int, error) {
	j.b = append(j.b, p...)
	return len(p), nil
}

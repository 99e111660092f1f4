package report

import (
	"encoding/json"
	"io"
	"strconv"
	"unicode/utf8"

	"github.com/kubeharden/kubeharden/internal/check"
)

// writeJSON streams the report (Write buffers it): findings are encoded
// one at a time, so a scan with a hundred thousand findings never holds its
// whole JSON text in memory. The output is the same as encoding the Report with two-space
// indentation.
func writeJSON(w io.Writer, r *Report) error {
	ew := &errWriter{w: w}
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
	if findings := r.Findings.Index(); findings.Len() == 0 {
		field("findings", []struct{}{}, false)
	} else {
		ew.printf("  \"findings\": [\n")
		if ew.err == nil {
			ew.err = writeOrdered(w, findings.Len(), func() itemEncoder {
				enc := findingEncoder{frameworks: map[*check.Frameworks][]byte{}}
				return func(b []byte, i int) []byte {
					b = enc.append(b, findings.At(i))
					if i < findings.Len()-1 {
						b = append(b, ',')
					}
					return append(b, '\n')
				}
			})
		}
		ew.printf("  ],\n")
	}
	list("errors", len(r.Errors), func(i int) any { return r.Errors[i] }, true)
	ew.printf("}\n")
	return ew.err
}

// marshalNoEscape is json.MarshalIndent without HTML escaping, so messages
// keep their "<" and ">" readable.
func marshalNoEscape(v any, prefix string) ([]byte, error) {
	return marshal(v, prefix, "  ")
}

// marshalCompact is json.Marshal without HTML escaping.
func marshalCompact(v any) ([]byte, error) { return marshal(v, "", "") }

func marshal(v any, prefix, indent string) ([]byte, error) {
	var buf jsonBuffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if prefix != "" || indent != "" {
		enc.SetIndent(prefix, indent)
	}
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

// findingEncoder writes a finding exactly as encoding/json would with
// MarshalIndent(f, "    ", "  ") and HTML escaping off, several times
// faster: a scan can have hundreds of thousands of findings. The golden
// test pins the format.
type findingEncoder struct {
	// frameworks caches each check's encoded frameworks.
	frameworks map[*check.Frameworks][]byte
}

func (e *findingEncoder) append(b []byte, f *check.Finding) []byte {
	b = append(b, "    {\n"...)
	b = appendField(b, "check", f.Check)
	b = appendField(b, "severity", f.Severity.String())
	b = appendField(b, "category", string(f.Category))
	b = append(b, "      \"object\": {\n"...)
	b = appendInner(b, "apiVersion", f.Object.APIVersion, false)
	b = appendInner(b, "kind", f.Object.Kind, false)
	if f.Object.Namespace != "" {
		b = appendInner(b, "namespace", f.Object.Namespace, false)
	}
	b = appendInner(b, "name", f.Object.Name, true)
	b = append(b, "      },\n"...)
	if f.Container != "" {
		b = appendField(b, "container", f.Container)
	}
	if f.Path != "" {
		b = appendField(b, "path", f.Path)
	}
	if f.Source != (check.Source{}) {
		b = append(b, "      \"source\": {\n"...)
		b = appendInner(b, "file", f.Source.File, f.Source.Line == 0)
		if f.Source.Line != 0 {
			b = append(b, "        \"line\": "...)
			b = strconv.AppendInt(b, int64(f.Source.Line), 10)
			b = append(b, '\n')
		}
		b = append(b, "      },\n"...)
	}
	b = appendField(b, "message", f.Message)
	b = appendField(b, "remediation", f.Remediation)
	b = append(b, "      \"frameworks\": "...)
	b = append(b, e.encodedFrameworks(f.Frameworks)...)
	b = append(b, ",\n"...)
	b = append(b, "      \"fingerprint\": "...)
	b = append(b, '"')
	b = f.AppendFingerprint(b) // hexadecimal: nothing to escape
	b = append(b, '"')
	b = append(b, "\n    }"...)
	return b
}

func (e *findingEncoder) encodedFrameworks(fw *check.Frameworks) []byte {
	if enc, ok := e.frameworks[fw]; ok {
		return enc
	}
	enc, err := marshalNoEscape(fw, "      ")
	if err != nil {
		enc = []byte("null") // Frameworks is plain strings: cannot fail
	}
	e.frameworks[fw] = enc
	return enc
}

func appendField(b []byte, key, value string) []byte {
	b = append(b, "      \""...)
	b = append(b, key...)
	b = append(b, "\": "...)
	b = appendString(b, value)
	return append(b, ",\n"...)
}

func appendInner(b []byte, key, value string, last bool) []byte {
	b = append(b, "        \""...)
	b = append(b, key...)
	b = append(b, "\": "...)
	b = appendString(b, value)
	if !last {
		b = append(b, ',')
	}
	return append(b, '\n')
}

// appendString quotes s as encoding/json does without HTML escaping:
// printable ASCII directly, in runs (escaping '"' and '\\'), anything else
// through encoding/json itself.
func appendString(b []byte, s string) []byte {
	b = append(b, '"')
	b = appendStringContent(b, s)
	return append(b, '"')
}

// appendStrings appends the parts as one JSON string, without joining
// them first.
func appendStrings(b []byte, parts ...string) []byte {
	b = append(b, '"')
	for _, s := range parts {
		b = appendStringContent(b, s)
	}
	return append(b, '"')
}

// appendStringContent appends s escaped as inside a JSON string, as
// encoding/json escapes it with HTML escaping off: quotes, backslashes and
// control characters escaped, invalid UTF-8 replaced with U+FFFD, and the
// line and paragraph separators U+2028 and U+2029 escaped.
func appendStringContent(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\b':
				b = append(b, '\\', 'b')
			case '\f':
				b = append(b, '\\', 'f')
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		if r == '\u2028' || r == '\u2029' {
			b = append(b, s[start:i]...)
			b = append(b, '\\', 'u', '2', '0', '2', hex[r&0xf])
			i += size
			start = i
			continue
		}
		i += size
	}
	return append(b, s[start:]...)
}

package check

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
)

func TestFindings(t *testing.T) {
	f := func(id string) Finding {
		return Finding{Rule: &Rule{Check: id, Severity: High}, Message: "<" + id + ">"}
	}
	for _, tc := range []struct {
		name  string
		parts Findings
		want  []string
	}{
		{"none", nil, nil},
		{"empty parts", Findings{{}, nil}, nil},
		{"one part", Findings{{f("a"), f("b")}}, []string{"a", "b"}},
		{"several parts", Findings{{f("a")}, {}, {f("b"), f("c")}, {f("d")}}, []string{"a", "b", "c", "d"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.parts.Len() != len(tc.want) {
				t.Errorf("Len = %d, want %d", tc.parts.Len(), len(tc.want))
			}
			var all, flat, indexed []string
			for i, g := range tc.parts.All() {
				if i != len(all) {
					t.Errorf("All yielded position %d for finding %d", i, len(all))
				}
				all = append(all, g.Check)
			}
			for _, g := range tc.parts.Flat() {
				flat = append(flat, g.Check)
			}
			x := tc.parts.Index()
			for i := range x.Len() {
				indexed = append(indexed, x.At(i).Check)
			}
			if !slices.Equal(all, tc.want) || !slices.Equal(flat, tc.want) || !slices.Equal(indexed, tc.want) {
				t.Errorf("All %v, Flat %v, Index %v; want %v", all, flat, indexed, tc.want)
			}

			// JSON: one flat array (empty when there are none), as an
			// encoder with HTML escaping off writes it.
			encode := func(v any) []byte {
				var buf bytes.Buffer
				enc := json.NewEncoder(&buf)
				enc.SetEscapeHTML(false)
				if err := enc.Encode(v); err != nil {
					t.Fatal(err)
				}
				return buf.Bytes()
			}
			b := encode(tc.parts)
			want := encode(append([]Finding{}, tc.parts.Flat()...))
			if !bytes.Equal(b, want) || !bytes.Contains(b, []byte("[")) {
				t.Errorf("JSON %s, want %s", b, want)
			}
			var back Findings
			if err := json.Unmarshal(b, &back); err != nil {
				t.Fatal(err)
			}
			if back.Len() != len(tc.want) || len(back) > 1 {
				t.Errorf("decoded %d findings in %d parts", back.Len(), len(back))
			}
		})
	}
	var stop []string
	for _, g := range (Findings{{f("a"), f("b")}, {f("c")}}).All() {
		stop = append(stop, g.Check)
		if g.Check == "b" {
			break
		}
	}
	if !slices.Equal(stop, []string{"a", "b"}) {
		t.Errorf("All after break yielded %v", stop)
	}
}

// TestAllUpdatesInPlace: the pointers All yields are the findings
// themselves (field lines are set through them).
func TestAllUpdatesInPlace(t *testing.T) {
	parts := Findings{{{Rule: &Rule{Check: "a"}}}, {{Rule: &Rule{Check: "b"}}}}
	for _, g := range parts.All() {
		g.Path = "p"
	}
	if parts[0][0].Path != "p" || parts[1][0].Path != "p" {
		t.Error("All did not yield the findings themselves")
	}
}

package check

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
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

// TestFindingJSONRoundTrip: a finding written as the report has it reads
// back with every field, its rule included, and the same fingerprint; the
// rule read back is its own, not shared with the finding written.
func TestFindingJSONRoundTrip(t *testing.T) {
	rule := &Rule{Check: "privileged-container", Severity: Critical, Category: Workload, Remediation: "Set privileged to false.",
		Frameworks: &Frameworks{CIS: []string{"5.2.2"}, PSS: []string{"privileged"}}}
	f := Finding{
		Rule:      rule,
		Object:    &ObjectRef{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		Container: "app",
		Path:      "spec.template.spec.containers[0].securityContext.privileged",
		Source:    Source{File: "k8s/web.yaml", Line: 21},
		Message:   `container "app" is privileged <b>`,
	}
	b, err := json.Marshal(f)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.HasPrefix(b, []byte(`{"check":"privileged-container","severity":"critical","category":"workload","object":`)) ||
		!bytes.Contains(b, []byte(`"fingerprint":"`+f.Fingerprint()+`"`)) {
		t.Errorf("JSON %s: not in the report's field order, or without the fingerprint", b)
	}
	var back Finding
	if err := json.Unmarshal(b, &back); err != nil {
		t.Fatal(err)
	}
	if back.Rule == nil || back.Rule == rule || back.Check != rule.Check || back.Severity != rule.Severity ||
		back.Category != rule.Category || back.Remediation != rule.Remediation || !slices.Equal(back.Frameworks.CIS, rule.Frameworks.CIS) {
		t.Errorf("rule read back %+v, want a copy of %+v", back.Rule, rule)
	}
	if *back.Object != *f.Object || back.Container != f.Container || back.Path != f.Path || back.Source != f.Source || back.Message != f.Message {
		t.Errorf("read back %+v, want %+v", back, f)
	}
	if back.Fingerprint() != f.Fingerprint() {
		t.Errorf("fingerprint %s after a round trip, want %s", back.Fingerprint(), f.Fingerprint())
	}
}

// TestFindingWithoutRule: a finding made without a rule (a literal in a
// caller's code) has the fingerprint of one with an empty rule, and
// encoding it is an error (its severity is not set), not a panic.
func TestFindingWithoutRule(t *testing.T) {
	bare := Finding{Object: &ObjectRef{Kind: "Pod", Name: "p"}, Path: "spec"}
	empty := bare
	empty.Rule = &Rule{}
	if bare.Fingerprint() != empty.Fingerprint() {
		t.Errorf("fingerprint %s without a rule, %s with an empty one", bare.Fingerprint(), empty.Fingerprint())
	}
	if _, err := json.Marshal(bare); err == nil || !strings.Contains(err.Error(), "severity") {
		t.Errorf("encoding a finding without a rule: %v, want an error about its severity", err)
	}
}

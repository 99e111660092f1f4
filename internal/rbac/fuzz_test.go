package rbac

import (
	"strings"
	"testing"
)

// FuzzParse feeds arbitrary text to the subject and resource parsers: no
// panic, and a parsed subject writes back to itself.
func FuzzParse(f *testing.F) {
	w, _ := world(f, sample)
	for _, s := range []string{"user:alice", "serviceaccount:ci:runner", "group:system:masters", "pods/exec", "deployments.apps/scale", "/healthz", "deploy", "a.b.c/d/e", "sa::", ":"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if subj, err := ParseSubject(s); err == nil {
			back, err := ParseSubject(subj.String())
			if err != nil || back != subj {
				t.Fatalf("%q parses to %+v, which writes as %q and parses to %+v (%v)", s, subj, subj.String(), back, err)
			}
		}
		reqs, err := w.ParseResource(s)
		if err == nil {
			for _, r := range reqs {
				if r.IsResource() && (r.Resource == "" || strings.Contains(r.Subresource, "/")) {
					t.Fatalf("%q: request %+v", s, r)
				}
				r.Verb = "get"
				w.WhoCan(r, true)
			}
		}
	})
}

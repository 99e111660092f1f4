package source

import (
	"strings"
	"testing"
)

// FuzzParseBytes feeds arbitrary bytes to the loader. It must never panic
// or hang, and every object it returns must have a kind and apiVersion.
func FuzzParseBytes(f *testing.F) {
	seeds := []string{
		"apiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  containers:\n  - name: a\n    image: nginx\n",
		"apiVersion: v1\nkind: List\nitems:\n- apiVersion: v1\n  kind: Pod\n  metadata: {name: x}\n",
		"---\n---\n# c\n---\napiVersion: v1\nkind: ConfigMap\n",
		`{"apiVersion":"v1","kind":"PodList","items":[{"apiVersion":"v1","kind":"Pod"}]}`,
		"a: &x [1, 2]\nb: *x\n<<: {c: d}\n",
		"apiVersion: v1\nkind: [\n",
		"\xff\xfe\x00a",
		billionLaughs(),
		strings.Repeat("[", 100),
	}
	for _, s := range seeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := ParseBytes("fuzz.yaml", data)
		for _, o := range res.Objects {
			if o.Kind() == "" || o.APIVersion() == "" {
				t.Fatalf("object without kind or apiVersion: %#v", o.Body)
			}
		}
		for _, e := range res.Errors {
			if !strings.HasPrefix(e.Source, "fuzz.yaml") {
				t.Fatalf("error does not name its source: %v", e)
			}
		}
	})
}

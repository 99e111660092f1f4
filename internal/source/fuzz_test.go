package source

import (
	"reflect"
	"strconv"
	"strings"
	"testing"
)

// FuzzParseBytes feeds arbitrary bytes to the loader. It must never panic
// or hang, every object it returns must have a kind and apiVersion, and a
// loading worker's table of shared blocks (filled by the same input once
// already) must not change what is decoded.
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
				t.Fatalf("object without kind or apiVersion: %#v", o.Body())
			}
		}
		for _, e := range res.Errors {
			if !strings.HasPrefix(e.Source, "fuzz.yaml") {
				t.Fatalf("error does not name its source: %v", e)
			}
		}
		worker := &fastParser{shared: newSubtrees()}
		for range 2 {
			shared := parseWith(worker, "fuzz.yaml", data, false)
			if len(shared.objects) != len(res.Objects) || len(shared.errors) != len(res.Errors) {
				t.Fatalf("with shared blocks: %d objects and %d errors, alone %d and %d", len(shared.objects), len(shared.errors), len(res.Objects), len(res.Errors))
			}
			for i, e := range shared.errors {
				if e.Source != res.Errors[i].Source || e.Err.Error() != res.Errors[i].Err.Error() {
					t.Fatalf("error %d differs with shared blocks: %v, alone %v", i, e, res.Errors[i])
				}
			}
			lines := strings.Count(string(data), "\n") + 1
			for i, o := range shared.objects {
				if !reflect.DeepEqual(o.Body(), res.Objects[i].Body()) || o.Source != res.Objects[i].Source {
					t.Fatalf("object %d differs with shared blocks:\n%#v\n%#v", i, o.Body(), res.Objects[i].Body())
				}
				// Field lines: in the file, and the same whichever worker
				// read it.
				for _, path := range fieldPaths(o.Body(), "", 3) {
					got, alone := o.FieldLine(path), res.Objects[i].FieldLine(path)
					if got != alone || got < 1 || got > lines {
						t.Fatalf("object %d: %s at line %d (alone %d) of %d", i, path, got, alone, lines)
					}
					if ready := o.FieldLineOf(NewFieldPath(path)); ready != got {
						t.Fatalf("object %d: %s at line %d made ready, %d not", i, path, ready, got)
					}
				}
			}
		}
	})
}

// fieldPaths are the paths of the fields of v, as findings name them, to
// depth levels.
func fieldPaths(v any, prefix string, depth int) []string {
	if depth == 0 {
		return nil
	}
	var out []string
	switch v := v.(type) {
	case map[string]any:
		for k, e := range v {
			p := k
			if prefix != "" {
				p = prefix + "." + k
			}
			out = append(out, p)
			out = append(out, fieldPaths(e, p, depth-1)...)
		}
	case []any:
		for i, e := range v {
			p := prefix + "[" + strconv.Itoa(i) + "]"
			out = append(out, p)
			out = append(out, fieldPaths(e, p, depth-1)...)
		}
	}
	return out
}

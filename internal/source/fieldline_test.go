package source

import (
	"bytes"
	"testing"
)

// fieldLine is the line of path in a document on its own.
func fieldLine(doc []byte, path string) int {
	var t docTable
	t.build(new(fastParser), doc)
	return fieldLineSegs(t, splitPath(path))
}

func TestFieldLine(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    pod-security.kubernetes.io/enforce: privileged
spec:
  template:
    spec:
      volumes:
      - name: data
        hostPath: {path: /var/run/docker.sock}
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: true
      -
        name: sidecar
        ports:
        - containerPort: 80
          hostPort: 80
`
	cases := map[string]int{
		"spec.template.spec.containers[0].securityContext.privileged":             17,
		"spec.template.spec.containers[0].image":                                  15,
		"spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem": 16, // missing: deepest existing
		"spec.template.spec.containers[1].ports":                                  20,
		"spec.template.spec.containers[1].ports[0].hostPort":                      22,
		"spec.template.spec.volumes[0].hostPath.path":                             12, // inside a flow mapping: its key
		"spec.template.spec.automountServiceAccountToken":                         9,
		"metadata.labels.pod-security.kubernetes.io/enforce":                      6,
		"spec.template.spec.containers[5]":                                        13,
		"status":                                                                  0,
	}
	for path, want := range cases {
		if got := fieldLine([]byte(doc), path); got != want {
			t.Errorf("%s: line %d, want %d", path, got, want)
		}
	}
}

// FuzzFieldLine: any document and any path give a line within the
// document (or 0), never a panic; files can change between loading and
// line resolution.
func FuzzFieldLine(f *testing.F) {
	f.Add([]byte("a:\n  b:\n  - c: 1\n    d: [x]\n  -\n    e: 2\n"), "a.b[1].e")
	f.Add([]byte("- - x\n-\n"), "[0][0]")
	f.Add([]byte("k.a.b: 1\n"), "k.a.b")
	f.Fuzz(func(t *testing.T, doc []byte, path string) {
		got := fieldLine(doc, path)
		if got < 0 || got > bytes.Count(doc, []byte{'\n'})+1 {
			t.Fatalf("line %d outside a %d-line document", got, bytes.Count(doc, []byte{'\n'})+1)
		}
	})
}

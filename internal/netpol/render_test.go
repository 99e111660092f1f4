package netpol

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

func TestRenderers(t *testing.T) {
	m := model(t, `---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  policyTypes: [Ingress, Egress]
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}, {ipBlock: {cidr: 10.0.0.0/8}}], ports: [{port: pg}]}]
`)
	rows := m.Rows()
	for _, format := range Formats {
		var b bytes.Buffer
		if err := WriteRows(&b, format, rows); err != nil {
			t.Fatal(err)
		}
		path := filepath.Join("testdata", "golden", "matrix."+format)
		if *update {
			if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		want, err := os.ReadFile(path)
		if err != nil {
			t.Fatalf("%v (go test ./internal/netpol -run TestRenderers -update)", err)
		}
		if !bytes.Equal(b.Bytes(), want) {
			t.Errorf("%s differs from %s:\n%s", format, path, b.Bytes())
		}
	}
}

package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
)

const netpolWorld = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: shop}
spec:
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec: {containers: [{name: c, image: x}]}
---
apiVersion: apps/v1
kind: StatefulSet
metadata: {name: db, namespace: shop}
spec:
  selector: {matchLabels: {app: db}}
  template:
    metadata: {labels: {app: db}}
    spec: {containers: [{name: c, image: x, ports: [{name: pg, containerPort: 5432}]}]}
---
apiVersion: networking.k8s.io/v1
kind: NetworkPolicy
metadata: {name: db, namespace: shop}
spec:
  podSelector: {matchLabels: {app: db}}
  ingress: [{from: [{podSelector: {matchLabels: {app: web}}}], ports: [{port: pg}]}]
`

func TestNetpolCommands(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "world.yaml"), []byte(netpolWorld), 0o644); err != nil {
		t.Fatal(err)
	}
	m := run(t, "", "netpol", "matrix", "-f", dir)
	want := "0.0.0.0-255.255.255.255[External] => shop/web[Deployment] : All Connections\n" +
		"shop/db[StatefulSet] => 0.0.0.0-255.255.255.255[External] : All Connections\n" +
		"shop/db[StatefulSet] => shop/web[Deployment] : All Connections\n" +
		"shop/web[Deployment] => 0.0.0.0-255.255.255.255[External] : All Connections\n" +
		"shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432\n"
	if m.code != ExitOK || m.stdout != want {
		t.Errorf("matrix: exit %d\n%s%s", m.code, m.stdout, m.stderr)
	}
	for format, prefix := range map[string]string{"csv": "src,dst,conn\n", "dot": "digraph connectivity {", "markdown": "| src | dst | conn |"} {
		if r := run(t, "", "netpol", "matrix", "-f", dir, "-o", format); r.code != ExitOK || !strings.HasPrefix(r.stdout, prefix) {
			t.Errorf("matrix -o %s: exit %d\n%s", format, r.code, r.stdout)
		}
	}
	if r := run(t, "", "netpol", "matrix", "-f", dir, "-o", "yaml"); r.code != ExitError {
		t.Errorf("matrix -o yaml: exit %d", r.code)
	}
	var rows []map[string]string
	js := run(t, "", "netpol", "matrix", "-f", dir, "-o", "json")
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil || len(rows) != 5 || rows[4]["conn"] != "TCP 5432" {
		t.Errorf("matrix json: %v %s", err, js.stdout)
	}
	for _, tc := range []struct {
		args []string
		code int
		want string
	}{
		{[]string{"shop/web", "shop/db", "--port", "5432"}, ExitOK, "isolated by shop/db\n    shop/db spec.ingress[0] allows TCP 5432"},
		{[]string{"shop/web", "shop/db"}, ExitOK, "no NetworkPolicy isolates it for egress"},
		{[]string{"shop/web", "shop/db", "--port", "5433"}, ExitFindings, "denied"},
		{[]string{"shop/web", "shop/db", "--port", "5432", "--protocol", "udp"}, ExitFindings, "denied"},
		{[]string{"shop/db", "shop/web"}, ExitOK, "together: All Connections"},
		{[]string{"shop/web", "shop/nope"}, ExitError, ""},
		{[]string{"web", "shop/db"}, ExitError, ""},
		{[]string{"shop/web", "shop/db", "--protocol", "ICMP"}, ExitError, ""},
	} {
		r := run(t, "", append(append([]string{"netpol", "can-reach"}, tc.args...), "-f", dir)...)
		if r.code != tc.code || !strings.Contains(r.stdout, tc.want) {
			t.Errorf("can-reach %v: exit %d, want %d\n%s%s", tc.args, r.code, tc.code, r.stdout, r.stderr)
		}
	}
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("apiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: x, namespace: shop}\nspec:\n  podSelector: {}\n  ingress: [{from: [{ipBlock: {cidr: 300.0.0.0/8}}]}]\n"), 0o644)
	r := run(t, "", "netpol", "matrix", "-f", dir)
	if r.code != ExitError || !strings.Contains(r.stderr, "bad.yaml") || !strings.Contains(r.stdout, "shop/web") {
		t.Errorf("an invalid policy is reported by file and the rest answered: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

func TestNetpolDiff(t *testing.T) {
	old, next := t.TempDir(), t.TempDir()
	if err := os.WriteFile(filepath.Join(old, "w.yaml"), []byte(netpolWorld), 0o644); err != nil {
		t.Fatal(err)
	}
	opened := strings.Replace(netpolWorld, "ports: [{port: pg}]", "ports: [{port: pg}, {port: 9187}]", 1)
	if err := os.WriteFile(filepath.Join(next, "w.yaml"), []byte(opened), 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "netpol", "diff", old, next)
	if r.code != ExitFindings || !strings.Contains(r.stdout, "changed  shop/web[Deployment] => shop/db[StatefulSet] : TCP 5432 -> TCP 5432,9187") {
		t.Errorf("diff: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if same := run(t, "", "netpol", "diff", old, old); same.code != ExitOK || !strings.Contains(same.stdout, "No connection differs.") {
		t.Errorf("no change: exit %d %s", same.code, same.stdout)
	}
	var rows []map[string]string
	js := run(t, "", "netpol", "diff", old, next, "-o", "json")
	if err := json.Unmarshal([]byte(js.stdout), &rows); err != nil || len(rows) != 1 || rows[0]["diffType"] != "changed" {
		t.Errorf("diff json: %v %s", err, js.stdout)
	}
}

func TestNetpolExposure(t *testing.T) {
	r := run(t, "", "netpol", "exposure", "-f", "../../examples/insecure", "-o", "json")
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	var rows []struct {
		Workload, FromAnyNamespace, FromInternet string
		Via                                      []string
	}
	if err := json.Unmarshal([]byte(r.stdout), &rows); err != nil {
		t.Fatal(err)
	}
	found := 0
	for _, row := range rows {
		switch row.Workload {
		case "shop/web[Deployment]":
			found++
			if row.FromInternet != "All Connections" || !slices.Contains(row.Via, "Service shop/web-legacy (LoadBalancer)") || !slices.Contains(row.Via, "Ingress shop/shop → Service web-legacy") {
				t.Errorf("web: %+v", row)
			}
		case "shop/api[Deployment]":
			found++
			if row.FromInternet != "TCP 9090" || row.FromAnyNamespace != "No Connections" || !slices.ContainsFunc(row.Via, func(v string) bool { return strings.HasPrefix(v, "hostPort TCP ") }) {
				t.Errorf("api: %+v", row)
			}
		}
	}
	if found != 2 {
		t.Errorf("web and api not both listed: %s", r.stdout)
	}
	if r := run(t, "", "netpol", "exposure", "-f", "../../examples/insecure", "-o", "dot"); r.code != ExitError {
		t.Errorf("-o dot: exit %d", r.code)
	}
}

// TestNetpolExposureAll: a workload nothing can reach is listed only with
// --all.
func TestNetpolExposureAll(t *testing.T) {
	in := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: db, namespace: shop}\nspec: {template: {metadata: {labels: {app: db}}, spec: {containers: [{name: c, image: x}]}}}\n" +
		"---\napiVersion: networking.k8s.io/v1\nkind: NetworkPolicy\nmetadata: {name: deny, namespace: shop}\nspec: {podSelector: {}}\n"
	if r := run(t, in, "netpol", "exposure", "-f", "-"); r.code != ExitOK || strings.Contains(r.stdout, "shop/db") {
		t.Errorf("without --all: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
	if r := run(t, in, "netpol", "exposure", "-f", "-", "--all"); r.code != ExitOK || !strings.Contains(r.stdout, "shop/db[Deployment]  No Connections") {
		t.Errorf("with --all: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}
}

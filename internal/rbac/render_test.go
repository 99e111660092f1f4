package rbac

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// goldenWorld is the insecure example's RBAC with a pod and a token
// Secret: every renderer has something to show.
const goldenWorld = escalationBase + `---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: runner, namespace: ci}
rules:
- {apiGroups: [""], resources: [pods], verbs: [create, get]}
- {apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [deployer-token]}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: runner, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: runner}
subjects: [{kind: ServiceAccount, name: runner, namespace: ci}, {kind: Group, name: ci-admins}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: metrics}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: metrics}
subjects: [{kind: User, name: prometheus}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: metrics}
rules:
- {nonResourceURLs: ["/metrics"], verbs: [get]}
- {apiGroups: [""], resources: [nodes/proxy], verbs: [get]}
` + deployerTokenSecret

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", "golden", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test ./internal/rbac -run TestRender -update)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("%s differs from the golden file (run go test ./internal/rbac -run TestRender -update and review the diff):\n%s", name, got)
	}
}

func TestRenderers(t *testing.T) {
	w, objs := world(t, goldenWorld)
	reqs, err := w.ParseResource("pods")
	if err != nil {
		t.Fatal(err)
	}
	req := reqs[0]
	req.Verb = "create"
	whoCan := WhoCanReport{Requests: []Request{req}, AllNamespaces: true, Subjects: w.WhoCan(req, true)}
	runner := Subject{Kind: "ServiceAccount", Namespace: "ci", Name: "runner"}
	can := w.Can(runner, IdentityOf(runner), "ci")
	g := w.Escalation(objs)
	var paths PathsReport
	for _, s := range g.Subjects() {
		if p := g.Paths(s); len(p) > 0 {
			paths.Subjects = append(paths.Subjects, SubjectPaths{Subject: s, Paths: p})
		}
	}
	for _, tc := range []struct {
		name  string
		write func(*bytes.Buffer) error
	}{
		{"who-can.txt", func(b *bytes.Buffer) error { return WriteWhoCan(b, "table", whoCan) }},
		{"who-can.json", func(b *bytes.Buffer) error { return WriteWhoCan(b, "json", whoCan) }},
		{"can.txt", func(b *bytes.Buffer) error { return WriteCan(b, "table", can) }},
		{"can.json", func(b *bytes.Buffer) error { return WriteCan(b, "json", can) }},
		{"paths.txt", func(b *bytes.Buffer) error { return WritePaths(b, "table", paths) }},
		{"paths.json", func(b *bytes.Buffer) error { return WritePaths(b, "json", paths) }},
		{"paths.dot", func(b *bytes.Buffer) error { return WritePaths(b, "dot", paths) }},
		{"paths.mmd", func(b *bytes.Buffer) error { return WritePaths(b, "mermaid", paths) }},
	} {
		var b bytes.Buffer
		if err := tc.write(&b); err != nil {
			t.Fatal(err)
		}
		golden(t, tc.name, b.Bytes())
	}
}

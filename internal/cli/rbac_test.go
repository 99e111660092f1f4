package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/testcluster"
)

const insecureRBAC = "../../examples/insecure"

func TestRBACWhoCan(t *testing.T) {
	r := run(t, "", "rbac", "who-can", "get", "secrets", "-n", "shop", "-f", insecureRBAC)
	if r.code != ExitOK {
		t.Fatalf("exit %d: %s", r.code, r.stderr)
	}
	for _, want := range []string{"system:masters", "ci-runner", "RoleBinding shop/ci-runner → Role shop/ci-runner rules[2]", "release", "default", "platform"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("who-can output lacks %q:\n%s", want, r.stdout)
		}
	}
	js := run(t, "", "rbac", "who-can", "create", "pods/exec", "-A", "-f", insecureRBAC, "-o", "json")
	var rep struct {
		Requests []map[string]any `json:"requests"`
		Subjects []struct {
			Subject map[string]string `json:"subject"`
			Grants  []map[string]any  `json:"grants"`
		} `json:"subjects"`
	}
	if err := json.Unmarshal([]byte(js.stdout), &rep); err != nil {
		t.Fatalf("%v\n%s", err, js.stdout)
	}
	found := false
	for _, s := range rep.Subjects {
		if _, ok := s.Subject["namespace"]; !ok || s.Subject["kind"] == "" {
			t.Errorf("subject without kind/name/namespace: %v", s.Subject)
		}
		if s.Subject["kind"] == "ServiceAccount" && s.Subject["name"] == "ci-runner" && s.Subject["namespace"] == "shop" && len(s.Grants) > 0 {
			found = true
		}
	}
	if !found || rep.Requests[0]["subresource"] != "exec" {
		t.Errorf("ci-runner may exec into pods: %s", js.stdout)
	}
}

func TestRBACCanAndPaths(t *testing.T) {
	can := run(t, "", "rbac", "can", "serviceaccount:shop:ci-runner", "-n", "shop", "-f", insecureRBAC, "-o", "json")
	var perms struct {
		Matrix []struct {
			Resource, Subresource string
			Verbs                 []string
		} `json:"matrix"`
		Bindings []map[string]any `json:"bindings"`
	}
	if err := json.Unmarshal([]byte(can.stdout), &perms); err != nil {
		t.Fatalf("%v\n%s", err, can.stdout)
	}
	got := map[string]string{}
	for _, r := range perms.Matrix {
		got[r.Resource+"/"+r.Subresource] = strings.Join(r.Verbs, ",")
	}
	// view comes from everyone-can-view (system:authenticated), the rest from the Role.
	if got["pods/"] != "get,list,watch,create,delete" || got["secrets/"] != "get,list" || got["pods/exec"] != "create" || len(perms.Bindings) != 2 {
		t.Errorf("can matrix %v, bindings %v", got, perms.Bindings)
	}

	// --group adds groups, as kubectl --as-group does: bob in platform gets platform-ops.
	bob := run(t, "", "rbac", "can", "user:bob", "--group", "platform", "-f", insecureRBAC)
	if !strings.Contains(bob.stdout, "ClusterRoleBinding platform-ops") || !strings.Contains(bob.stdout, "nodes/proxy") {
		t.Errorf("can --group: %s", bob.stdout)
	}
	if alone := run(t, "", "rbac", "can", "user:bob", "-f", insecureRBAC); strings.Contains(alone.stdout, "platform-ops") {
		t.Errorf("without --group bob is not in platform: %s", alone.stdout)
	}

	paths := run(t, "", "rbac", "paths", "serviceaccount:shop:ci-runner", "-f", insecureRBAC)
	if paths.code != ExitOK || !strings.Contains(paths.stdout, "[create-workload]") || !strings.Contains(paths.stdout, "serviceaccount:shop:release") {
		t.Errorf("paths: exit %d\n%s%s", paths.code, paths.stdout, paths.stderr)
	}
	none := run(t, "", "rbac", "paths", "user:nobody", "-f", insecureRBAC)
	if !strings.Contains(none.stdout, "user:nobody cannot reach") {
		t.Errorf("a subject without bindings: %s", none.stdout)
	}
	for format, prefix := range map[string]string{"dot": "digraph escalation {", "mermaid": "flowchart LR", "json": "{"} {
		all := run(t, "", "rbac", "paths", "--all", "-f", insecureRBAC, "-o", format)
		if all.code != ExitOK || !strings.HasPrefix(all.stdout, prefix) || !strings.Contains(all.stdout, "group:platform") {
			t.Errorf("paths --all -o %s: exit %d\n%s", format, all.code, all.stdout)
		}
	}
}

func TestRBACUsageAndInputErrors(t *testing.T) {
	for _, args := range [][]string{
		{"rbac", "who-can", "get", "secrets"},
		{"rbac", "who-can", "get", "secrets", "-f", insecureRBAC, "-n", "a", "-A"},
		{"rbac", "who-can", "get", "frobnicators", "-f", insecureRBAC},
		{"rbac", "who-can", "get", "secrets", "-f", insecureRBAC, "-o", "yaml"},
		{"rbac", "can", "alice", "-f", insecureRBAC},
		{"rbac", "paths", "-f", insecureRBAC},
		{"rbac", "paths", "user:a", "--all", "-f", insecureRBAC},
		{"rbac", "paths", "--all", "-f", insecureRBAC, "-o", "svg"},
	} {
		if r := run(t, "", args...); r.code != ExitError || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "bad.yaml"), []byte("kind: [unclosed\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(insecureRBAC, "rbac.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "rbac.yaml"), data, 0o644); err != nil {
		t.Fatal(err)
	}
	r := run(t, "", "rbac", "who-can", "get", "secrets", "-n", "shop", "-f", dir)
	if r.code != ExitError || !strings.Contains(r.stderr, "bad.yaml") || !strings.Contains(r.stdout, "ci-runner") {
		t.Errorf("a broken file is reported by name and the rest answered: exit %d\n%s\n%s", r.code, r.stdout, r.stderr)
	}
}

// TestRBACCluster answers from a live cluster: the insecure example's RBAC
// applied to the test control plane.
func TestRBACCluster(t *testing.T) {
	cluster := testcluster.Start(t, testcluster.Options{})
	dyn, err := dynamic.NewForConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := t.Context()
	loaded := source.Load(ctx, source.Options{MaxFileSize: 1 << 20}, filepath.Join(insecureRBAC, "namespace.yaml"), filepath.Join(insecureRBAC, "rbac.yaml"))
	if len(loaded.Errors) > 0 {
		t.Fatal(loaded.Errors)
	}
	for _, o := range loaded.Objects {
		gv, _ := schema.ParseGroupVersion(o.APIVersion())
		resource := strings.ToLower(o.Kind()) + "s"
		if o.Kind() == "ServiceAccount" || o.Kind() == "Secret" || o.Kind() == "Namespace" {
			resource = map[string]string{"ServiceAccount": "serviceaccounts", "Secret": "secrets", "Namespace": "namespaces"}[o.Kind()]
		}
		client := dyn.Resource(gv.WithResource(resource))
		obj := &unstructured.Unstructured{Object: o.Body()}
		var err error
		if ns := o.Namespace(); ns != "" {
			_, err = client.Namespace(ns).Create(ctx, obj, metav1.CreateOptions{})
		} else {
			_, err = client.Create(ctx, obj, metav1.CreateOptions{})
		}
		if err != nil {
			t.Fatalf("%s: %v", o, err)
		}
	}
	who := run(t, "", "rbac", "who-can", "get", "secrets", "-n", "shop", "--cluster", "--kubeconfig", cluster.Kubeconfig)
	if who.code != ExitOK || !strings.Contains(who.stdout, "ci-runner") || !strings.Contains(who.stdout, "ClusterRoleBinding cluster-admin → ClusterRole cluster-admin") {
		t.Errorf("who-can on the live cluster: exit %d\n%s%s", who.code, who.stdout, who.stderr)
	}
	paths := run(t, "", "rbac", "paths", "serviceaccount:shop:ci-runner", "--cluster", "--kubeconfig", cluster.Kubeconfig, "-o", "json")
	if paths.code != ExitOK || !strings.Contains(paths.stdout, `"create-workload"`) {
		t.Errorf("paths on the live cluster: exit %d\n%s%s", paths.code, paths.stdout, paths.stderr)
	}
}

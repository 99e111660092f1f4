package cli

import (
	"compress/gzip"
	"context"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/testcluster"
)

const secretValue = "s3cr3t-v4lue-that-must-never-appear"

// TestClusterScan runs scan --cluster, a forbidden-secrets user, and the
// snapshot round trip against a real kube-apiserver and etcd.
func TestClusterScan(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a kube-apiserver")
	}
	cluster := testcluster.Start(t, testcluster.Options{Users: []testcluster.User{{Name: "auditor", Groups: []string{"auditors"}}}})
	cs := cluster.Client(t)
	ctx := context.Background()
	ns := seedInsecureNamespace(t, ctx, cs)
	seedCustomResource(t, ctx, cluster, ns)
	grantAllButSecrets(t, ctx, cs)

	// 1. scan --cluster as admin.
	live := run(t, "", "scan", "--cluster", "--kubeconfig", cluster.Kubeconfig, "-o", "json", "--fail-on", "none")
	if live.code != ExitOK {
		t.Fatalf("scan --cluster: exit %d\n%s", live.code, live.stderr)
	}
	rep := jsonReport(t, live)
	byObject := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Object.Namespace == ns {
			byObject[f.Object.Kind+"/"+f.Object.Name] = append(byObject[f.Object.Kind+"/"+f.Object.Name], f.Check)
		}
		if f.Source != (check.Source{}) {
			t.Errorf("a cluster object has a file source: %+v", f)
		}
	}
	if !slices.Contains(byObject["Deployment/web"], "privileged-container") {
		t.Errorf("privileged Deployment not reported: %v", byObject)
	}
	if len(byObject["ReplicaSet/web-1"]) > 0 || len(byObject["Pod/web-1-a"]) > 0 {
		t.Errorf("objects created from the Deployment's template must be reported at the Deployment: %v", byObject)
	}
	if !slices.Contains(byObject["Pod/web-1-debug"], "privileged-container") {
		t.Errorf("a pod that differs from its template must be reported itself: %v", byObject)
	}
	if !slices.Contains(byObject["Rollout/canary"], "privileged-container") {
		t.Errorf("a custom resource with a pod template was not discovered and checked: %v", byObject)
	}
	if len(rep.Errors) != 0 {
		t.Errorf("admin scan errors: %+v", rep.Errors)
	}

	// 2. A user who may list everything but Secrets: one error, the rest scanned.
	limited := run(t, "", "scan", "--cluster", "--kubeconfig", cluster.UserKubeconfig(t, "auditor"), "-o", "json", "--fail-on", "none")
	lrep := jsonReport(t, limited)
	if limited.code != ExitError || len(lrep.Errors) != 1 || !strings.Contains(lrep.Errors[0].Message, "forbidden: list secrets") {
		t.Errorf("limited user: exit %d, errors %+v", limited.code, lrep.Errors)
	}
	if !slices.ContainsFunc(lrep.Findings, func(f check.Finding) bool { return f.Check == "privileged-container" && f.Object.Namespace == ns }) {
		t.Error("the limited user's scan lost the other resources")
	}

	// 3. Snapshot, then scan the snapshot: the same findings.
	snap := filepath.Join(t.TempDir(), "snap.json.gz")
	if r := run(t, "", "snapshot", "-o", snap, "--kubeconfig", cluster.Kubeconfig); r.code != ExitOK {
		t.Fatalf("snapshot: exit %d\n%s", r.code, r.stderr)
	}
	offline := jsonReport(t, run(t, "", "scan", "--snapshot", snap, "-o", "json", "--fail-on", "none"))
	if got, want := fingerprints(offline), fingerprints(rep); !slices.Equal(got, want) {
		t.Errorf("snapshot scan differs from the live scan: %d vs %d findings", len(got), len(want))
	}

	// 3b. Narrowing: -n, --kinds and --exclude-namespaces.
	narrow := jsonReport(t, run(t, "", "scan", "--cluster", "--kubeconfig", cluster.Kubeconfig, "-o", "json", "--fail-on", "none", "-n", ns, "--kinds", "Deployment,Role"))
	for _, f := range narrow.Findings {
		if f.Object.Namespace != ns || (f.Object.Kind != "Deployment" && f.Object.Kind != "Role" && f.Object.Kind != "Cluster") {
			t.Errorf("-n %s --kinds Deployment,Role reported %+v", ns, f.Object)
		}
	}
	if !slices.ContainsFunc(narrow.Findings, func(f check.Finding) bool { return f.Object.Kind == "Deployment" }) {
		t.Error("-n/--kinds lost the Deployment")
	}
	excluded := jsonReport(t, run(t, "", "scan", "--cluster", "--kubeconfig", cluster.Kubeconfig, "-o", "json", "--fail-on", "none", "--exclude-namespaces", ns))
	if slices.ContainsFunc(excluded.Findings, func(f check.Finding) bool { return f.Object.Namespace == ns }) {
		t.Error("--exclude-namespaces still reports the namespace")
	}

	// 4. The Secret's value appears in no output and not in the snapshot.
	for _, format := range []string{"table", "json", "sarif", "junit", "markdown"} {
		r := run(t, "", "scan", "--cluster", "--kubeconfig", cluster.Kubeconfig, "-o", format, "--fail-on", "none", "-v")
		if strings.Contains(r.stdout+r.stderr, secretValue) || strings.Contains(r.stdout+r.stderr, "czNjcjN0") {
			t.Errorf("-o %s leaks the secret value", format)
		}
	}
	f, err := os.Open(snap)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	gz, err := gzip.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	raw, err := io.ReadAll(gz)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(raw), secretValue) || strings.Contains(string(raw), "czNjcjN0") || strings.Contains(string(raw), "managedFields") {
		t.Error("the snapshot holds a secret value or managedFields")
	}
	if !strings.Contains(string(raw), `"password":""`) {
		t.Error("the snapshot lost the secret's keys")
	}
}

// fingerprints lists a report's finding fingerprints, sorted.
func fingerprints(rep scanReport) []string {
	out := make([]string, 0, len(rep.Findings))
	for _, f := range rep.Findings {
		out = append(out, f.Fingerprint())
	}
	slices.Sort(out)
	return out
}

func seedInsecureNamespace(t *testing.T, ctx context.Context, cs kubernetes.Interface) string {
	t.Helper()
	ns := "shop"
	must := func(_ any, err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}))
	privileged := true
	podSpec := corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "nginx:1.27", SecurityContext: &corev1.SecurityContext{Privileged: &privileged}}}}
	labels := map[string]string{"app": "web"}
	dep, err := cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
		ObjectMeta: metav1.ObjectMeta{Name: "web"},
		Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	// No controllers run here: create what the Deployment controller would.
	yes := true
	rs, err := cs.AppsV1().ReplicaSets(ns).Create(ctx, &appsv1.ReplicaSet{
		ObjectMeta: metav1.ObjectMeta{Name: "web-1", OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "Deployment", Name: dep.Name, UID: dep.UID, Controller: &yes}}},
		Spec: appsv1.ReplicaSetSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels}, Spec: podSpec}},
	}, metav1.CreateOptions{})
	if err != nil {
		t.Fatal(err)
	}
	owned := metav1.ObjectMeta{Labels: labels, OwnerReferences: []metav1.OwnerReference{{APIVersion: "apps/v1", Kind: "ReplicaSet", Name: rs.Name, UID: rs.UID, Controller: &yes}}}
	pod := owned
	pod.Name = "web-1-a"
	must(cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: pod, Spec: podSpec}, metav1.CreateOptions{}))
	debug := owned
	debug.Name = "web-1-debug"
	changed := *podSpec.DeepCopy()
	changed.HostPID = true
	must(cs.CoreV1().Pods(ns).Create(ctx, &corev1.Pod{ObjectMeta: debug, Spec: changed}, metav1.CreateOptions{}))
	must(cs.RbacV1().Roles(ns).Create(ctx, &rbacv1.Role{ObjectMeta: metav1.ObjectMeta{Name: "everything"},
		Rules: []rbacv1.PolicyRule{{APIGroups: []string{"*"}, Resources: []string{"*"}, Verbs: []string{"*"}}}}, metav1.CreateOptions{}))
	must(cs.CoreV1().Secrets(ns).Create(ctx, &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Name: "db",
		Annotations: map[string]string{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"` + secretValue + `"}}`}},
		StringData: map[string]string{"password": secretValue}}, metav1.CreateOptions{}))
	return ns
}

// grantAllButSecrets lets group auditors list every resource except Secrets.
func grantAllButSecrets(t *testing.T, ctx context.Context, cs kubernetes.Interface) {
	t.Helper()
	lists, err := cs.Discovery().ServerPreferredResources()
	if err != nil {
		t.Fatal(err)
	}
	var rules []rbacv1.PolicyRule
	for _, l := range lists {
		group := strings.Split(l.GroupVersion, "/")[0]
		if !strings.Contains(l.GroupVersion, "/") {
			group = ""
		}
		var resources []string
		for _, r := range l.APIResources {
			if !strings.Contains(r.Name, "/") && r.Name != "secrets" {
				resources = append(resources, r.Name)
			}
		}
		if len(resources) > 0 {
			rules = append(rules, rbacv1.PolicyRule{APIGroups: []string{group}, Resources: resources, Verbs: []string{"get", "list"}})
		}
	}
	if _, err := cs.RbacV1().ClusterRoles().Create(ctx, &rbacv1.ClusterRole{ObjectMeta: metav1.ObjectMeta{Name: "auditor"}, Rules: rules}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	if _, err := cs.RbacV1().ClusterRoleBindings().Create(ctx, &rbacv1.ClusterRoleBinding{ObjectMeta: metav1.ObjectMeta{Name: "auditor"},
		RoleRef:  rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "auditor"},
		Subjects: []rbacv1.Subject{{Kind: "Group", APIGroup: "rbac.authorization.k8s.io", Name: "auditors"}}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
}

// seedCustomResource installs a CRD shaped like Argo Rollouts and one
// privileged Rollout, to prove discovery finds custom resources and the
// pod view reads their template.
func seedCustomResource(t *testing.T, ctx context.Context, cluster *testcluster.Cluster, ns string) {
	t.Helper()
	dyn, err := dynamic.NewForConfig(cluster.Admin)
	if err != nil {
		t.Fatal(err)
	}
	crd := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiextensions.k8s.io/v1",
		"kind":       "CustomResourceDefinition",
		"metadata":   map[string]any{"name": "rollouts.example.com"},
		"spec": map[string]any{
			"group": "example.com",
			"names": map[string]any{"kind": "Rollout", "plural": "rollouts", "singular": "rollout", "listKind": "RolloutList"},
			"scope": "Namespaced",
			"versions": []any{map[string]any{
				"name": "v1", "served": true, "storage": true,
				"schema": map[string]any{"openAPIV3Schema": map[string]any{"type": "object", "x-kubernetes-preserve-unknown-fields": true}},
			}},
		},
	}}
	crdGVR := schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	if _, err := dyn.Resource(crdGVR).Create(ctx, crd, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	rollout := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "example.com/v1",
		"kind":       "Rollout",
		"metadata":   map[string]any{"name": "canary", "namespace": ns},
		"spec": map[string]any{"template": map[string]any{"spec": map[string]any{
			"containers": []any{map[string]any{"name": "app", "image": "nginx:1.27", "securityContext": map[string]any{"privileged": true}}},
		}}},
	}}
	gvr := schema.GroupVersionResource{Group: "example.com", Version: "v1", Resource: "rollouts"}
	// The new resource is served once the CRD is established.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := dyn.Resource(gvr).Namespace(ns).Create(ctx, rollout, metav1.CreateOptions{})
		if err == nil {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("creating the custom resource: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package inventory

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

func load(t *testing.T, manifest string) *source.Object {
	t.Helper()
	res := source.ParseBytes("t.yaml", []byte(manifest))
	if len(res.Errors) > 0 || len(res.Objects) != 1 {
		t.Fatalf("load: %v", res.Errors)
	}
	return res.Objects[0]
}

func TestPodOf(t *testing.T) {
	containers := "containers: [{name: c, image: x}]"
	cases := []struct {
		name, manifest, specPath string
	}{
		{"Pod", "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {" + containers + "}\n", "spec"},
		{"Deployment", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"StatefulSet", "apiVersion: apps/v1\nkind: StatefulSet\nmetadata: {name: s}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"DaemonSet", "apiVersion: apps/v1\nkind: DaemonSet\nmetadata: {name: s}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"ReplicaSet", "apiVersion: apps/v1\nkind: ReplicaSet\nmetadata: {name: s}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"ReplicationController", "apiVersion: v1\nkind: ReplicationController\nmetadata: {name: s}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"Job", "apiVersion: batch/v1\nkind: Job\nmetadata: {name: j}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"CronJob", "apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: {spec: {" + containers + "}}}}}\n", "spec.jobTemplate.spec.template.spec"},
		{"PodTemplate", "apiVersion: v1\nkind: PodTemplate\nmetadata: {name: t}\ntemplate: {spec: {" + containers + "}}\n", "template.spec"},
		{"Argo Rollout", "apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec: {template: {spec: {" + containers + "}}}\n", "spec.template.spec"},
		{"a CRD named like a built-in", "apiVersion: example.com/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {podTemplate: {spec: {" + containers + "}}}\n", "spec.podTemplate.spec"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p, err := PodOf(load(t, tc.manifest))
			if err != nil || p == nil {
				t.Fatalf("PodOf = %v, %v", p, err)
			}
			if p.SpecPath != tc.specPath || len(p.Spec.Containers) != 1 {
				t.Errorf("spec path %q, %d containers", p.SpecPath, len(p.Spec.Containers))
			}
		})
	}
	for _, none := range []string{
		"apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c}\ndata: {a: b}\n",
		"apiVersion: example.com/v1\nkind: Widget\nmetadata: {name: w}\nspec: {template: {spec: {notContainers: 1}}}\n",
	} {
		if p, err := PodOf(load(t, none)); p != nil || err != nil {
			t.Errorf("%q has no pod, got %v %v", none, p, err)
		}
	}
}

func TestPodDecodeErrorNamesField(t *testing.T) {
	obj := load(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  containers:\n  - name: c\n    ports: [{containerPort: \"80\"}]\n")
	_, err := PodOf(obj)
	if err == nil || !strings.Contains(err.Error(), "containers.ports.containerPort") || !strings.Contains(err.Error(), "Pod p") {
		t.Errorf("error = %v", err)
	}
	inv := Build([]*source.Object{obj})
	if len(inv.PodErrors()) != 1 || inv.Pod(obj) != nil || inv.Len() != 1 {
		t.Errorf("a malformed pod must stay in the inventory as a plain object and be reported")
	}
}

func TestAPIDefaults(t *testing.T) {
	p, err := PodOf(load(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostNetwork: true\n  containers: [{name: c, ports: [{containerPort: 8080}]}]\n  volumes: [{name: v}]\n"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Spec.Volumes[0].EmptyDir == nil {
		t.Error("a volume without a source must default to emptyDir")
	}
	if p.Spec.Containers[0].Ports[0].HostPort != 8080 {
		t.Error("with hostNetwork, hostPort must default to containerPort")
	}
}

func TestIsControlPlane(t *testing.T) {
	cp := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: etcd\n  namespace: kube-system\n  labels: {component: etcd, tier: control-plane}\nspec:\n  hostNetwork: true\n  containers: [{name: etcd}]\n"
	cases := map[string]bool{
		cp: true,
		strings.Replace(cp, "namespace: kube-system", "namespace: default", 1): false,
		strings.Replace(cp, "hostNetwork: true", "hostNetwork: false", 1):      false,
		strings.Replace(cp, "component: etcd", "component: my-app", 1):         false,
		strings.Replace(cp, "  namespace: kube-system\n", "", 1):               true, // /etc/kubernetes/manifests
		strings.Replace(cp, "kind: Pod", "kind: Deployment", 1):                false,
		strings.Replace(cp, "tier: control-plane", "tier: frontend", 1):        false,
	}
	for manifest, want := range cases {
		p, err := PodOf(load(t, manifest))
		if err != nil {
			t.Fatal(err)
		}
		if got := p != nil && p.IsControlPlane(); got != want {
			t.Errorf("IsControlPlane = %v, want %v for\n%s", got, want, manifest)
		}
	}
}

func TestInventoryIndex(t *testing.T) {
	res := source.ParseBytes("t.yaml", []byte("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: a, namespace: n}\n---\napiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: r, namespace: n}\n"))
	inv := Build(res.Objects)
	if _, ok := inv.Get(Key{Kind: "ServiceAccount", Namespace: "n", Name: "a"}); !ok {
		t.Error("lookup by key")
	}
	if _, ok := inv.Get(Key{Kind: "ServiceAccount", Namespace: "m", Name: "a"}); ok {
		t.Error("lookup found an object in the wrong namespace")
	}
	if _, ok := inv.Get(Key{Group: "rbac.authorization.k8s.io", Kind: "Role", Namespace: "n", Name: "r"}); !ok {
		t.Error("Get by group/kind/namespace/name")
	}
}

// TestPodMetadataShared: a Deployment's template, its ReplicaSet's and its
// pods with the same labels and annotations share one metadata view, which
// holds them; different annotations get their own; a label that is not a
// string is still a decode error naming the field.
func TestPodMetadataShared(t *testing.T) {
	const labels = "{app: web, tier: backend}"
	spec := "spec: {containers: [{name: c, image: x}]}"
	// Loaded from a file, as a scan loads it: the loader shares equal
	// blocks (ParseBytes does not).
	path := filepath.Join(t.TempDir(), "web.yaml")
	if err := os.WriteFile(path, []byte(`apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels: `+labels+`
spec:
  template:
    metadata:
      labels: `+labels+`
    `+spec+`
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1
  namespace: shop
  labels: `+labels+`
  ownerReferences: [{kind: ReplicaSet, name: web-5d8f, uid: u}]
`+spec+`
---
apiVersion: v1
kind: Pod
metadata:
  name: web-2
  labels: `+labels+`
  annotations: {container.apparmor.security.beta.kubernetes.io/c: unconfined}
`+spec+`
`), 0o600); err != nil {
		t.Fatal(err)
	}
	res := source.Load(t.Context(), source.Options{MaxFileSize: 1 << 20}, path)
	if len(res.Errors) != 0 || len(res.Objects) != 3 {
		t.Fatalf("load: %d objects, errors %v", len(res.Objects), res.Errors)
	}
	inv := Build(res.Objects)
	if len(inv.PodErrors()) != 0 {
		t.Fatal(inv.PodErrors())
	}
	deployment, pod, annotated := inv.Pod(res.Objects[0]), inv.Pod(res.Objects[1]), inv.Pod(res.Objects[2])
	if deployment.Meta != pod.Meta {
		t.Error("a template and a pod with the same labels have two metadata views")
	}
	if got := pod.Meta.Labels; len(got) != 2 || got["app"] != "web" || got["tier"] != "backend" {
		t.Errorf("labels %v", got)
	}
	if annotated.Meta == pod.Meta || annotated.Meta.Annotations["container.apparmor.security.beta.kubernetes.io/c"] != "unconfined" || annotated.Meta.Labels["app"] != "web" {
		t.Errorf("annotated pod's metadata: %+v", annotated.Meta)
	}

	bad := load(t, "apiVersion: v1\nkind: Pod\nmetadata: {name: p, labels: {app: [web]}}\n"+spec+"\n")
	if _, err := PodOf(bad); err == nil || !strings.Contains(err.Error(), "metadata") || !strings.Contains(err.Error(), "labels") {
		t.Errorf("a list as a label value: error %v", err)
	}
}

// TestKeyIndexCollisions: with every key hashing alike, the index still
// finds each object, and the last one loaded for a repeated key.
func TestKeyIndexCollisions(t *testing.T) {
	res := source.ParseBytes("t.yaml", []byte(`apiVersion: v1
kind: ServiceAccount
metadata: {name: a, namespace: n}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: b, namespace: n}
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: a, namespace: n, labels: {second: "true"}}
---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: a, namespace: n}
`))
	for name, hash := range map[string]func(Key) uint64{
		"maphash":  nil,
		"constant": func(Key) uint64 { return 7 },
	} {
		x := newKeyIndex(res.Objects, hash)
		want := map[Key]*source.Object{
			{Kind: "ServiceAccount", Namespace: "n", Name: "a"}:                           res.Objects[2],
			{Kind: "ServiceAccount", Namespace: "n", Name: "b"}:                           res.Objects[1],
			{Group: "rbac.authorization.k8s.io", Kind: "Role", Namespace: "n", Name: "a"}: res.Objects[3],
		}
		for k, o := range want {
			if got, ok := x.get(k); !ok || got != o {
				t.Errorf("%s: %v found %v", name, k, got)
			}
		}
		if o, ok := x.get(Key{Kind: "ServiceAccount", Namespace: "m", Name: "a"}); ok {
			t.Errorf("%s: found %v in the wrong namespace", name, o)
		}
	}
	if o, ok := (keyIndex{}).get(Key{Kind: "ServiceAccount"}); ok {
		t.Errorf("an empty index found %v", o)
	}
}

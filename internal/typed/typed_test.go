package typed

import (
	"context"
	"math"
	"os"
	"reflect"
	"testing"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/kubeharden/kubeharden/internal/source"
)

// agree decodes in into a new value of into's type both ways and fails t
// when the answers differ: both errors or both values, and equal values.
// With a cache, it decodes through it too, and compares that as well.
func agree(t testing.TB, name string, in map[string]any, into func() any, caches ...*MapCache) {
	t.Helper()
	want, got := into(), into()
	wantErr := runtime.DefaultUnstructuredConverter.FromUnstructured(in, want)
	gotErr := FromUnstructured(in, got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s: apimachinery error %v, ours %v", name, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%s: decoded differently:\napimachinery: %#v\nours:         %#v", name, want, got)
	}
	for _, c := range caches {
		cached := into()
		if err := c.FromUnstructured(in, cached); (err == nil) != (wantErr == nil) {
			t.Fatalf("%s: apimachinery error %v, ours through a cache %v", name, wantErr, err)
		} else if err == nil && !reflect.DeepEqual(want, cached) {
			t.Fatalf("%s: decoded differently through a cache:\napimachinery: %#v\nours:         %#v", name, want, cached)
		}
	}
}

// agreeFields holds FromFields, reading o one field at a time, to what
// FromUnstructured decodes from its whole document.
func agreeFields(t testing.TB, name string, o *source.Object, into func() any) {
	t.Helper()
	want, got := into(), into()
	wantErr := FromUnstructured(o.Body(), want)
	gotErr := FromFields(o.Field, got)
	if (wantErr == nil) != (gotErr == nil) {
		t.Fatalf("%s: FromUnstructured error %v, FromFields %v", name, wantErr, gotErr)
	}
	if wantErr == nil && !reflect.DeepEqual(want, got) {
		t.Fatalf("%s: decoded differently one field at a time:\nwhole: %#v\nfields: %#v", name, want, got)
	}
}

// TestFromFields: a struct is decoded from the fields a function gives as
// from the mapping that holds them; what cannot be decoded so is an error.
func TestFromFields(t *testing.T) {
	body := map[string]any{"apiVersion": "rbac.authorization.k8s.io/v1", "kind": "Role", "metadata": map[string]any{"name": "r", "labels": map[string]any{"a": "b"}},
		"rules": []any{map[string]any{"verbs": []any{"get"}, "resources": []any{"pods"}}}, "unknown": int64(1)}
	o := source.NewObject(body, source.Position{}, -1)
	agreeFields(t, "role", o, func() any { return &rbacv1.ClusterRole{} })
	var binding struct {
		RoleRef rbacv1.RoleRef `json:"roleRef"`
	}
	bad := source.NewObject(map[string]any{"kind": "RoleBinding", "roleRef": "not a mapping"}, source.Position{}, -1)
	if err := FromFields(bad.Field, &binding); err == nil {
		t.Error("a roleRef that is not a mapping decoded")
	}
	type rest map[string]any
	var whole struct {
		rest // embedded without a JSON name: receives the whole mapping
		Raw  string
	}
	if err := FromFields(o.Field, &whole); err == nil {
		t.Error("a struct that inlines a map decoded field by field")
	}
	if err := FromFields(o.Field, &binding.RoleRef.Name); err == nil {
		t.Error("a string decoded as a struct")
	}
}

// TestMapCache: maps decoded from one source map through a cache are one
// map; a different destination type or source map gets its own; a map
// that does not decode is an error every time.
func TestMapCache(t *testing.T) {
	labels := map[string]any{"app": "web", "tier": "backend"}
	resources := map[string]any{"cpu": "100m", "memory": "128Mi"}
	c := NewMapCache()
	var a, b metav1.ObjectMeta
	if err := c.FromUnstructured(map[string]any{"name": "a", "labels": labels}, &a); err != nil {
		t.Fatal(err)
	}
	if err := c.FromUnstructured(map[string]any{"name": "b", "labels": labels, "annotations": labels}, &b); err != nil {
		t.Fatal(err)
	}
	if reflect.ValueOf(a.Labels).UnsafePointer() != reflect.ValueOf(b.Labels).UnsafePointer() {
		t.Error("labels decoded from one map are two maps")
	}
	if a.Name != "a" || b.Name != "b" || b.Annotations["tier"] != "backend" {
		t.Errorf("decoded %+v and %+v", a, b)
	}
	var r1, r2 corev1.ResourceRequirements
	for _, r := range []*corev1.ResourceRequirements{&r1, &r2} {
		if err := c.FromUnstructured(map[string]any{"limits": resources, "requests": resources}, r); err != nil {
			t.Fatal(err)
		}
	}
	if reflect.ValueOf(r1.Limits).UnsafePointer() != reflect.ValueOf(r2.Requests).UnsafePointer() || r1.Limits.Cpu().MilliValue() != 100 {
		t.Errorf("resource lists: %v and %v", r1.Limits, r2.Requests)
	}
	// The same source map into another type is decoded for that type.
	var sel metav1.LabelSelector
	if err := c.FromUnstructured(map[string]any{"matchLabels": resources}, &sel); err != nil || sel.MatchLabels["cpu"] != "100m" {
		t.Errorf("matchLabels %v, %v", sel.MatchLabels, err)
	}
	bad := map[string]any{"cpu": "lots"}
	for range 2 {
		if err := c.FromUnstructured(map[string]any{"limits": bad}, &corev1.ResourceRequirements{}); err == nil {
			t.Error("an invalid quantity decoded")
		}
	}
	var nilCache *MapCache
	if err := nilCache.FromUnstructured(map[string]any{"labels": labels}, &a); err != nil || a.Labels["app"] != "web" {
		t.Errorf("a nil cache: %v, %v", a.Labels, err)
	}
}

func TestAgreesOnCases(t *testing.T) {
	cases := map[string]map[string]any{
		"empty": {},
		"pod": {"containers": []any{map[string]any{"name": "a", "image": "nginx", "ports": []any{map[string]any{"containerPort": int64(80), "protocol": "TCP"}},
			"resources":       map[string]any{"limits": map[string]any{"cpu": "100m", "memory": int64(1 << 20)}, "requests": map[string]any{"cpu": 0.5}},
			"securityContext": map[string]any{"privileged": true, "runAsUser": float64(1000), "capabilities": map[string]any{"drop": []any{"ALL"}}},
			"livenessProbe":   map[string]any{"httpGet": map[string]any{"port": "http", "path": "/"}, "periodSeconds": int64(5)},
			"readinessProbe":  map[string]any{"tcpSocket": map[string]any{"port": int64(8080)}},
			"env":             []any{map[string]any{"name": "X", "value": nil}, nil}}},
			"volumes":      []any{map[string]any{"name": "v", "hostPath": map[string]any{"path": "/"}}, map[string]any{"name": "c", "configMap": map[string]any{"name": "x", "defaultMode": int64(0o644)}}},
			"nodeSelector": map[string]any{"a": "b", "c": nil},
			"hostNetwork":  true, "unknownField": "ignored", "priority": nil},
		"fractional int":                 {"terminationGracePeriodSeconds": 1.5},
		"string for int":                 {"terminationGracePeriodSeconds": "30"},
		"int for string":                 {"serviceAccountName": int64(3)},
		"bool for string":                {"serviceAccountName": true},
		"map for slice":                  {"containers": map[string]any{}},
		"slice for struct":               {"securityContext": []any{}},
		"string for map":                 {"nodeSelector": "x"},
		"scalar in list":                 {"containers": []any{"x"}},
		"bad quantity":                   {"overhead": map[string]any{"cpu": "lots"}},
		"int-or-string float":            {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"httpGet": map[string]any{"port": 1.5}}}}},
		"int-or-string whole float":      {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"httpGet": map[string]any{"port": 8080.0}}}}},
		"int-or-string int64 over int32": {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"httpGet": map[string]any{"port": int64(1) << 33}}}}},
		"int-or-string int32 bounds": {"containers": []any{map[string]any{"name": "a",
			"livenessProbe":  map[string]any{"httpGet": map[string]any{"port": int64(math.MaxInt32)}},
			"readinessProbe": map[string]any{"httpGet": map[string]any{"port": int64(math.MinInt32)}}}}},
		"int-or-string bool":      {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"tcpSocket": map[string]any{"port": true}}}}},
		"int-or-string html":      {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"tcpSocket": map[string]any{"port": "<a&b>"}}}}},
		"int-or-string bad utf-8": {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"tcpSocket": map[string]any{"port": "\xff\xfe"}}}}},
		"int-or-string empty":     {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"tcpSocket": map[string]any{"port": ""}}}}},
		"int-or-string map":       {"containers": []any{map[string]any{"name": "a", "livenessProbe": map[string]any{"tcpSocket": map[string]any{"port": map[string]any{}}}}}},
	}
	for name, in := range cases {
		agree(t, name, in, func() any { return &corev1.PodSpec{} })
	}
	agree(t, "meta", map[string]any{"name": "x", "labels": map[string]any{"a": "b"}, "creationTimestamp": "2024-01-02T03:04:05Z",
		"ownerReferences": []any{map[string]any{"kind": "ReplicaSet", "name": "r", "controller": true}}, "generation": int64(3)},
		func() any { return &metav1.ObjectMeta{} })
	agree(t, "meta bad time", map[string]any{"creationTimestamp": "yesterday"}, func() any { return &metav1.ObjectMeta{} })
	agree(t, "secret data", map[string]any{"data": map[string]any{"k": "aGVsbG8="}, "type": "Opaque"}, func() any { return &corev1.Secret{} })
	agree(t, "secret bad base64", map[string]any{"data": map[string]any{"k": "!!"}}, func() any { return &corev1.Secret{} })
	agree(t, "deployment strategy", map[string]any{"strategy": map[string]any{"type": "RollingUpdate",
		"rollingUpdate": map[string]any{"maxSurge": "25%", "maxUnavailable": int64(0)}}}, func() any { return &appsv1.DeploymentSpec{} })
}

// TestAgreesOnCorpus decodes every object of the real-world corpus whose
// kind the client-go scheme (or apiextensions) knows, and every pod
// template, both ways.
func TestAgreesOnCorpus(t *testing.T) {
	const corpus = "../../../shared/corpus/real"
	if _, err := os.Stat(corpus); err != nil {
		t.Skipf("real-world corpus not found at %s (it lives in ../shared beside the repository)", corpus)
	}
	res := source.Load(context.Background(), source.Options{}, corpus)
	// One cache for the whole corpus, as a decoding worker has: the
	// loader shares equal blocks, so maps are handed out again.
	cache := NewMapCache()
	typedObjects, templates := 0, 0
	for _, o := range res.Objects {
		gvk := schema.FromAPIVersionAndKind(o.APIVersion(), o.Kind())
		var newObj func() any
		if _, err := scheme.Scheme.New(gvk); err == nil {
			newObj = func() any { o, _ := scheme.Scheme.New(gvk); return o }
		} else if gvk.Group == apiextensionsv1.GroupName && gvk.Kind == "CustomResourceDefinition" {
			newObj = func() any { return &apiextensionsv1.CustomResourceDefinition{} }
		}
		if newObj != nil {
			agree(t, o.String(), o.Body(), newObj, cache)
			agreeFields(t, o.String(), o, newObj)
			typedObjects++
		}
		for _, tmpl := range templateSpecs(o.Body()) {
			agree(t, o.String()+" pod template", tmpl, func() any { return &corev1.PodSpec{} }, cache)
			templates++
		}
	}
	t.Logf("%d typed objects and %d pod specs decoded identically", typedObjects, templates)
	if typedObjects < 5000 {
		t.Errorf("only %d typed objects compared", typedObjects)
	}
}

// templateSpecs finds pod specs at the usual places, including in custom
// resources the scheme does not know.
func templateSpecs(body map[string]any) []map[string]any {
	var out []map[string]any
	for _, path := range [][]string{{"spec"}, {"spec", "template", "spec"}, {"spec", "jobTemplate", "spec", "template", "spec"}} {
		var cur any = body
		for _, k := range path {
			m, _ := cur.(map[string]any)
			cur = m[k]
		}
		if m, ok := cur.(map[string]any); ok {
			if _, ok := m["containers"]; ok {
				out = append(out, m)
			}
		}
	}
	return out
}

// FuzzAgrees decodes manifests as the loader reads them into a Pod and a
// PodSpec both ways, and into a Pod and a ClusterRole one field at a time.
func FuzzAgrees(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: a, labels: {x: y}}\nspec:\n  containers:\n  - name: c\n    resources: {limits: {cpu: 1}}\n    ports: [{containerPort: 80}]\n",
		"kind: Pod\nspec: {hostPID: yes, containers: [{name: a, securityContext: {runAsUser: 1.0}}]}\n",
		"kind: Pod\nspec: {volumes: [{name: v, emptyDir: {sizeLimit: 1Gi}}], overhead: {cpu: x}}\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		cache := NewMapCache()
		for _, o := range source.ParseBytes("fuzz", data).Objects {
			agree(t, "pod", o.Body(), func() any { return &corev1.Pod{} }, cache)
			agreeFields(t, "pod", o, func() any { return &corev1.Pod{} })
			agreeFields(t, "role", o, func() any { return &rbacv1.ClusterRole{} })
			if spec, ok := o.Field("spec").(map[string]any); ok {
				agree(t, "spec", spec, func() any { return &corev1.PodSpec{} }, cache)
			}
		}
	})
}

func BenchmarkPodSpec(b *testing.B) {
	in := map[string]any{"containers": []any{map[string]any{"name": "a", "image": "nginx:1.27",
		"ports":           []any{map[string]any{"containerPort": int64(80)}},
		"resources":       map[string]any{"limits": map[string]any{"cpu": "100m", "memory": "128Mi"}},
		"securityContext": map[string]any{"runAsNonRoot": true, "capabilities": map[string]any{"drop": []any{"ALL"}}}}},
		"volumes": []any{map[string]any{"name": "c", "configMap": map[string]any{"name": "x"}}}}
	b.Run("apimachinery", func(b *testing.B) {
		for b.Loop() {
			if err := runtime.DefaultUnstructuredConverter.FromUnstructured(in, &corev1.PodSpec{}); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("typed", func(b *testing.B) {
		for b.Loop() {
			if err := FromUnstructured(in, &corev1.PodSpec{}); err != nil {
				b.Fatal(err)
			}
		}
	})
}

package source

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestRedact(t *testing.T) {
	secret := map[string]any{
		"apiVersion": "v1", "kind": "Secret",
		"metadata": map[string]any{"name": "db", "managedFields": []any{"x"},
			"annotations": map[string]any{"kubectl.kubernetes.io/last-applied-configuration": `{"data":{"password":"c2VjcmV0"}}`, "team": "a"}},
		"data":       map[string]any{"password": "c2VjcmV0"},
		"stringData": map[string]any{"token": "plain"},
	}
	Redact(secret)
	md := secret["metadata"].(map[string]any)
	if _, ok := md["managedFields"]; ok {
		t.Error("managedFields kept")
	}
	if ann := md["annotations"].(map[string]any); len(ann) != 1 || ann["team"] != "a" {
		t.Errorf("annotations = %v", ann)
	}
	if !reflect.DeepEqual(secret["data"], map[string]any{"password": ""}) || !reflect.DeepEqual(secret["stringData"], map[string]any{"token": ""}) {
		t.Errorf("values kept: %v %v", secret["data"], secret["stringData"])
	}
	cm := map[string]any{"apiVersion": "v1", "kind": "ConfigMap", "metadata": map[string]any{"name": "c"}, "data": map[string]any{"k": "v"}}
	Redact(cm)
	if cm["data"].(map[string]any)["k"] != "v" {
		t.Error("a ConfigMap was redacted")
	}
}

func TestSnapshotRoundTrip(t *testing.T) {
	for _, name := range []string{"snap.json", "snap.json.gz"} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), name)
			w, err := CreateSnapshot(path)
			if err != nil {
				t.Fatal(err)
			}
			info := ClusterInfo{Host: "https://k:6443", GitVersion: "v1.37.2", Anonymous: AnonymousAccess{Authenticated: true, Allowed: []string{"list pods", "get secrets"}}}
			if err := w.Begin(info, time.Unix(0, 0)); err != nil {
				t.Fatal(err)
			}
			objs := []*Object{
				NewObject(map[string]any{"apiVersion": "v1", "kind": "Pod", "metadata": map[string]any{"name": "p", "namespace": "n"}, "spec": map[string]any{"priority": int64(7), "ratio": 0.5}}, Position{}, -1),
				NewObject(map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "metadata": map[string]any{"name": "d"}}, Position{}, -1),
			}
			for _, o := range objs {
				if err := w.Write(o); err != nil {
					t.Fatal(err)
				}
			}
			if err := w.Close(); err != nil {
				t.Fatal(err)
			}
			res, got, err := LoadSnapshot(path)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, ClusterInfo{Host: info.Host, GitVersion: info.GitVersion, Anonymous: AnonymousAccess{Authenticated: true, Allowed: info.Anonymous.Allowed, Checked: true}}) {
				t.Errorf("info = %+v", got)
			}
			if len(res.Objects) != 2 || len(res.Errors) != 0 {
				t.Fatalf("objects %d errors %v", len(res.Objects), res.Errors)
			}
			for i, o := range res.Objects {
				if !reflect.DeepEqual(o.Body(), objs[i].Body()) {
					t.Errorf("object %d = %#v, want %#v (numbers must come back as int64/float64)", i, o.Body(), objs[i].Body())
				}
				if o.Source.File != "" {
					t.Error("snapshot objects must have no file source, like live ones")
				}
			}
		})
	}
}

func TestLoadSnapshotRejects(t *testing.T) {
	dir := t.TempDir()
	cases := map[string]string{
		"not-json":       "apiVersion: v1\n",
		"not-a-snapshot": `{"apiVersion":"v1","kind":"List","metadata":{},"items":[]}`,
		"bad-items":      `{"metadata":{"annotations":{"kubeharden.io/snapshot":"v1"}},"items":{}}`,
	}
	for name, content := range cases {
		path := filepath.Join(dir, name)
		if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		if _, _, err := LoadSnapshot(path); err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("%s: err = %v, want one naming the file", name, err)
		}
	}
	// An item without kind is reported and the rest read.
	path := filepath.Join(dir, "partial.json")
	content := `{"metadata":{"annotations":{"kubeharden.io/snapshot":"v1"}},"items":[{"apiVersion":"v1","metadata":{"name":"x"}},{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p"}}]}`
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	res, _, err := LoadSnapshot(path)
	if err != nil || len(res.Objects) != 1 || len(res.Errors) != 1 || !strings.Contains(res.Errors[0].Source, "items[0]") {
		t.Errorf("partial snapshot: %v %+v", err, res)
	}
}

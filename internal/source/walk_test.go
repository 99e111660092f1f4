//go:build unix

package source

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"
)

// TestWalkOrder: objects come in the order filepath.WalkDir visits their
// files, on a tree of many directories and more files than the walk runs
// ahead of the workers.
func TestWalkOrder(t *testing.T) {
	dir := t.TempDir()
	rng := rand.New(rand.NewPCG(7, 8))
	for i := range 600 {
		depth := rng.IntN(4)
		var parts []string
		for range depth {
			parts = append(parts, fmt.Sprintf("d%d", rng.IntN(5)))
		}
		name := fmt.Sprintf("f%03d.yaml", i)
		p := filepath.Join(append(append([]string{dir}, parts...), name)...)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		body := fmt.Sprintf("apiVersion: v1\nkind: ConfigMap\nmetadata: {name: c%d}\n", i)
		if err := os.WriteFile(p, []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	var want []string
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err == nil && !d.IsDir() {
			want = append(want, p)
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, workers := range []int{1, 2, 5} {
		res := Load(context.Background(), Options{Workers: workers}, dir)
		var got []string
		for _, o := range res.Objects {
			got = append(got, o.Source.File)
		}
		if len(res.Errors) > 0 || !slices.Equal(got, want) {
			t.Errorf("%d workers: %d objects (errors %v), not in walk order of %d files", workers, len(got), res.Errors, len(want))
		}
	}
}

func TestWalkSkipsLinksAndSpecialFiles(t *testing.T) {
	dir := t.TempDir()
	outside := t.TempDir()
	pod := "apiVersion: v1\nkind: Pod\nmetadata: {name: %s}\n"
	mustWrite(t, filepath.Join(dir, "app/pod.yaml"), fmt.Sprintf(pod, "inside"))
	mustWrite(t, filepath.Join(outside, "pod.yaml"), fmt.Sprintf(pod, "outside"))
	if err := os.Symlink(outside, filepath.Join(dir, "app/linked-dir")); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink(filepath.Join(outside, "pod.yaml"), filepath.Join(dir, "app/linked.yaml")); err != nil {
		t.Fatal(err)
	}
	// A FIFO named like a manifest would block an open for reading until
	// a writer came.
	fifo := filepath.Join(dir, "app/pipe.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skip("no FIFOs here:", err)
	}
	done := make(chan *Result)
	go func() { done <- Load(context.Background(), Options{}, dir) }()
	var res *Result
	select {
	case res = <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("loading a tree with a FIFO in it hangs")
	}
	if len(res.Objects) != 1 || res.Objects[0].Name() != "inside" {
		t.Errorf("objects %v: want only the pod inside the tree (links are not followed)", res.Objects)
	}
	if len(res.Errors) != 1 || res.Errors[0].Source != fifo || !strings.Contains(res.Errors[0].Err.Error(), "not a regular file") {
		t.Errorf("errors %v: want the FIFO refused as not a regular file", res.Errors)
	}

	// Named by the user, a link to a directory is walked.
	res = Load(context.Background(), Options{}, filepath.Join(dir, "app/linked-dir"))
	if len(res.Objects) != 1 || res.Objects[0].Name() != "outside" {
		t.Errorf("a directory named through a link: objects %v, errors %v", res.Objects, res.Errors)
	}
}

func TestDirKindFromEntries(t *testing.T) {
	cases := []struct {
		name  string
		setup func(dir string)
		want  taskKind
	}{
		{"plain", func(dir string) { mustWrite(t, filepath.Join(dir, "a.yaml"), "") }, taskFile},
		{"chart", func(dir string) { mustWrite(t, filepath.Join(dir, "Chart.yaml"), "") }, taskHelm},
		{"chart through a link", func(dir string) {
			mustWrite(t, filepath.Join(dir, "real/Chart.yaml"), "")
			if err := os.Symlink(filepath.Join(dir, "real/Chart.yaml"), filepath.Join(dir, "Chart.yaml")); err != nil {
				t.Fatal(err)
			}
		}, taskHelm},
		{"broken link", func(dir string) {
			if err := os.Symlink(filepath.Join(dir, "missing"), filepath.Join(dir, "Chart.yaml")); err != nil {
				t.Fatal(err)
			}
		}, taskFile},
		{"Chart.yaml directory", func(dir string) { mustWrite(t, filepath.Join(dir, "Chart.yaml/x"), "") }, taskFile},
		{"kustomization.yml", func(dir string) { mustWrite(t, filepath.Join(dir, "kustomization.yml"), "") }, taskKustomize},
		{"Kustomization", func(dir string) { mustWrite(t, filepath.Join(dir, "Kustomization"), "") }, taskKustomize},
		{"chart wins", func(dir string) {
			mustWrite(t, filepath.Join(dir, "Chart.yaml"), "")
			mustWrite(t, filepath.Join(dir, "kustomization.yaml"), "")
		}, taskHelm},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.setup(dir)
			entries, err := os.ReadDir(dir)
			if err != nil {
				t.Fatal(err)
			}
			if got := dirKind(dir, entries); got != tc.want {
				t.Errorf("dirKind = %v, want %v", got, tc.want)
			}
		})
	}
}

func mustWrite(t *testing.T, path, content string) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReadFile: a file is read whole in its buffer, and files whose size
// stat does not tell (procfs reports 0) are read to their end, within the
// limit.
func TestReadFile(t *testing.T) {
	dir := t.TempDir()
	body := strings.Repeat("apiVersion: v1\n", 1000)
	mustWrite(t, filepath.Join(dir, "a.yaml"), body)
	mustWrite(t, filepath.Join(dir, "empty.yaml"), "")
	buf := make([]byte, 0, 64<<10)
	got, err := readFile(filepath.Join(dir, "a.yaml"), 1<<20, buf)
	if err != nil || string(got) != body || &got[:1][0] != &buf[:1][0] {
		t.Errorf("read %d bytes (err %v, in the given buffer: %v), want %d", len(got), err, err == nil && len(got) > 0 && &got[:1][0] == &buf[:1][0], len(body))
	}
	if got, err := readFile(filepath.Join(dir, "empty.yaml"), 1<<20, nil); err != nil || len(got) != 0 {
		t.Errorf("empty file: %q, %v", got, err)
	}
	if _, err := readFile(filepath.Join(dir, "a.yaml"), 100, nil); err == nil || !strings.Contains(err.Error(), "per-file limit") {
		t.Errorf("over the limit: %v", err)
	}
	const proc = "/proc/self/status" // size 0 in stat, content when read
	if info, err := os.Stat(proc); err != nil || info.Size() != 0 {
		t.Skip("no procfs file of unknown size here")
	}
	got, err = readFile(proc, 1<<20, nil)
	if err != nil || !strings.Contains(string(got), "Pid:") {
		t.Errorf("%s: %d bytes, %v", proc, len(got), err)
	}
	if _, err := readFile(proc, 16, nil); err == nil || !strings.Contains(err.Error(), "per-file limit") {
		t.Errorf("%s over a 16-byte limit: %v", proc, err)
	}
}

// TestTemplateNotAFile: a "# Source:" comment on stdin names a path the
// input chose; field lines are not looked for in a device or a FIFO (the
// read would never end), and the objects keep their own lines.
func TestTemplateNotAFile(t *testing.T) {
	fifo := filepath.Join(t.TempDir(), "template.yaml")
	if err := syscall.Mkfifo(fifo, 0o644); err != nil {
		t.Skipf("no FIFOs here: %v", err)
	}
	for _, template := range []string{fifo, "/dev/zero"} {
		if _, err := os.Stat(template); err != nil {
			continue
		}
		stdin := "# Source: " + template + "\napiVersion: v1\nkind: Pod\nmetadata:\n  name: p\nspec:\n  hostNetwork: true\n"
		done := make(chan *Result, 1)
		go func() { done <- ParseBytes("-", []byte(stdin)) }()
		select {
		case res := <-done:
			if len(res.Objects) != 1 {
				t.Fatalf("%s: %d objects, errors %v", template, len(res.Objects), res.Errors)
			}
			if o := res.Objects[0]; o.FieldLine("spec.hostNetwork") != o.Source.Line {
				t.Errorf("%s: a field line from a file that is not one", template)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%s: reading the template did not end", template)
		}
	}
}

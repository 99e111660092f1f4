package check

import (
	"strconv"
	"sync"
	"testing"
	"unsafe"
)

func TestText(t *testing.T) {
	env := NewEnv(nil, Settings{})
	builds := 0
	path := NewTextKind(func(a, b string) string { builds++; return a + "." + b })
	upper := NewTextKind(func(a, b string) string { return a + "/" + b })

	first := env.Text(path, "spec.containers[0]", "image")
	again := env.Text(path, "spec.containers[0]", "image")
	if first != "spec.containers[0].image" || again != first || unsafe.StringData(again) != unsafe.StringData(first) || builds != 1 {
		t.Errorf("Text = %q then %q (same bytes: %v), built %d times; want one string built once",
			first, again, unsafe.StringData(again) == unsafe.StringData(first), builds)
	}
	if got := env.Text(upper, "spec.containers[0]", "image"); got != "spec.containers[0]/image" {
		t.Errorf("another kind with the same parts gave %q", got)
	}
	if got := env.Text(path, "spec.containers[0].image", ""); got != "spec.containers[0].image." {
		t.Errorf("parts are not joined before the lookup: %q", got)
	}
	if got := NewEnv(nil, Settings{}).Text(path, "spec.containers[0]", "image"); got != first || builds != 3 {
		t.Errorf("another Env: %q after %d builds, want its own build", got, builds)
	}
}

// TestTextBounded: past its capacity the cache builds texts without
// keeping them, and concurrent callers always get the right text.
func TestTextBounded(t *testing.T) {
	env := NewEnv(nil, Settings{})
	kind := NewTextKind(func(a, b string) string { return a + b })
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			for i := range 3 * textShards * textShardMax / 2 {
				a := strconv.Itoa(i)
				if got := env.Text(kind, a, "x"); got != a+"x" {
					t.Errorf("worker %d: Text(%q) = %q", w, a, got)
					return
				}
			}
		})
	}
	wg.Wait()
	for i := range env.texts.shards {
		if n := len(env.texts.shards[i].m); n > textShardMax {
			t.Errorf("shard %d holds %d texts, more than %d", i, n, textShardMax)
		}
	}
}

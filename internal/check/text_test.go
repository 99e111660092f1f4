package check

import (
	"strconv"
	"sync"
	"sync/atomic"
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
	env.run.texts = newTextCache(textSlotsMax)
	var builds atomic.Int64
	kind := NewTextKind(func(a, b string) string { builds.Add(1); return a + b })
	var wg sync.WaitGroup
	const texts = 2 * textSlotsMax
	for w := range 4 {
		wg.Go(func() {
			for i := range texts {
				a := strconv.Itoa(i)
				if got := env.Text(kind, a, "x"); got != a+"x" {
					t.Errorf("worker %d: Text(%q) = %q", w, a, got)
					return
				}
			}
		})
	}
	wg.Wait()
	kept := 0
	for i := range env.run.texts.slots {
		if env.run.texts.slots[i].Load() != nil {
			kept++
		}
	}
	if kept > textSlotsMax || kept < textSlotsMax/2 {
		t.Errorf("%d texts kept in %d slots", kept, textSlotsMax)
	}
	for objects, want := range map[int]int{0: textSlotsMin, 1: textSlotsMin, 1000: 4096, 12138: 65536, 1e6: textSlotsMax} {
		if got := textSlotsFor(objects); got != want {
			t.Errorf("%d objects: %d slots, want %d", objects, got, want)
		}
	}
	// Each text kept was built once or, in a race for its slot, a few
	// times; one not kept is built on every call.
	if n := builds.Load(); n < int64(kept) || n > 4*texts {
		t.Errorf("%d builds for %d texts kept of %d asked 4 times", n, kept, texts)
	}
}

// BenchmarkText: the cache's hit path, from two goroutines, over the
// few hundred paths and messages a scan's findings repeat.
func BenchmarkText(b *testing.B) {
	env := NewEnv(nil, Settings{})
	env.run.texts = newTextCache(textSlotsMax)
	kind := NewTextKind(func(a, b string) string { return a + "." + b })
	parts := make([]string, 512)
	for i := range parts {
		parts[i] = "spec.template.spec.containers[" + strconv.Itoa(i%7) + "]" + strconv.Itoa(i)
	}
	b.SetParallelism(1)
	b.RunParallel(func(pb *testing.PB) {
		i := 0
		for pb.Next() {
			env.Text(kind, parts[i%len(parts)], "securityContext.runAsNonRoot")
			i++
		}
	})
}

package check

import (
	"strconv"
	"testing"
)

// TestResultBuffer: slices from a worker's result buffer never share
// memory while the runner has not read them: helpers called one after the
// other, a helper called inside another, a caller appending to what a
// helper returned, and a buffer that grows.
func TestResultBuffer(t *testing.T) {
	env := NewEnv(nil, Settings{}).forWorker()
	helper := func(prefix string, n int) []Result {
		out := env.ResultBuffer()
		for i := range n {
			out = append(out, Result{Message: prefix + strconv.Itoa(i)})
		}
		return env.KeepResults(out)
	}
	want := func(rs []Result, prefix string, n int) {
		t.Helper()
		if len(rs) != n {
			t.Fatalf("%s: %d results, want %d", prefix, len(rs), n)
		}
		for i, r := range rs {
			if r.Message != prefix+strconv.Itoa(i) {
				t.Fatalf("%s: result %d is %q", prefix, i, r.Message)
			}
		}
	}

	a := helper("a", 3)
	b := helper("b", 2)
	a = append(a, Result{Message: "a3"}) // no room: copied, b intact
	want(a, "a", 4)
	want(b, "b", 2)

	// A helper inside another gets no buffer, and allocates.
	outer := env.ResultBuffer()
	inner := helper("i", 2)
	outer = append(outer, Result{Message: "o0"})
	outer = env.KeepResults(outer)
	want(inner, "i", 2)
	want(outer, "o", 1)

	// Growing keeps what was kept before in the old array.
	c := helper("c", 2)
	big := helper("g", 3*resultBufferMin)
	d := helper("d", 1)
	want(c, "c", 2)
	want(big, "g", 3*resultBufferMin)
	want(d, "d", 1)

	// Released, the buffer is reused from its start.
	env.results.release()
	e := helper("e", 1)
	if &e[0] != &env.results.buf[0] {
		t.Error("a released buffer is not reused")
	}

	// Without a worker's buffer (an object evaluated alone), helpers
	// allocate.
	alone := NewEnv(nil, Settings{})
	if out := alone.ResultBuffer(); out != nil || alone.KeepResults([]Result{{}}) == nil {
		t.Error("an Env without a buffer handed one out")
	}
}

package check

import "unsafe"

// A check returns its results as a slice, which the runner turns into
// findings as soon as the check returns. The helpers most checks build on
// (a result per failing container, per failing Pod Security control)
// append to a buffer the evaluation worker reuses from check to check,
// instead of allocating a slice per call: on the real-world corpus those
// slices were 13 MB of the 60 MB evaluation allocated, all of it garbage
// a moment later.
//
// ResultBuffer hands out the free part of the buffer; KeepResults marks
// what was appended to it as used until the runner has read it. Between
// the two, the buffer is taken: a nested ResultBuffer gets nil, and its
// caller allocates as it would without one. A slice KeepResults returns
// has no room to grow into, so appending to it copies it.
type resultBuffer struct {
	buf  []Result
	used int
	open bool
}

// ResultBuffer returns an empty slice to append a check's results to,
// backed by the worker's buffer when e has one and it is free. Pass what
// was appended to KeepResults before returning it.
func (e *Env) ResultBuffer() []Result {
	b := e.results
	if b == nil || b.open {
		return nil
	}
	if len(b.buf)-b.used < resultBufferMin {
		// Grow: the results already kept stay in the old array, which
		// the runner has not read yet.
		b.buf, b.used = make([]Result, max(resultBufferMin, 2*len(b.buf))), 0
	}
	b.open = true
	return b.buf[b.used:b.used:len(b.buf)]
}

// resultBufferMin is the free room a ResultBuffer always has.
const resultBufferMin = 64

// KeepResults marks out, appended to a slice from ResultBuffer, as used,
// and returns it without spare capacity. A slice that outgrew the buffer
// (append moved it to the heap) is returned as it is.
func (e *Env) KeepResults(out []Result) []Result {
	b := e.results
	if b == nil || !b.open {
		return out
	}
	b.open = false
	if cap(out) == len(b.buf)-b.used && unsafe.SliceData(out) == unsafe.SliceData(b.buf[b.used:]) {
		b.used += len(out)
	}
	return out[:len(out):len(out)]
}

// release makes the whole buffer free again: the runner has read every
// result kept in it.
func (b *resultBuffer) release() {
	if b != nil {
		clear(b.buf[:b.used]) // drop the strings the results held
		b.used, b.open = 0, false
	}
}

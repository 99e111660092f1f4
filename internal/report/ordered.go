package report

import (
	"io"
	"runtime"
	"sync"
	"sync/atomic"
)

// An itemEncoder appends the text of item i (with whatever separator goes
// with it) to b. Each worker has its own, so it may keep caches.
type itemEncoder func(b []byte, i int) []byte

// blockItems is how many items a worker encodes at a time. Handing a block
// over costs a few channel operations; the blocks in flight (two per
// worker) hold buffers that grow to the largest block they carried, and
// the collector is usually idle while a report is written, so every byte
// of that is new memory: on the real-world corpus 32 items cost 3 MB more
// than one encoder, 512 items cost 14 MB.
const blockItems = 32

// writeOrdered writes the encodings of items 0..n-1 to w, in order,
// encoding blocks of items on every core. A large scan has hundreds of
// thousands of findings, and encoding them is most of a report's time;
// the output is exactly what one encoder writing item after item would
// produce. At most a few blocks per worker wait to be written, so memory
// stays bounded however many items there are. It returns the first write
// error, after which nothing more is written.
func writeOrdered(w io.Writer, n int, newEncoder func() itemEncoder) error {
	return writeOrderedOn(w, n, runtime.GOMAXPROCS(0), newEncoder)
}

// writeOrderedOn is writeOrdered with that many workers.
func writeOrderedOn(w io.Writer, n, workers int, newEncoder func() itemEncoder) error {
	blocks := (n + blockItems - 1) / blockItems
	workers = min(workers, blocks)
	if workers <= 1 {
		enc := newEncoder()
		var b []byte
		for i := range n {
			b = enc(b[:0], i)
			if _, err := w.Write(b); err != nil {
				return err
			}
		}
		return nil
	}
	// Blocks are claimed in order, and a worker holds a slot for each
	// block it encodes until the block is written, so the block the writer
	// waits for is always being encoded: no deadlock, and at most
	// len(slots) blocks in memory.
	slots := make(chan struct{}, 2*workers)
	done := make(chan struct{})
	// Block k is handed over on encoded[k%len(encoded)]: while it is being
	// encoded, block k-len(encoded) has been written (it held one of the
	// slots), so its channel is free again.
	encoded := make([]chan []byte, cap(slots))
	for k := range encoded {
		encoded[k] = make(chan []byte, 1)
	}
	// Written blocks' buffers go back to the workers.
	free := make(chan []byte, cap(slots))
	var next atomic.Int64
	var wg sync.WaitGroup
	for range workers {
		enc := newEncoder()
		wg.Go(func() {
			for {
				select {
				case slots <- struct{}{}:
				case <-done:
					return
				}
				k := int(next.Add(1) - 1)
				if k >= blocks {
					<-slots
					return
				}
				var b []byte
				select {
				case b = <-free:
				default:
				}
				for i := k * blockItems; i < min(n, (k+1)*blockItems); i++ {
					b = enc(b, i)
				}
				encoded[k%len(encoded)] <- b
			}
		})
	}
	var err error
	for k := range blocks {
		b := <-encoded[k%len(encoded)]
		_, err = w.Write(b)
		select {
		case free <- b[:0]:
		default:
		}
		<-slots
		if err != nil {
			break
		}
	}
	close(done)
	wg.Wait()
	return err
}

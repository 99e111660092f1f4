package report

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/kubeharden/kubeharden/internal/check"
)

// TestWriteOrdered: whatever the number of workers and items, the output is
// the items in order, each encoded once, and no encoder is shared between
// goroutines (the race detector watches the counters).
func TestWriteOrdered(t *testing.T) {
	for _, workers := range []int{1, 2, 3, 8} {
		for _, n := range []int{0, 1, blockItems - 1, blockItems, blockItems + 1, 8*blockItems + 3} {
			var want bytes.Buffer
			for i := range n {
				fmt.Fprintf(&want, "item %d\n", i)
			}
			var got bytes.Buffer
			var encoders []*int
			newEncoder := func() itemEncoder {
				calls := new(int)
				encoders = append(encoders, calls)
				return func(b []byte, i int) []byte {
					*calls++
					b = append(b, "item "...)
					b = strconv.AppendInt(b, int64(i), 10)
					return append(b, '\n')
				}
			}
			if err := writeOrderedOn(&got, n, workers, newEncoder); err != nil {
				t.Fatal(err)
			}
			if got.String() != want.String() {
				t.Errorf("%d workers, %d items: output differs from item order", workers, n)
			}
			total := 0
			for _, c := range encoders {
				total += *c
			}
			if total != n {
				t.Errorf("%d workers, %d items: %d encodings", workers, n, total)
			}
		}
	}
}

type failingWriter struct {
	writes, failAt int
	written        int
}

func (f *failingWriter) Write(p []byte) (int, error) {
	f.writes++
	if f.writes >= f.failAt {
		return 0, errors.New("disk full")
	}
	f.written += len(p)
	return len(p), nil
}

// TestWriteOrderedStopsAtWriteError: the first write error is returned,
// nothing is written after it, and the workers stop.
func TestWriteOrderedStopsAtWriteError(t *testing.T) {
	for _, workers := range []int{1, 2, 8} {
		w := &failingWriter{failAt: 3}
		done := make(chan error, 1)
		go func() {
			done <- writeOrderedOn(w, 100*blockItems, workers, func() itemEncoder {
				return func(b []byte, i int) []byte { return append(b, "xxxxxxxx"...) }
			})
		}()
		select {
		case err := <-done:
			if err == nil || err.Error() != "disk full" {
				t.Errorf("%d workers: error %v, want disk full", workers, err)
			}
		case <-time.After(10 * time.Second):
			t.Fatalf("%d workers: writeOrdered did not return after a write error", workers)
		}
		if w.writes != 3 {
			t.Errorf("%d workers: %d writes, want none after the failing third", workers, w.writes)
		}
	}
}

// largeReport has enough findings, in several files, for the encoders to
// run in parallel blocks. They are held in parts of uneven sizes, as a
// run's workers produce them, cut inside objects' runs of findings.
func largeReport(n int) *Report {
	rep := sampleReport()
	sample := rep.Findings.Flat()
	var parts check.Findings
	var part []check.Finding
	sizes := []int{5, 1, 64, 13, 200, 2, 0, 37}
	for i := range n {
		f := sample[i%len(sample)]
		ref := *sample[0].Object // seven findings about each object
		ref.Name = fmt.Sprintf("app-%d", i/7)
		f.Object = &ref
		f.Source = check.Source{File: fmt.Sprintf("k8s/app-%d.yaml", i/40), Line: i % 90}
		part = append(part, f)
		if len(part) >= sizes[len(parts)%len(sizes)] {
			parts, part = append(parts, part), nil
		}
	}
	parts = append(parts, part)
	return New("test", n/7, parts, rep.Errors, sampleChecks())
}

// TestLargeReportsInOrder: JSON and SARIF written in parallel blocks are
// what one encoder writes: JSON byte for byte as encoding/json, SARIF with
// every result in finding order.
func TestLargeReportsInOrder(t *testing.T) {
	rep := largeReport(5*blockItems + 17)
	if got, want := streamedAndEncoded(t, rep); got != want {
		t.Error("JSON of a large report differs from encoding/json")
	}

	var sarif bytes.Buffer
	if err := Write(&sarif, SARIF, rep, Options{}); err != nil {
		t.Fatal(err)
	}
	var log struct {
		Runs []struct {
			Results []struct {
				Fingerprints map[string]string `json:"partialFingerprints"`
			} `json:"results"`
		} `json:"runs"`
	}
	if err := json.Unmarshal(sarif.Bytes(), &log); err != nil {
		t.Fatalf("SARIF of a large report is not JSON: %v", err)
	}
	results := log.Runs[0].Results
	findings := rep.Findings.Index()
	if len(results) != findings.Len() {
		t.Fatalf("%d SARIF results for %d findings", len(results), findings.Len())
	}
	for i, r := range results {
		if r.Fingerprints["kubeharden/v1"] != findings.At(i).Fingerprint() {
			t.Fatalf("SARIF result %d is not finding %d", i, i)
		}
	}
}

// TestLargeTableInOrder: the table's object blocks, rendered in parallel
// from findings in parts, are what one encoder renders from the same
// findings in one slice (an object's run of findings cut between parts is
// still one block), in colour and without.
func TestLargeTableInOrder(t *testing.T) {
	rep := largeReport(5*blockItems + 17)
	labels := map[check.Severity]string{}
	for _, s := range check.Severities() {
		labels[s] = severityLabel(s)
	}
	flat := check.Findings{rep.Findings.Flat()}.Index()
	straddles, start := 0, 0
	for _, part := range rep.Findings[:len(rep.Findings)-1] {
		start += len(part)
		for _, g := range objectGroups(flat) {
			if g.start < start && start < g.end {
				straddles++
			}
		}
	}
	if straddles == 0 {
		t.Fatal("no object's findings are cut between parts: the test shows nothing")
	}
	for _, colour := range []bool{false, true} {
		var want []byte
		for _, g := range objectGroups(flat) {
			want = appendGroup(want, flat, g, labels, colour)
		}
		var got bytes.Buffer
		if err := Write(&got, Table, rep, Options{Color: colour}); err != nil {
			t.Fatal(err)
		}
		if !bytes.HasPrefix(got.Bytes(), want) {
			t.Errorf("colour %v: the table's object blocks are not in finding order", colour)
		}
	}
}

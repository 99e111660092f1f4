package report

import (
	"io"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
)

// BenchmarkWriteJSON renders 10,000 findings.
func BenchmarkWriteJSON(b *testing.B) {
	base := sampleReport()
	var fs []check.Finding
	for len(fs) < 10_000 {
		fs = append(fs, base.Findings...)
	}
	r := New("bench", 1000, fs, nil, base.Checks)
	for b.Loop() {
		if err := Write(io.Discard, JSON, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

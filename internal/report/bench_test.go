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
		fs = append(fs, base.Findings.Flat()...)
	}
	r := New("bench", 1000, check.Findings{fs}, nil, base.Checks)
	for b.Loop() {
		if err := Write(io.Discard, JSON, r, Options{}); err != nil {
			b.Fatal(err)
		}
	}
}

// BenchmarkWriteReports renders 20,000 findings of 3,000 objects in files
// of 40 findings, in each streamed format.
func BenchmarkWriteReports(b *testing.B) {
	r := largeReport(20_000)
	for _, f := range []Format{Table, JSON, SARIF} {
		b.Run(string(f), func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				if err := Write(io.Discard, f, r, Options{}); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

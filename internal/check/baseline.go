package check

import (
	"encoding/json"
	"fmt"
	"os"
)

// Baseline is the set of fingerprints of an earlier report; findings in it
// are not new.
type Baseline map[string]bool

// LoadBaseline reads an earlier `-o json` report. Findings without a
// fingerprint (written by hand or by an older version) are fingerprinted
// from their check, object, container and path.
func LoadBaseline(file string) (Baseline, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading baseline: %w", err)
	}
	var report struct {
		Findings []findingJSON `json:"findings"`
	}
	if err := json.Unmarshal(data, &report); err != nil {
		return nil, fmt.Errorf("baseline %s is not a kubeharden JSON report: %w", file, err)
	}
	b := Baseline{}
	for _, f := range report.Findings {
		fp := f.Fingerprint
		if fp == "" {
			finding := f.finding()
			fp = finding.Fingerprint()
		}
		b[fp] = true
	}
	return b, nil
}

// FilterNew keeps the findings whose fingerprint is not in b. It filters in
// place: the parts of fs are reused.
func (b Baseline) FilterNew(fs Findings) Findings {
	out := fs[:0]
	for _, part := range fs {
		kept := part[:0]
		for _, f := range part {
			if !b[f.Fingerprint()] {
				kept = append(kept, f)
			}
		}
		clear(part[len(kept):]) // drop what the filtered-out findings refer to
		if len(kept) > 0 {
			out = append(out, kept)
		}
	}
	clear(fs[len(out):])
	return out
}

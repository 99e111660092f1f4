package check

import (
	"bytes"
	"encoding/json"
	"iter"
	"sort"
)

// Findings are findings in report order, held in parts: the runner's
// workers each produce a part, and a large run's findings (hundreds of
// thousands of 144-byte structs) are never copied into one slice. In JSON
// they are one flat array.
type Findings [][]Finding

// Len is the number of findings.
func (fs Findings) Len() int {
	n := 0
	for _, part := range fs {
		n += len(part)
	}
	return n
}

// All yields each finding in order with its position; the pointer may be
// used to update the finding in place.
func (fs Findings) All() iter.Seq2[int, *Finding] {
	return func(yield func(int, *Finding) bool) {
		i := 0
		for _, part := range fs {
			for j := range part {
				if !yield(i, &part[j]) {
					return
				}
				i++
			}
		}
	}
}

// Flat returns the findings as one slice: the only part itself, or a copy
// of all of them.
func (fs Findings) Flat() []Finding {
	switch len(fs) {
	case 0:
		return nil
	case 1:
		return fs[0]
	}
	out := make([]Finding, 0, fs.Len())
	for _, part := range fs {
		out = append(out, part...)
	}
	return out
}

// Index returns a view of fs that finds a finding by position.
func (fs Findings) Index() FindingIndex {
	x := FindingIndex{parts: make(Findings, 0, len(fs))}
	n := 0
	for _, part := range fs {
		if len(part) == 0 {
			continue
		}
		x.parts = append(x.parts, part)
		x.starts = append(x.starts, n)
		n += len(part)
	}
	x.n = n
	return x
}

// FindingIndex finds findings by position across the parts of Findings.
type FindingIndex struct {
	parts  Findings // the non-empty parts
	starts []int    // the position of each part's first finding
	n      int
}

// Len is the number of findings.
func (x FindingIndex) Len() int { return x.n }

// At returns the finding at position i, 0 <= i < Len().
func (x FindingIndex) At(i int) *Finding {
	p := sort.Search(len(x.starts), func(k int) bool { return x.starts[k] > i }) - 1
	return &x.parts[p][i-x.starts[p]]
}

// MarshalJSON writes the findings as one array (an empty one when there
// are none), with HTML characters unescaped as the report writers do.
func (fs Findings) MarshalJSON() ([]byte, error) {
	flat := fs.Flat()
	if flat == nil {
		flat = []Finding{}
	}
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(flat); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), nil
}

// UnmarshalJSON reads an array of findings into one part.
func (fs *Findings) UnmarshalJSON(b []byte) error {
	var flat []Finding
	if err := json.Unmarshal(b, &flat); err != nil {
		return err
	}
	*fs = nil
	if len(flat) > 0 {
		*fs = Findings{flat}
	}
	return nil
}

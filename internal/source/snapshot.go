package source

import (
	"bufio"
	"compress/gzip"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// A snapshot is a v1 List of every listed object, secret values redacted
// and managedFields dropped, written one object per line as the LISTs
// return them, gzip-compressed when the file name ends in .gz.

// Snapshot annotations on the List.
const (
	SnapshotAnnotation      = "kubeharden.io/snapshot"
	SnapshotHostAnnotation  = "kubeharden.io/cluster"
	SnapshotVersionAnnotion = "kubeharden.io/server-version"
	SnapshotTakenAnnotation = "kubeharden.io/taken-at"
	// SnapshotAnonymousAnnotation records the anonymous-access probe:
	// "unauthenticated" (401), "authenticated", or "authenticated:" followed
	// by the comma-separated actions allowed.
	SnapshotAnonymousAnnotation = "kubeharden.io/anonymous-access"
)

// SnapshotWriter streams objects into a snapshot file.
type SnapshotWriter struct {
	f     *os.File
	gz    *gzip.Writer
	w     *bufio.Writer
	count int
}

// CreateSnapshot opens path for writing.
func CreateSnapshot(path string) (*SnapshotWriter, error) {
	f, err := os.Create(path)
	if err != nil {
		return nil, fmt.Errorf("creating snapshot: %w", err)
	}
	s := &SnapshotWriter{f: f}
	var out io.Writer = f
	if strings.HasSuffix(path, ".gz") {
		s.gz = gzip.NewWriter(f)
		out = s.gz
	}
	s.w = bufio.NewWriterSize(out, 256<<10)
	return s, nil
}

// Begin writes the List header.
func (s *SnapshotWriter) Begin(info ClusterInfo, taken time.Time) error {
	header := map[string]any{
		"apiVersion": "v1",
		"kind":       "List",
		"metadata": map[string]any{"annotations": map[string]string{
			SnapshotAnnotation:          "v1",
			SnapshotHostAnnotation:      info.Host,
			SnapshotVersionAnnotion:     info.GitVersion,
			SnapshotTakenAnnotation:     taken.UTC().Format(time.RFC3339),
			SnapshotAnonymousAnnotation: encodeAnonymous(info.Anonymous),
		}},
	}
	b, err := json.Marshal(header)
	if err != nil {
		return err
	}
	// Reopen the object to append "items".
	_, err = fmt.Fprintf(s.w, "%s,\"items\":[", b[:len(b)-1])
	return err
}

// Write appends one object (already redacted by the cluster loader).
func (s *SnapshotWriter) Write(o *Object) error {
	b, err := json.Marshal(o.Body())
	if err != nil {
		return fmt.Errorf("encoding %s: %w", o, err)
	}
	if s.count > 0 {
		if err := s.w.WriteByte(','); err != nil {
			return err
		}
	}
	s.count++
	if err := s.w.WriteByte('\n'); err != nil {
		return err
	}
	_, err = s.w.Write(b)
	return err
}

// Close finishes the List and the file.
func (s *SnapshotWriter) Close() error {
	_, err := s.w.WriteString("\n]}\n")
	err = errors.Join(err, s.w.Flush())
	if s.gz != nil {
		err = errors.Join(err, s.gz.Close())
	}
	return errors.Join(err, s.f.Close())
}

// Count is the number of objects written.
func (s *SnapshotWriter) Count() int { return s.count }

// LoadSnapshot reads a snapshot (plain or gzip, detected by content),
// decoding one item at a time. Objects carry no file position, exactly as
// when they were read from the cluster, so findings and fingerprints match
// a live scan.
func LoadSnapshot(path string) (*Result, ClusterInfo, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, ClusterInfo{}, fmt.Errorf("opening snapshot: %w", err)
	}
	defer f.Close()
	br := bufio.NewReaderSize(f, 256<<10)
	var r io.Reader = br
	if magic, _ := br.Peek(2); len(magic) == 2 && magic[0] == 0x1f && magic[1] == 0x8b {
		gz, err := gzip.NewReader(br)
		if err != nil {
			return nil, ClusterInfo{}, fmt.Errorf("snapshot %s: %w", path, err)
		}
		defer gz.Close()
		r = gz
	}
	dec := json.NewDecoder(r)
	dec.UseNumber()
	res := &Result{}
	var info ClusterInfo
	fail := func(err error) (*Result, ClusterInfo, error) {
		return nil, info, fmt.Errorf("snapshot %s is not a kubeharden snapshot: %w", path, err)
	}
	if tok, err := dec.Token(); err != nil || tok != json.Delim('{') {
		return fail(fmt.Errorf("want a JSON object (%v)", err))
	}
	for dec.More() {
		tok, err := dec.Token()
		if err != nil {
			return fail(err)
		}
		switch tok {
		case "items":
			if tok, err := dec.Token(); err != nil || tok != json.Delim('[') {
				return fail(fmt.Errorf("items is not a list (%v)", err))
			}
			for i := 0; dec.More(); i++ {
				var item map[string]any
				if err := dec.Decode(&item); err != nil {
					return fail(fmt.Errorf("items[%d]: %w", i, err))
				}
				body, _ := fromJSONNumbers(item).(map[string]any)
				if err := validateObject(body); err != nil {
					res.Errors = append(res.Errors, &Error{Source: fmt.Sprintf("%s: items[%d]", path, i), Err: err})
					continue
				}
				res.Objects = append(res.Objects, NewObject(body, Position{}, i))
			}
			if _, err := dec.Token(); err != nil {
				return fail(err)
			}
		case "metadata":
			var md struct {
				Annotations map[string]string `json:"annotations"`
			}
			if err := dec.Decode(&md); err != nil {
				return fail(err)
			}
			if md.Annotations[SnapshotAnnotation] == "" {
				return fail(errors.New("no " + SnapshotAnnotation + " annotation"))
			}
			info = ClusterInfo{Host: md.Annotations[SnapshotHostAnnotation], GitVersion: md.Annotations[SnapshotVersionAnnotion],
				Anonymous: decodeAnonymous(md.Annotations[SnapshotAnonymousAnnotation])}
		default:
			var skip json.RawMessage
			if err := dec.Decode(&skip); err != nil {
				return fail(err)
			}
		}
	}
	return res, info, nil
}

// fromJSONNumbers turns json.Number into int64 or float64, matching what
// the YAML loader produces.
func fromJSONNumbers(v any) any {
	switch t := v.(type) {
	case map[string]any:
		for k, val := range t {
			t[k] = fromJSONNumbers(val)
		}
		return t
	case []any:
		for i, val := range t {
			t[i] = fromJSONNumbers(val)
		}
		return t
	case json.Number:
		if n, err := t.Int64(); err == nil {
			return n
		}
		if f, err := t.Float64(); err == nil {
			return f
		}
		return t.String()
	}
	return v
}

func encodeAnonymous(a AnonymousAccess) string {
	switch {
	case !a.Authenticated && len(a.Allowed) == 0:
		return "unauthenticated"
	case len(a.Allowed) == 0:
		return "authenticated"
	}
	return "authenticated:" + strings.Join(a.Allowed, ",")
}

func decodeAnonymous(s string) AnonymousAccess {
	a := AnonymousAccess{Checked: s != ""}
	if rest, ok := strings.CutPrefix(s, "authenticated"); ok {
		a.Authenticated = true
		if allowed, ok := strings.CutPrefix(rest, ":"); ok && allowed != "" {
			a.Allowed = strings.Split(allowed, ",")
		}
	}
	return a
}

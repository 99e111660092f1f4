package check

import (
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// Registry is the validated catalogue. It is built once at start-up and
// read-only afterwards.
type Registry struct {
	checks []*Check
	byID   map[string]*Check
}

var idPattern = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)

// NewRegistry validates checks and returns the catalogue, sorted by ID. It
// fails on duplicate or malformed IDs, unknown categories or severities,
// missing texts, and checks with no (or two) evaluation functions.
func NewRegistry(checks ...*Check) (*Registry, error) {
	r := &Registry{byID: make(map[string]*Check, len(checks))}
	var errs []error
	for _, c := range checks {
		if err := validate(c); err != nil {
			errs = append(errs, err)
			continue
		}
		if _, dup := r.byID[c.ID]; dup {
			errs = append(errs, fmt.Errorf("check %q registered twice", c.ID))
			continue
		}
		r.byID[c.ID] = c
		r.checks = append(r.checks, c)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("invalid check catalogue: %w", errors.Join(errs...))
	}
	slices.SortFunc(r.checks, func(a, b *Check) int { return strings.Compare(a.ID, b.ID) })
	return r, nil
}

func validate(c *Check) error {
	switch {
	case !idPattern.MatchString(c.ID):
		return fmt.Errorf("check %q: id must be lower-case words joined by '-'", c.ID)
	case c.Title == "" || c.Description == "" || c.Remediation == "":
		return fmt.Errorf("check %q: title, description and remediation are required", c.ID)
	case !c.Category.Valid():
		return fmt.Errorf("check %q: unknown category %q", c.ID, c.Category)
	case c.Severity < Info || c.Severity > Critical:
		return fmt.Errorf("check %q: invalid severity %d", c.ID, int(c.Severity))
	case countSet(c.Pod != nil, c.Object != nil, c.Cluster != nil, c.Node != nil && c.Object == nil) != 1:
		return fmt.Errorf("check %q: exactly one of Pod, Object, Cluster and Node (which may come with Object) must be set", c.ID)
	case c.Pod != nil && len(c.Kinds) > 0:
		return fmt.Errorf("check %q: Kinds applies to Object checks only", c.ID)
	case slices.ContainsFunc(c.Models, func(m *Model) bool { return m == nil || m.Build == nil }):
		return fmt.Errorf("check %q: a model without a Build function", c.ID)
	}
	return nil
}

// Checks returns the catalogue sorted by ID.
func (r *Registry) Checks() []*Check { return r.checks }

// Get finds a check by ID.
func (r *Registry) Get(id string) (*Check, bool) {
	c, ok := r.byID[id]
	return c, ok
}

func countSet(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

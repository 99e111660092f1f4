package check

import (
	"errors"
	"fmt"
	"os"
	"path"
	"time"

	"sigs.k8s.io/yaml"
)

// DefaultConfigFile is read from the working directory when no --config is
// given and it exists.
const DefaultConfigFile = ".kubeharden.yaml"

// Config is the .kubeharden.yaml file.
type Config struct {
	Checks struct {
		// Enable turns checks on, including optional ones.
		Enable []string `json:"enable,omitempty"`
		// Disable turns checks off.
		Disable []string `json:"disable,omitempty"`
	} `json:"checks,omitempty"`
	// Severity overrides a check's severity.
	Severity map[string]Severity `json:"severity,omitempty"`
	// Exemptions silence checks on matching objects.
	Exemptions []Exemption `json:"exemptions,omitempty"`
}

// Exemption silences checks on objects that match every selector given.
// Selectors are shell globs (path.Match); an empty selector matches all.
type Exemption struct {
	// Checks are check IDs or globs; empty means every check.
	Checks     []string `json:"checks,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
	Names      []string `json:"names,omitempty"`
	Kinds      []string `json:"kinds,omitempty"`
	// Reason is required: an exemption nobody can explain is a finding.
	Reason string `json:"reason"`
	// Expires (YYYY-MM-DD) ends the exemption at the start of that day, UTC.
	Expires string `json:"expires,omitempty"`

	expires time.Time
}

// LoadConfig reads a config file. Unknown fields are errors, so a typo
// cannot silently disable nothing.
func LoadConfig(file string) (*Config, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, fmt.Errorf("reading config: %w", err)
	}
	return ParseConfig(file, data)
}

// ParseConfig decodes and validates a config document named name.
func ParseConfig(name string, data []byte) (*Config, error) {
	var c Config
	if err := yaml.UnmarshalStrict(data, &c); err != nil {
		return nil, fmt.Errorf("config %s: %w", name, err)
	}
	var errs []error
	for i := range c.Exemptions {
		e := &c.Exemptions[i]
		if e.Reason == "" {
			errs = append(errs, fmt.Errorf("exemptions[%d]: reason is required", i))
		}
		if e.Expires != "" {
			t, err := time.Parse(time.DateOnly, e.Expires)
			if err != nil {
				errs = append(errs, fmt.Errorf("exemptions[%d]: expires %q is not a YYYY-MM-DD date", i, e.Expires))
			}
			e.expires = t
		}
		for _, pats := range [][]string{e.Checks, e.Namespaces, e.Names, e.Kinds} {
			for _, p := range pats {
				if _, err := path.Match(p, ""); err != nil {
					errs = append(errs, fmt.Errorf("exemptions[%d]: bad glob %q", i, p))
				}
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("config %s: %w", name, errors.Join(errs...))
	}
	return &c, nil
}

// Validate reports config entries that name no known check.
func (c *Config) Validate(reg *Registry) error {
	var errs []error
	check := func(where, id string) {
		if _, ok := reg.Get(id); !ok {
			errs = append(errs, fmt.Errorf("%s: unknown check %q", where, id))
		}
	}
	for _, id := range c.Checks.Enable {
		check("checks.enable", id)
	}
	for _, id := range c.Checks.Disable {
		check("checks.disable", id)
	}
	for id := range c.Severity {
		check("severity", id)
	}
	return errors.Join(errs...)
}

// Expired lists exemptions that no longer apply at now.
func (c *Config) Expired(now time.Time) []Exemption {
	var out []Exemption
	for _, e := range c.Exemptions {
		if e.expired(now) {
			out = append(out, e)
		}
	}
	return out
}

func (e *Exemption) expired(now time.Time) bool {
	return !e.expires.IsZero() && !now.Before(e.expires)
}

func (e *Exemption) matches(f *Finding, now time.Time) bool {
	if e.expired(now) {
		return false
	}
	return globAny(e.Checks, f.Check) && globAny(e.Namespaces, f.Object.Namespace) &&
		globAny(e.Names, f.Object.Name) && globAny(e.Kinds, f.Object.Kind)
}

func globAny(patterns []string, s string) bool {
	if len(patterns) == 0 {
		return true
	}
	for _, p := range patterns {
		if ok, _ := path.Match(p, s); ok {
			return true
		}
	}
	return false
}

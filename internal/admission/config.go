// Package admission is kubeharden's admission webhook: it evaluates the
// object of each AdmissionReview with the same check engine and catalogue
// as `kubeharden scan`, and denies, warns or audits by the configured
// mode; optionally it mutates pods towards secure defaults.
package admission

import (
	"fmt"
	"os"
	"path"
	"slices"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubeharden/kubeharden/internal/check"
)

// Mode is what the webhook does with a finding.
type Mode string

const (
	// Enforce denies the request.
	Enforce Mode = "enforce"
	// Warn admits it with an admission warning (kubectl prints it).
	Warn Mode = "warn"
	// Audit admits it and records the finding in the audit event's
	// annotations and the webhook's log.
	Audit Mode = "audit"
)

// Config is the webhook's configuration file.
type Config struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	// DenyAt is the severity at and above which findings are enforced
	// when no rule matches; findings below it are warned. Default high,
	// the same threshold as scan --fail-on.
	DenyAt string `json:"denyAt,omitempty"`
	// Rules choose a mode per check, category or namespace; the first rule
	// that matches a finding wins.
	Rules []Rule `json:"rules,omitempty"`
	// Exempt requests are admitted without evaluation.
	Exempt Exemptions `json:"exempt,omitempty"`
	// Strict checks cannot be suppressed by kubeharden.io/ignore
	// annotations.
	Strict []string `json:"strict,omitempty"`
	// Checks selects checks as scan's --checks/--skip-checks/--categories.
	Checks     []string `json:"checks,omitempty"`
	SkipChecks []string `json:"skipChecks,omitempty"`
	Categories []string `json:"categories,omitempty"`
	// ScanConfig is a .kubeharden.yaml (severity overrides, exemptions)
	// shared with CI, so both apply the same policy.
	ScanConfig string `json:"scanConfig,omitempty"`
	// PSSVersion and PSSLevel are scan's --pss-version and --pss-level.
	PSSVersion string `json:"pssVersion,omitempty"`
	PSSLevel   string `json:"pssLevel,omitempty"`
	// Mutate turns on the secure-defaults patches of /mutate.
	Mutate Mutations `json:"mutate,omitempty"`
}

// Rule sets the mode of the findings it matches. Empty selectors match
// everything; namespaces may use * globs.
type Rule struct {
	Checks     []string `json:"checks,omitempty"`
	Categories []string `json:"categories,omitempty"`
	Namespaces []string `json:"namespaces,omitempty"`
	Mode       Mode     `json:"mode"`
}

// Exemptions are requests the webhook admits without looking.
type Exemptions struct {
	Namespaces []string `json:"namespaces,omitempty"`
	Users      []string `json:"users,omitempty"`
	Groups     []string `json:"groups,omitempty"`
	// ServiceAccounts are NAMESPACE:NAME.
	ServiceAccounts []string `json:"serviceAccounts,omitempty"`
}

// Mutations are the secure defaults /mutate may set, each only where the
// field is unset.
type Mutations struct {
	SeccompProfile           bool `json:"seccompProfile,omitempty"`
	AllowPrivilegeEscalation bool `json:"allowPrivilegeEscalation,omitempty"`
	DropAllCapabilities      bool `json:"dropAllCapabilities,omitempty"`
	// AutomountServiceAccountToken sets automountServiceAccountToken:
	// false on pods whose service account has no RBAC permissions; it
	// needs read access to RBAC objects (the webhook's --kubeconfig or its
	// in-cluster account).
	AutomountServiceAccountToken bool `json:"automountServiceAccountToken,omitempty"`
}

// Any reports whether some mutation is on.
func (m Mutations) Any() bool {
	return m.SeccompProfile || m.AllowPrivilegeEscalation || m.DropAllCapabilities || m.AutomountServiceAccountToken
}

// LoadConfig reads a configuration file strictly (unknown fields are
// errors); "" gives the defaults.
func LoadConfig(file string) (*Config, error) {
	cfg := &Config{}
	if file != "" {
		data, err := os.ReadFile(file)
		if err != nil {
			return nil, fmt.Errorf("webhook config: %w", err)
		}
		if err := yaml.UnmarshalStrict(data, cfg); err != nil {
			return nil, fmt.Errorf("webhook config %s: %w", file, err)
		}
	}
	if err := cfg.validate(); err != nil {
		if file != "" {
			return nil, fmt.Errorf("webhook config %s: %w", file, err)
		}
		return nil, err
	}
	return cfg, nil
}

func (c *Config) validate() error {
	if c.APIVersion != "" && c.APIVersion != "kubeharden.io/v1alpha1" {
		return fmt.Errorf("apiVersion %q: want kubeharden.io/v1alpha1", c.APIVersion)
	}
	if c.Kind != "" && c.Kind != "WebhookConfiguration" {
		return fmt.Errorf("kind %q: want WebhookConfiguration", c.Kind)
	}
	if c.DenyAt == "" {
		c.DenyAt = "high"
	}
	if _, err := check.ParseSeverity(c.DenyAt); err != nil {
		return fmt.Errorf("denyAt: %w", err)
	}
	for i, r := range c.Rules {
		if !slices.Contains([]Mode{Enforce, Warn, Audit}, r.Mode) {
			return fmt.Errorf("rules[%d].mode %q: want enforce, warn or audit", i, r.Mode)
		}
		for _, ns := range r.Namespaces {
			if _, err := path.Match(ns, ""); err != nil {
				return fmt.Errorf("rules[%d].namespaces %q: %w", i, ns, err)
			}
		}
	}
	for _, sa := range c.Exempt.ServiceAccounts {
		if ns, name, ok := strings.Cut(sa, ":"); !ok || ns == "" || name == "" {
			return fmt.Errorf("exempt.serviceAccounts %q: want NAMESPACE:NAME", sa)
		}
	}
	return nil
}

// modeOf is the mode for a finding of check (category, severity) in ns.
func (c *Config) modeOf(f *check.Finding, ns string, denyAt check.Severity) Mode {
	for _, r := range c.Rules {
		if len(r.Checks) > 0 && !slices.Contains(r.Checks, f.Check) {
			continue
		}
		if len(r.Categories) > 0 && !slices.Contains(r.Categories, string(f.Category)) {
			continue
		}
		if len(r.Namespaces) > 0 && !slices.ContainsFunc(r.Namespaces, func(p string) bool { ok, _ := path.Match(p, ns); return ok }) {
			continue
		}
		return r.Mode
	}
	if f.Severity >= denyAt {
		return Enforce
	}
	return Warn
}

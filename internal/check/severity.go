package check

import (
	"fmt"
	"strings"
)

// Severity orders findings; higher is worse.
type Severity int

// The severities, lowest first.
const (
	Info Severity = iota + 1
	Low
	Medium
	High
	Critical
)

// severityNames are indexed by severity (every finding's is asked for by
// the writers and the summary).
var severityNames = [...]string{Info: "info", Low: "low", Medium: "medium", High: "high", Critical: "critical"}

// valid reports whether s is one of the severities.
func (s Severity) valid() bool { return s >= Info && s <= Critical }

// Severities lists every severity, most severe first.
func Severities() []Severity { return []Severity{Critical, High, Medium, Low, Info} }

func (s Severity) String() string {
	if s.valid() {
		return severityNames[s]
	}
	return fmt.Sprintf("severity(%d)", int(s))
}

// ParseSeverity reads a severity name (case-insensitive).
func ParseSeverity(s string) (Severity, error) {
	for _, sev := range Severities() {
		if strings.EqualFold(s, severityNames[sev]) {
			return sev, nil
		}
	}
	return 0, fmt.Errorf("unknown severity %q (want critical, high, medium, low or info)", s)
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) {
	if !s.valid() {
		return nil, fmt.Errorf("invalid severity %d", int(s))
	}
	return []byte(s.String()), nil
}

// UnmarshalText reads a severity name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// Category groups checks by the layer of the cluster they harden.
type Category string

// The categories of ARCHITECTURE.md; a finding has exactly one.
const (
	AccessControl Category = "access-control"
	Network       Category = "network"
	Workload      Category = "workload"
	SupplyChain   Category = "supply-chain"
	Secrets       Category = "secrets"
	APIServer     Category = "api-server"
	Etcd          Category = "etcd"
	Node          Category = "node"
	Observability Category = "observability"
	Runtime       Category = "runtime"
)

// Categories lists every known category.
func Categories() []Category {
	return []Category{AccessControl, Network, Workload, SupplyChain, Secrets, APIServer, Etcd, Node, Observability, Runtime}
}

// Valid reports whether c is a known category.
func (c Category) Valid() bool {
	for _, k := range Categories() {
		if c == k {
			return true
		}
	}
	return false
}

// Package nodecheck builds node checks (on the configuration of a node's
// components, internal/nodeconfig) from small declarative rules: a flag
// that must have a value, a list that must hold an item, a file whose mode
// must be at most 600. The api-server, etcd, node and observability
// catalogues are tables of these rules.
package nodecheck

import (
	"crypto/tls"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// Violation is one thing wrong with one component.
type Violation struct {
	Message string
	// Path and Line locate the flag or setting when it is written
	// somewhere; empty for a flag that is missing.
	Path string
	Line int
	// File, when set, is where the setting was read instead of the
	// component's own source (a kubelet config file).
	File string
	// Severity, when set, replaces the rule's.
	Severity check.Severity
}

// Eval judges one component of a node.
type Eval func(n *nodeconfig.Node, c *nodeconfig.Component) []Violation

// ComponentRule is a benchmark item on one component type.
type ComponentRule struct {
	check.Metadata
	Component nodeconfig.Kind
	Eval      Eval
}

// Check turns the rule into a catalogue entry.
func (r ComponentRule) Check() *check.Check {
	return &check.Check{Metadata: r.Metadata, Node: func(_ *check.Env, n *nodeconfig.Node) []check.Result {
		var out []check.Result
		for _, c := range n.Components {
			if c.Kind != r.Component {
				continue
			}
			for _, v := range r.Eval(n, c) {
				if v.Path == "" && v.File == "" {
					v.Path = c.ArgsPath // a missing flag belongs in the argument list
				}
				out = append(out, check.Result{
					Object:   ComponentRef(c),
					Source:   componentSource(c, v),
					Path:     v.Path,
					Message:  v.Message,
					Severity: v.Severity,
				})
			}
		}
		return out
	}}
}

// ComponentRef is the object a component's findings are about.
func ComponentRef(c *nodeconfig.Component) *check.ObjectRef {
	return &check.ObjectRef{APIVersion: c.Ref.APIVersion, Kind: c.Ref.Kind, Namespace: c.Ref.Namespace, Name: c.Ref.Name}
}

func componentSource(c *nodeconfig.Component, v Violation) *check.Source {
	if v.File != "" && v.File != c.Source.File {
		return &check.Source{File: v.File, Line: v.Line}
	}
	if c.Source.File == "" {
		return nil
	}
	line := v.Line
	if line == 0 {
		line = c.Source.Line
	}
	return &check.Source{File: c.Source.File, Line: line}
}

// at returns a violation located at flag f.
func at(f nodeconfig.Flag, format string, args ...any) Violation {
	return Violation{Message: fmt.Sprintf(format, args...), Path: f.Path, Line: f.Line}
}

// effective is the flag's value, or def when unset, and a description of
// it for messages.
func effective(c *nodeconfig.Component, name, def string) (nodeconfig.Flag, string, string) {
	f := c.Flag(name)
	if f.Set {
		return f, f.Value, fmt.Sprintf("--%s=%s", name, f.Value)
	}
	if def == "" {
		return f, "", fmt.Sprintf("--%s is not set", name)
	}
	return f, def, fmt.Sprintf("--%s is not set (default %s)", name, def)
}

// Equals wants --name to be want (case-insensitive); def is the
// component's default when the flag is absent.
func Equals(name, want, def string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		f, v, desc := effective(c, name, def)
		if nodeconfig.SameValue(v, want) {
			return nil
		}
		return []Violation{at(f, "%s; set --%s=%s", desc, name, want)}
	}
}

// NotEquals wants --name not to be bad.
func NotEquals(name, bad, def string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		f, v, desc := effective(c, name, def)
		if !nodeconfig.SameValue(v, bad) {
			return nil
		}
		return []Violation{at(f, "%s", desc)}
	}
}

// Set wants every flag set to a non-empty value.
func Set(names ...string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		var missing []string
		for _, name := range names {
			if f := c.Flag(name); !f.Set || f.Value == "" {
				missing = append(missing, "--"+name)
			}
		}
		if len(missing) == 0 {
			return nil
		}
		return []Violation{{Message: strings.Join(missing, " and ") + " " + plural(len(missing), "is", "are") + " not set"}}
	}
}

// Unset wants --name absent.
func Unset(name string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		if f := c.Flag(name); f.Set {
			return []Violation{at(f, "--%s is set (%s)", name, f.Value)}
		}
		return nil
	}
}

// Contains wants the list flag --name (def when absent) to hold item.
func Contains(name, item, def string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		f, v, desc := effective(c, name, def)
		if slices.Contains(nodeconfig.Flag{Value: v}.List(), item) {
			return nil
		}
		return []Violation{at(f, "%s, which does not include %s", desc, item)}
	}
}

// Excludes wants the list flag --name (def when absent) not to hold item.
func Excludes(name, item, def string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		f, v, desc := effective(c, name, def)
		if !slices.Contains(nodeconfig.Flag{Value: v}.List(), item) {
			return nil
		}
		return []Violation{at(f, "%s, which includes %s", desc, item)}
	}
}

// AtLeast wants the integer flag --name set to min or more.
func AtLeast(name string, min int) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		f := c.Flag(name)
		if !f.Set {
			return []Violation{{Message: fmt.Sprintf("--%s is not set; set it to %d or more", name, min)}}
		}
		n, err := strconv.Atoi(strings.TrimSpace(f.Value))
		if err != nil {
			return []Violation{at(f, "--%s=%s is not a number", name, f.Value)}
		}
		if n < min {
			return []Violation{at(f, "--%s=%d is below %d", name, n, min)}
		}
		return nil
	}
}

// All combines evaluations.
func All(evals ...Eval) Eval {
	return func(n *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		var out []Violation
		for _, e := range evals {
			out = append(out, e(n, c)...)
		}
		return out
	}
}

// FileRule is a benchmark item on the mode or owner of files with a role.
type FileRule struct {
	check.Metadata
	Roles []nodeconfig.FileRole
	// Component, when set, limits the rule to files of that component
	// (the four static pod manifests share a role).
	Component nodeconfig.Kind
	// MaxMode is the most permissive mode allowed (0 = not checked).
	MaxMode fs.FileMode
	// Owners are the allowed "user:group" owners (empty = not checked).
	// OwnerOf, when set, computes them per file.
	Owners  []string
	OwnerOf func(n *nodeconfig.Node, f *nodeconfig.File) []string
}

// FileRef is the object a file's findings are about.
func FileRef(path string) *check.ObjectRef {
	return &check.ObjectRef{APIVersion: "kubeharden.io/v1", Kind: "File", Name: path}
}

// Check turns the rule into a catalogue entry. Missing files are not
// findings: the benchmark's items apply "if the file exists".
func (r FileRule) Check() *check.Check {
	r.NodeOnly = true
	return &check.Check{Metadata: r.Metadata, Node: func(_ *check.Env, n *nodeconfig.Node) []check.Result {
		var out []check.Result
		var files []*nodeconfig.File
		for _, role := range r.Roles {
			for _, f := range n.FilesWithRole(role) {
				if !slices.Contains(files, f) {
					files = append(files, f)
				}
			}
		}
		for _, f := range files {
			if !f.Exists || (r.Component != "" && f.Component != r.Component) {
				continue
			}
			res := check.Result{Object: FileRef(f.Path), Source: &check.Source{File: f.Path}}
			if r.MaxMode != 0 && !f.AtMost(r.MaxMode) {
				res.Path = "mode"
				res.Message = fmt.Sprintf("%s has mode %s; want %s or more restrictive", f.Path, f.ModeString(), strconv.FormatUint(uint64(r.MaxMode.Perm()), 8))
				out = append(out, res)
			}
			owners := r.Owners
			if r.OwnerOf != nil {
				owners = r.OwnerOf(n, f)
			}
			// A file system without Unix owners (UID -1) cannot say who
			// owns the file: no verdict either way.
			if len(owners) > 0 && f.UID >= 0 && !slices.Contains(owners, f.Owner()) && !slices.Contains(owners, f.NumericOwner()) {
				res.Path = "owner"
				res.Message = fmt.Sprintf("%s is owned by %s; want %s", f.Path, f.Owner(), strings.Join(owners, " or "))
				out = append(out, res)
			}
		}
		return out
	}}
}

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// CipherSuites judges a --tls-cipher-suites flag: unset means Go's
// defaults, which include CBC-mode suites; set, every suite must be strong.
func CipherSuites(name string) Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []Violation {
		f := c.Flag(name)
		if !f.Set {
			return []Violation{{Message: "--" + name + " is not set: Go's default suites include CBC-mode ones"}}
		}
		if weak := WeakCipherSuites(f.List()); len(weak) > 0 {
			return []Violation{{Message: "--" + name + " allows weak suites: " + strings.Join(weak, ", "), Path: f.Path, Line: f.Line, Severity: check.Medium}}
		}
		return nil
	}
}

// WeakCipherSuites returns the suites that are not strong: anything Go
// lists as insecure or does not know, and CBC-mode suites. Strong suites
// are the ECDHE/RSA AEAD ones (AES-GCM, ChaCha20-Poly1305) and the TLS 1.3
// suites.
func WeakCipherSuites(names []string) []string {
	secure := map[string]bool{}
	for _, s := range tls.CipherSuites() {
		secure[s.Name] = true
	}
	var weak []string
	for _, n := range names {
		if !secure[n] || strings.Contains(n, "_CBC_") {
			weak = append(weak, n)
		}
	}
	return weak
}

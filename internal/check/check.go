// Package check is the engine: what a check is, the registry that holds the
// catalogue, the runner that evaluates it over an inventory or a single
// object, and the controls users have over it (configuration, annotations,
// baselines).
package check

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"strings"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Frameworks maps a check or finding to external standards.
type Frameworks struct {
	// CIS are CIS Kubernetes Benchmark section numbers ("5.2.2").
	CIS []string `json:"cis,omitempty"`
	// PSS are upstream Pod Security Standards check IDs ("privileged").
	PSS []string `json:"pss,omitempty"`
	// NSA are NSA-CISA Kubernetes Hardening Guide topics.
	NSA []string `json:"nsa,omitempty"`
	// MITRE are MITRE ATT&CK technique IDs ("T1611").
	MITRE []string `json:"mitre,omitempty"`
}

// Metadata describes a check in the catalogue.
type Metadata struct {
	ID          string     `json:"id"`
	Title       string     `json:"title"`
	Severity    Severity   `json:"severity"`
	Category    Category   `json:"category"`
	Frameworks  Frameworks `json:"frameworks"`
	Description string     `json:"description"`
	Remediation string     `json:"remediation"`
	// Optional checks are listed in the catalogue but run only when enabled
	// (--checks or the config file).
	Optional bool `json:"-"`
	// ControlPlane marks pod checks that also apply to the static pods of
	// the control plane (kube-apiserver, etcd, ...), whose role requires
	// host networking, host paths and root. See docs/checks.md.
	ControlPlane bool `json:"-"`
	// CrossObject marks checks whose verdict on an object rests on other
	// objects being absent (no NetworkPolicy selects this workload): on an
	// object seen alone, as the admission webhook sees it, they would
	// always fire, so the webhook does not run them.
	CrossObject bool `json:"-"`
	// LiveClusterOnly marks checks that report only on live clusters and
	// snapshots, where the whole set of objects is known (cluster checks
	// are live-cluster-only by nature).
	LiveClusterOnly bool `json:"-"`
	// NodeOnly marks checks that need facts only `kubeharden node` reads
	// on a host (the owner and mode of files); scan never runs them.
	NodeOnly bool `json:"-"`
}

// Check is a catalogue entry: metadata plus a pure function over the view
// it needs. Exactly one of Pod and Object is set; the runner dispatches on
// it, so a check never re-decodes an object.
type Check struct {
	Metadata
	// Pod is evaluated once for every object with a pod spec (Pods and
	// every workload kind, including custom resources with a pod template).
	Pod func(env *Env, pod *inventory.Pod) []Result
	// Object is evaluated for every object whose kind is in Kinds (every
	// object when Kinds is empty).
	Object func(env *Env, obj *source.Object) []Result
	// Kinds restricts Object checks to these kinds.
	Kinds []string
	// Cluster is evaluated once per run on facts about a live cluster
	// (Env.Cluster); it is skipped when the input is not a live cluster.
	// Its findings are about the object ClusterRef names.
	Cluster func(env *Env) []Result
	// Node is evaluated once per run on the configuration of a node's
	// components (Env.Node): processes and files on a host, captured
	// facts, or the static pod manifests of a scan. Each result names the
	// object it is about in Result.Object. A check may have both Node and
	// Object (a configuration file checked as a component's and as a
	// file given to scan).
	Node func(env *Env, node *nodeconfig.Node) []Result
	// Models are the shared cross-object models the check's functions
	// read through Env.Memo (optional). A whole-inventory run builds the
	// models of its checks side by side before evaluating objects, so that
	// no worker waits while another builds one on first use; evaluating a
	// single object still builds them lazily.
	Models []*Model
}

// Model is a cross-object structure several checks share, such as the RBAC
// world or the NetworkPolicy model.
type Model struct {
	Name string
	// Build builds and memoises the model in env (through Env.Memo, so a
	// second call, or a check's own lazy call, returns at once).
	Build func(env *Env)
}

// ClusterFacts are what a live scan learns by asking the API server
// itself, beyond listing objects.
type ClusterFacts struct {
	// Host is the API server URL; Version its git version.
	Host, Version string
	// AnonymousAuthenticated is true when an unauthenticated request is
	// authenticated as system:anonymous (the server answered it other
	// than 401).
	AnonymousAuthenticated bool
	// AnonymousAllowed lists what system:anonymous may do beyond
	// discovery ("list pods", ...), from SubjectAccessReviews.
	AnonymousAllowed []string
}

// ClusterRef is the object cluster-level findings are about.
func ClusterRef(f *ClusterFacts) ObjectRef {
	return ObjectRef{APIVersion: "kubeharden.io/v1", Kind: "Cluster", Name: f.Host}
}

// Result is what a check function reports: one problem at one field.
type Result struct {
	// Container is the container's name when the problem is in one.
	Container string
	// Path is the dotted field path inside the object
	// ("spec.template.spec.containers[0].securityContext.privileged").
	Path string
	// Message says what is wrong, with the field and value.
	Message string
	// Remediation, when set, replaces the check's generic remediation.
	Remediation string
	// Severity, when set, replaces the check's severity for this result.
	Severity Severity
	// Object and Source are set by Node checks, which are not evaluated
	// on one object: what the finding is about and where it was read.
	Object *ObjectRef
	Source *Source
}

// ObjectRef names an object in findings.
type ObjectRef struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
	Namespace  string `json:"namespace,omitempty"`
	Name       string `json:"name"`
}

// RefOf returns the reference of o.
func RefOf(o *source.Object) ObjectRef {
	return ObjectRef{APIVersion: o.APIVersion(), Kind: o.Kind(), Namespace: o.Namespace(), Name: o.Name()}
}

// String is "Kind namespace/name" or "Kind name".
func (r ObjectRef) String() string {
	if r.Namespace != "" {
		return r.Kind + " " + r.Namespace + "/" + r.Name
	}
	return r.Kind + " " + r.Name
}

// Group is the API group of the reference.
func (r ObjectRef) Group() string {
	if g, _, ok := strings.Cut(r.APIVersion, "/"); ok {
		return g
	}
	return ""
}

// Finding is one result of one check on one object, ready to report.
//
// A run keeps every finding until the report is written (132,368 on the
// real-world corpus, 2 million in a million-object cluster), so the struct
// holds only what cannot be shared: the findings of one check share its
// Rule, those of one object its ObjectRef, and the fingerprint is computed
// when it is asked for.
type Finding struct {
	// Rule is shared by the findings of one check: never modify it. Its
	// fields read as the finding's own (f.Check, f.Severity...).
	*Rule
	// Object is shared by the findings of one object: never modify it.
	Object    *ObjectRef `json:"object"`
	Container string     `json:"container,omitempty"`
	Path      string     `json:"path,omitempty"`
	// Source is zero when the object was not read from a file.
	Source  Source `json:"source,omitzero"`
	Message string `json:"message"`
}

// Rule is what every finding of a check reports alike: the check's
// identity and catalogue metadata, with the severity and remediation the
// run gives its findings (a configuration or a result may override the
// check's own).
type Rule struct {
	Check       string   `json:"check"`
	Severity    Severity `json:"severity"`
	Category    Category `json:"category"`
	Remediation string   `json:"remediation"`
	// Frameworks is shared with the check's metadata: never modify it.
	Frameworks *Frameworks `json:"frameworks"`
}

// File is the file the finding's object was read from, or "".
func (f *Finding) File() string { return f.Source.File }

// Fingerprint identifies f across runs: see the function Fingerprint.
func (f *Finding) Fingerprint() string {
	return string(f.AppendFingerprint(nil))
}

// AppendFingerprint appends f's fingerprint to b, for writers that would
// otherwise make a string of it per finding.
func (f *Finding) AppendFingerprint(b []byte) []byte {
	var obj ObjectRef
	if f.Object != nil {
		obj = *f.Object
	}
	return appendFingerprint(b, f.rule().Check, obj, f.Container, f.Path)
}

// rule is f's rule, or the empty rule when f was made without one.
func (f *Finding) rule() Rule {
	if f.Rule == nil {
		return Rule{}
	}
	return *f.Rule
}

// MarshalJSON writes f as the report schema has it, with its fingerprint
// last and HTML characters unescaped as the report writers do.
func (f Finding) MarshalJSON() ([]byte, error) {
	rule := f.rule()
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	err := enc.Encode(findingJSON{
		Check:       rule.Check,
		Severity:    rule.Severity,
		Category:    rule.Category,
		Object:      f.Object,
		Container:   f.Container,
		Path:        f.Path,
		Source:      f.Source,
		Message:     f.Message,
		Remediation: rule.Remediation,
		Frameworks:  rule.Frameworks,
		Fingerprint: f.Fingerprint(),
	})
	return bytes.TrimSuffix(buf.Bytes(), []byte("\n")), err
}

// UnmarshalJSON reads a finding as MarshalJSON writes it (a baseline
// report), with a Rule of its own.
func (f *Finding) UnmarshalJSON(b []byte) error {
	var v findingJSON
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	*f = v.finding()
	return nil
}

// finding is the finding v encodes, with a Rule of its own.
func (v *findingJSON) finding() Finding {
	return Finding{
		Rule:      &Rule{Check: v.Check, Severity: v.Severity, Category: v.Category, Remediation: v.Remediation, Frameworks: v.Frameworks},
		Object:    v.Object,
		Container: v.Container,
		Path:      v.Path,
		Source:    v.Source,
		Message:   v.Message,
	}
}

// findingJSON is a finding in the report schema's field order.
type findingJSON struct {
	Check       string      `json:"check"`
	Severity    Severity    `json:"severity"`
	Category    Category    `json:"category"`
	Object      *ObjectRef  `json:"object"`
	Container   string      `json:"container,omitempty"`
	Path        string      `json:"path,omitempty"`
	Source      Source      `json:"source,omitzero"`
	Message     string      `json:"message"`
	Remediation string      `json:"remediation"`
	Frameworks  *Frameworks `json:"frameworks"`
	Fingerprint string      `json:"fingerprint,omitempty"`
}

// Source is where the object (or the field) was read from.
type Source struct {
	File string `json:"file"`
	Line int    `json:"line,omitempty"`
}

// Fingerprint identifies a finding across runs, independent of where the
// object was read from and of the message's wording: check, object
// identity (group, kind, namespace, name), container and field path.
func Fingerprint(checkID string, obj ObjectRef, container, path string) string {
	return string(appendFingerprint(nil, checkID, obj, container, path))
}

func appendFingerprint(b []byte, checkID string, obj ObjectRef, container, path string) []byte {
	var stack [256]byte
	buf := stack[:0]
	for _, part := range []string{checkID, obj.Group(), obj.Kind, obj.Namespace, obj.Name, container, path} {
		buf = append(buf, part...)
		buf = append(buf, 0)
	}
	sum := sha256.Sum256(buf)
	return hex.AppendEncode(b, sum[:16])
}

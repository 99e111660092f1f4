package admission

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/apiserver/pkg/authentication/serviceaccount"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/checks"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Reviewer decides AdmissionReviews with the check engine.
type Reviewer struct {
	cfg      *Config
	runner   *check.Runner
	settings check.Settings
	denyAt   check.Severity
	// accounts answers whether a service account holds RBAC permissions,
	// for the automount mutation; nil when the webhook cannot read RBAC.
	accounts AccountPermissions
	log      *slog.Logger
	metrics  *Metrics
}

// AccountPermissions tells whether a service account is granted anything
// by RBAC beyond what every authenticated caller gets.
type AccountPermissions interface {
	HasPermissions(namespace, name string) (has bool, known bool)
}

// NewReviewer builds the engine the configuration asks for.
func NewReviewer(cfg *Config, accounts AccountPermissions, log *slog.Logger, metrics *Metrics) (*Reviewer, error) {
	reg, err := checks.Registry()
	if err != nil {
		return nil, err
	}
	var scanCfg *check.Config
	if cfg.ScanConfig != "" {
		if scanCfg, err = check.LoadConfig(cfg.ScanConfig); err != nil {
			return nil, err
		}
	}
	// Checks that need the rest of the cluster to stay quiet would fire on
	// every object seen alone.
	skip := slices.Clone(cfg.SkipChecks)
	for _, c := range reg.Checks() {
		if c.CrossObject {
			skip = append(skip, c.ID)
		}
	}
	categories := make([]check.Category, 0, len(cfg.Categories))
	for _, c := range cfg.Categories {
		categories = append(categories, check.Category(c))
	}
	runner, err := check.NewRunner(reg, check.Options{
		Selection: check.Selection{Only: cfg.Checks, Skip: skip, Categories: categories},
		Config:    scanCfg,
		Strict:    cfg.Strict,
		// One request is one object: evaluate it on the calling goroutine.
		Workers: 1,
	})
	if err != nil {
		return nil, err
	}
	denyAt, _ := check.ParseSeverity(cfg.DenyAt)
	if metrics == nil {
		metrics = NewMetrics()
	}
	return &Reviewer{cfg: cfg, runner: runner, settings: check.Settings{PSSVersion: cfg.PSSVersion, PSSLevel: cfg.PSSLevel},
		denyAt: denyAt, accounts: accounts, log: log, metrics: metrics}, nil
}

// skipReason says why a request needs no evaluation, or "".
func (r *Reviewer) skipReason(req *admissionv1.AdmissionRequest) string {
	switch {
	case req.Operation == admissionv1.Delete || req.Operation == admissionv1.Connect:
		return "operation " + string(req.Operation)
	case req.SubResource != "" && req.SubResource != "ephemeralcontainers":
		// status, scale, binding, eviction, exec, … cannot change the
		// security-relevant spec.
		return "subresource " + req.SubResource
	case len(req.Object.Raw) == 0:
		return "no object"
	}
	if slices.Contains(r.cfg.Exempt.Namespaces, req.Namespace) {
		return "exempt namespace"
	}
	if slices.Contains(r.cfg.Exempt.Users, req.UserInfo.Username) {
		return "exempt user"
	}
	for _, g := range req.UserInfo.Groups {
		if slices.Contains(r.cfg.Exempt.Groups, g) {
			return "exempt group"
		}
	}
	if ns, name, err := serviceaccount.SplitUsername(req.UserInfo.Username); err == nil && slices.Contains(r.cfg.Exempt.ServiceAccounts, ns+":"+name) {
		return "exempt service account"
	}
	return ""
}

// decodeObject reads the request's object, filling in the namespace and
// name the request carries when the object has none yet (generateName,
// namespace from the URL).
func decodeObject(req *admissionv1.AdmissionRequest) (*source.Object, error) {
	name := fmt.Sprintf("admission %s %s", req.Kind.Kind, req.UID)
	obj, err := source.DecodeJSONObject(name, req.Object.Raw)
	if err != nil {
		return nil, err
	}
	objName, _ := obj.MetadataField("name").(string)
	if (obj.Namespace() != "" || req.Namespace == "") && (objName != "" || req.Name == "") {
		return obj, nil
	}
	// Body builds fresh maps for the top level and metadata: fill them in
	// and make the object again.
	body := obj.Body()
	md, _ := body["metadata"].(map[string]any)
	if md == nil {
		md = map[string]any{}
		body["metadata"] = md
	}
	if s, _ := md["namespace"].(string); s == "" && req.Namespace != "" {
		md["namespace"] = req.Namespace
	}
	if s, _ := md["name"].(string); s == "" && req.Name != "" {
		md["name"] = req.Name
	}
	return source.NewObject(body, obj.Source, obj.Item), nil
}

// evaluate runs the catalogue on the request's object, as scan would on
// that object alone.
func (r *Reviewer) evaluate(obj *source.Object) ([]check.Finding, []*source.Error) {
	objs := []*source.Object{obj}
	inv := inventory.Build(objs)
	env := check.NewEnv(inv, r.settings)
	env.Node = nodeconfig.FromObjects(objs)
	out := r.runner.EvaluateObject(env, obj)
	return out.Findings, inv.PodErrors()
}

// Validate decides a request: deny enforced findings, warn and audit the
// others.
func (r *Reviewer) Validate(_ context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp, _ := r.validate(req)
	return resp
}

// validate is Validate, also returning every finding it decided on.
func (r *Reviewer) validate(req *admissionv1.AdmissionRequest) (*admissionv1.AdmissionResponse, []check.Finding) {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if why := r.skipReason(req); why != "" {
		r.metrics.skipped.WithLabelValues(why).Inc()
		return resp, nil
	}
	obj, err := decodeObject(req)
	if err != nil {
		r.metrics.errors.WithLabelValues("decode").Inc()
		return errorResponse(req.UID, 400, err.Error()), nil
	}
	findings, podErrors := r.evaluate(obj)
	for _, e := range podErrors {
		resp.Warnings = append(resp.Warnings, truncate("kubeharden could not read the pod template: "+e.Err.Error()))
	}
	var denied, audited []check.Finding
	for i := range findings {
		f := &findings[i]
		mode := r.cfg.modeOf(f, obj.Namespace(), r.denyAt)
		r.metrics.decisions.WithLabelValues(f.Check, string(mode)).Inc()
		switch mode {
		case Enforce:
			denied = append(denied, *f)
		case Warn:
			resp.Warnings = append(resp.Warnings, truncate(f.Check+" ("+f.Severity.String()+"): "+f.Message))
		case Audit:
			audited = append(audited, *f)
		}
	}
	if len(audited) > 0 {
		resp.AuditAnnotations = map[string]string{"findings": auditValue(audited)}
		r.log.Info("audit", "uid", req.UID, "user", req.UserInfo.Username, "object", obj.String(), "dryRun", req.DryRun != nil && *req.DryRun, "findings", auditValue(audited))
	}
	if len(denied) > 0 {
		resp.Allowed = false
		resp.Result = &metav1.Status{Status: metav1.StatusFailure, Code: 403, Reason: metav1.StatusReasonForbidden, Message: denialMessage(denied)}
		if resp.AuditAnnotations == nil {
			resp.AuditAnnotations = map[string]string{}
		}
		resp.AuditAnnotations["denied"] = auditValue(denied)
	}
	return resp, findings
}

// denialMessage lists every enforced finding with its field and fix.
func denialMessage(fs []check.Finding) string {
	var b strings.Builder
	fmt.Fprintf(&b, "kubeharden denied %d violation", len(fs))
	if len(fs) > 1 {
		b.WriteString("s")
	}
	b.WriteString(":")
	for _, f := range fs {
		fmt.Fprintf(&b, "\n  %s (%s): %s", f.Check, f.Severity, f.Message)
		if f.Path != "" {
			fmt.Fprintf(&b, " [at %s]", f.Path)
		}
		fmt.Fprintf(&b, "; fix: %s", f.Remediation)
	}
	return b.String()
}

// auditValue is a compact list for audit annotations and logs.
func auditValue(fs []check.Finding) string {
	parts := make([]string, 0, len(fs))
	for _, f := range fs {
		p := f.Check + "(" + f.Severity.String() + ")"
		if f.Path != "" {
			p += "@" + f.Path
		}
		parts = append(parts, p)
	}
	return strings.Join(parts, ",")
}

// truncate keeps a warning within the size kubectl shows in one line.
func truncate(s string) string {
	const max = 250
	if len(s) <= max {
		return s
	}
	cut := max - 1
	for cut > 0 && (s[cut]&0xC0) == 0x80 { // do not split a UTF-8 sequence
		cut--
	}
	return s[:cut] + "…"
}

func errorResponse(uid types.UID, code int32, msg string) *admissionv1.AdmissionResponse {
	return &admissionv1.AdmissionResponse{UID: uid, Allowed: false, Result: &metav1.Status{Status: metav1.StatusFailure, Code: code, Message: msg}}
}

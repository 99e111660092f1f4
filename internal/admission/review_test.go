package admission

import (
	"encoding/json"
	"io"
	"log/slog"
	"strings"
	"testing"

	jsonpatch "gopkg.in/evanphx/json-patch.v4"
	admissionv1 "k8s.io/api/admission/v1"
	authenticationv1 "k8s.io/api/authentication/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"sigs.k8s.io/yaml"
)

func reviewer(t testing.TB, cfgYAML string) *Reviewer {
	t.Helper()
	cfg := &Config{}
	if err := yaml.UnmarshalStrict([]byte(cfgYAML), cfg); err != nil {
		t.Fatal(err)
	}
	if err := cfg.validate(); err != nil {
		t.Fatal(err)
	}
	r, err := NewReviewer(cfg, nil, slog.New(slog.NewTextHandler(io.Discard, nil)), nil)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

// request wraps a YAML object in an AdmissionRequest.
func request(t testing.TB, objYAML string, mods ...func(*admissionv1.AdmissionRequest)) *admissionv1.AdmissionRequest {
	t.Helper()
	raw, err := yaml.YAMLToJSON([]byte(objYAML))
	if err != nil {
		t.Fatal(err)
	}
	var meta struct {
		Kind     string            `json:"kind"`
		Metadata metav1.ObjectMeta `json:"metadata"`
	}
	if err := json.Unmarshal(raw, &meta); err != nil {
		t.Fatal(err)
	}
	req := &admissionv1.AdmissionRequest{
		UID: "u1", Kind: metav1.GroupVersionKind{Kind: meta.Kind}, Namespace: meta.Metadata.Namespace, Name: meta.Metadata.Name,
		Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw},
		UserInfo: authenticationv1.UserInfo{Username: "alice", Groups: []string{"developers", "system:authenticated"}},
	}
	for _, m := range mods {
		m(req)
	}
	return req
}

const privilegedPod = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  containers:
  - name: app
    image: registry.example.com/app:1.0
    securityContext: {privileged: true}
`

const hardenedPod = `apiVersion: v1
kind: Pod
metadata: {name: p, namespace: shop}
spec:
  automountServiceAccountToken: false
  serviceAccountName: app
  securityContext: {runAsNonRoot: true, seccompProfile: {type: RuntimeDefault}}
  containers:
  - name: app
    image: registry.example.com/app:1.0@sha256:0123456789012345678901234567890123456789012345678901234567890123
    securityContext: {allowPrivilegeEscalation: false, readOnlyRootFilesystem: true, capabilities: {drop: [ALL]}}
    resources: {requests: {cpu: 100m, memory: 64Mi}, limits: {cpu: 200m, memory: 64Mi}}
`

func TestValidate(t *testing.T) {
	r := reviewer(t, "")
	resp := r.Validate(t.Context(), request(t, privilegedPod))
	if resp.Allowed || resp.Result.Code != 403 {
		t.Fatalf("privileged pod admitted: %+v", resp)
	}
	msg := resp.Result.Message
	for _, want := range []string{"privileged-container (critical)", `container "app"`, "[at spec.containers[0].securityContext.privileged]", "fix:"} {
		if !strings.Contains(msg, want) {
			t.Errorf("denial lacks %q:\n%s", want, msg)
		}
	}
	if len(resp.Warnings) == 0 || resp.AuditAnnotations["denied"] == "" {
		t.Errorf("lower findings are warned and the denial is annotated: %+v", resp)
	}
	if resp := r.Validate(t.Context(), request(t, hardenedPod)); !resp.Allowed || len(resp.Warnings) != 0 {
		t.Errorf("hardened pod: %+v", resp)
	}
}

func TestValidateModesAndExemptions(t *testing.T) {
	r := reviewer(t, `
rules:
- {namespaces: [legacy-*], mode: warn}
- {checks: [privileged-container], namespaces: [audited], mode: audit}
- {categories: [supply-chain], mode: audit}
exempt:
  namespaces: [kube-system]
  users: [break-glass]
  groups: [platform-admins]
  serviceAccounts: ["ci:deployer"]
strict: [privileged-container]
`)
	warned := r.Validate(t.Context(), request(t, strings.Replace(privilegedPod, "namespace: shop", "namespace: legacy-billing", 1)))
	if !warned.Allowed || !strings.Contains(strings.Join(warned.Warnings, "\n"), "privileged-container (critical)") {
		t.Errorf("warn mode: %+v", warned)
	}
	audited := r.Validate(t.Context(), request(t, strings.Replace(privilegedPod, "namespace: shop", "namespace: audited", 1)))
	findings := audited.AuditAnnotations["findings"]
	if !audited.Allowed || !strings.Contains(findings, "privileged-container(critical)@spec.containers[0].securityContext.privileged") || !strings.Contains(findings, "image-not-pinned-by-digest(low)") {
		t.Errorf("audit mode: %+v", audited)
	}
	if shop := r.Validate(t.Context(), request(t, privilegedPod)); shop.Allowed || !strings.Contains(shop.AuditAnnotations["findings"], "image-not-pinned-by-digest") {
		t.Errorf("enforce elsewhere, supply chain audited everywhere: %+v", shop)
	}
	for name, mod := range map[string]func(*admissionv1.AdmissionRequest){
		"namespace": func(q *admissionv1.AdmissionRequest) { q.Namespace = "kube-system" },
		"user":      func(q *admissionv1.AdmissionRequest) { q.UserInfo.Username = "break-glass" },
		"group": func(q *admissionv1.AdmissionRequest) {
			q.UserInfo.Groups = append(q.UserInfo.Groups, "platform-admins")
		},
		"service account": func(q *admissionv1.AdmissionRequest) { q.UserInfo.Username = "system:serviceaccount:ci:deployer" },
		"delete":          func(q *admissionv1.AdmissionRequest) { q.Operation = admissionv1.Delete },
		"status":          func(q *admissionv1.AdmissionRequest) { q.SubResource = "status" },
	} {
		if resp := r.Validate(t.Context(), request(t, privilegedPod, mod)); !resp.Allowed || len(resp.Warnings) > 0 {
			t.Errorf("%s: not skipped: %+v", name, resp)
		}
	}
	if resp := r.Validate(t.Context(), request(t, privilegedPod, func(q *admissionv1.AdmissionRequest) { q.SubResource = "ephemeralcontainers" })); resp.Allowed {
		t.Error("ephemeral containers are evaluated")
	}
	annotated := strings.Replace(privilegedPod, "metadata: {name: p, namespace: shop}", "metadata: {name: p, namespace: shop, annotations: {kubeharden.io/ignore: 'privileged-container,privileged-container-baseline'}}", 1)
	if resp := r.Validate(t.Context(), request(t, annotated)); resp.Allowed || !strings.Contains(resp.Result.Message, "privileged-container (critical)") {
		t.Errorf("a strict check cannot be ignored by annotation: %+v", resp)
	}
	dry := true
	if resp := r.Validate(t.Context(), request(t, privilegedPod, func(q *admissionv1.AdmissionRequest) { q.DryRun = &dry })); resp.Allowed {
		t.Error("dry-run requests get the same decision")
	}
}

func TestValidateBadObjects(t *testing.T) {
	r := reviewer(t, "")
	for name, raw := range map[string]string{
		"not json":    `{"kind": `,
		"no kind":     `{"apiVersion": "v1", "metadata": {"name": "x"}}`,
		"array":       `[1, 2]`,
		"bad meta":    `{"apiVersion": "v1", "kind": "Pod", "metadata": 5}`,
		"trailing":    `{"apiVersion": "v1", "kind": "Pod"} {}`,
		"wrong types": `{"apiVersion": "v1", "kind": "Pod", "metadata": {"name": "x"}, "spec": {"containers": "nope"}}`,
	} {
		req := request(t, privilegedPod)
		req.Object.Raw = []byte(raw)
		resp := r.Validate(t.Context(), req)
		switch name {
		case "wrong types":
			if !resp.Allowed || len(resp.Warnings) == 0 {
				t.Errorf("%s: an unreadable pod template is admitted with a warning (the API server's validation rejects it): %+v", name, resp)
			}
		default:
			if resp.Allowed || resp.Result == nil || resp.Result.Code != 400 {
				t.Errorf("%s: %+v", name, resp)
			}
		}
	}
}

func applyPatch(t *testing.T, req *admissionv1.AdmissionRequest, resp *admissionv1.AdmissionResponse) map[string]any {
	t.Helper()
	out := req.Object.Raw
	if resp.Patch != nil {
		p, err := jsonpatch.DecodePatch(resp.Patch)
		if err != nil {
			t.Fatalf("patch %s: %v", resp.Patch, err)
		}
		if out, err = p.Apply(req.Object.Raw); err != nil {
			t.Fatalf("patch %s does not apply: %v", resp.Patch, err)
		}
	}
	var obj map[string]any
	if err := json.Unmarshal(out, &obj); err != nil {
		t.Fatal(err)
	}
	return obj
}

func field(obj map[string]any, path ...any) any {
	var v any = obj
	for _, p := range path {
		switch k := p.(type) {
		case string:
			m, _ := v.(map[string]any)
			v = m[k]
		case int:
			l, _ := v.([]any)
			if k >= len(l) {
				return nil
			}
			v = l[k]
		}
	}
	return v
}

func TestMutate(t *testing.T) {
	r := reviewer(t, "mutate: {seccompProfile: true, allowPrivilegeEscalation: true, dropAllCapabilities: true}")
	deployment := `apiVersion: apps/v1
kind: Deployment
metadata: {name: d, namespace: shop}
spec:
  selector: {matchLabels: {app: d}}
  template:
    metadata: {labels: {app: d}}
    spec:
      initContainers:
      - {name: init, image: x}
      containers:
      - {name: plain, image: x}
      - name: explicit
        image: x
        securityContext: {allowPrivilegeEscalation: true, capabilities: {drop: [NET_RAW]}}
      - name: privileged
        image: x
        securityContext: {privileged: true}
`
	req := request(t, deployment)
	resp := r.Mutate(t.Context(), req)
	obj := applyPatch(t, req, resp)
	spec := []any{"spec", "template", "spec"}
	if got := field(obj, append(spec, "securityContext", "seccompProfile", "type")...); got != "RuntimeDefault" {
		t.Errorf("seccomp: %v", got)
	}
	checks := []struct {
		path []any
		want any
	}{
		{append(spec, "initContainers", 0, "securityContext", "allowPrivilegeEscalation"), false},
		{append(spec, "containers", 0, "securityContext", "allowPrivilegeEscalation"), false},
		{append(spec, "containers", 0, "securityContext", "capabilities", "drop", 0), "ALL"},
		{append(spec, "containers", 1, "securityContext", "allowPrivilegeEscalation"), true},
		{append(spec, "containers", 1, "securityContext", "capabilities", "drop", 0), "NET_RAW"},
		{append(spec, "containers", 2, "securityContext", "allowPrivilegeEscalation"), nil},
		{append(spec, "containers", 2, "securityContext", "capabilities", "drop", 0), "ALL"},
	}
	for _, c := range checks {
		if got := field(obj, c.path...); got != c.want {
			t.Errorf("%v = %v, want %v", c.path, got, c.want)
		}
	}
	if len(resp.Warnings) != 6 || !strings.Contains(resp.Warnings[0], "kubeharden set spec.template.spec.securityContext.seccompProfile.type=RuntimeDefault") {
		t.Errorf("each patch is listed in a warning: %q", resp.Warnings)
	}
	// Already hardened: nothing to do.
	if resp := r.Mutate(t.Context(), request(t, hardenedPod)); resp.Patch != nil {
		t.Errorf("patched a hardened pod: %s", resp.Patch)
	}
	// Windows pods take neither seccomp nor capabilities.
	win := strings.Replace(deployment, "    spec:\n      initContainers", "    spec:\n      os: {name: windows}\n      initContainers", 1)
	if resp := r.Mutate(t.Context(), request(t, win)); resp.Patch != nil {
		t.Errorf("patched a Windows pod: %s", resp.Patch)
	}
	if resp := reviewer(t, "").Mutate(t.Context(), request(t, privilegedPod)); resp.Patch != nil {
		t.Error("mutation is opt-in")
	}
}

type fakeAccounts map[string]bool

func (f fakeAccounts) HasPermissions(ns, name string) (bool, bool) {
	has, ok := f[ns+"/"+name]
	return has, ok
}

func TestMutateAutomount(t *testing.T) {
	r := reviewer(t, "mutate: {automountServiceAccountToken: true}")
	r.accounts = fakeAccounts{"shop/default": false, "shop/operator": true}
	pod := strings.Replace(privilegedPod, "spec:\n", "spec:\n  serviceAccountName: SA\n", 1)
	for sa, want := range map[string]any{"default": false, "operator": nil, "unknown": nil} {
		req := request(t, strings.Replace(pod, "SA", sa, 1))
		if got := field(applyPatch(t, req, r.Mutate(t.Context(), req)), "spec", "automountServiceAccountToken"); got != want {
			t.Errorf("service account %s: automount %v, want %v", sa, got, want)
		}
	}
}

// TestDecodeObjectTakesIdentityFromRequest: an object created with
// generateName, or sent without a namespace (the namespace is in the URL),
// is reported under the name and namespace the request carries.
func TestDecodeObjectTakesIdentityFromRequest(t *testing.T) {
	for _, tc := range []struct {
		name, raw, reqNS, reqName string
		wantNS, wantName          string
	}{
		{"namespace from the URL", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"web"}}`, "shop", "web", "shop", "web"},
		{"no metadata", `{"apiVersion":"v1","kind":"Pod"}`, "shop", "web", "shop", "web"},
		{"generateName", `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-","namespace":"shop"}}`, "shop", "web-x7k2p", "shop", "web-x7k2p"},
		{"object's own identity wins", `{"apiVersion":"v1","kind":"Pod","metadata":{"name":"a","namespace":"b"}}`, "shop", "web", "b", "a"},
		{"request without a name", `{"apiVersion":"v1","kind":"Pod","metadata":{"generateName":"web-"}}`, "shop", "", "shop", "web-"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req := &admissionv1.AdmissionRequest{UID: "u", Kind: metav1.GroupVersionKind{Version: "v1", Kind: "Pod"},
				Namespace: tc.reqNS, Name: tc.reqName, Object: runtime.RawExtension{Raw: []byte(tc.raw)}}
			obj, err := decodeObject(req)
			if err != nil {
				t.Fatal(err)
			}
			if obj.Namespace() != tc.wantNS || obj.Name() != tc.wantName {
				t.Errorf("got %s/%s, want %s/%s", obj.Namespace(), obj.Name(), tc.wantNS, tc.wantName)
			}
		})
	}
}

package admission

import (
	"context"
	"encoding/json"
	"slices"
	"strings"

	admissionv1 "k8s.io/api/admission/v1"
	corev1 "k8s.io/api/core/v1"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
)

// patchOp is one JSON Patch (RFC 6902) operation.
type patchOp struct {
	Op    string `json:"op"`
	Path  string `json:"path"`
	Value any    `json:"value"`
}

// pointer turns a field path ("spec.template.spec.containers[0]") and
// further keys into a JSON pointer ("/spec/template/spec/containers/0/…").
// Pod field names contain neither dots nor brackets.
func pointer(dotted string, more ...string) string {
	parts := append(strings.Split(strings.NewReplacer("[", ".", "]", "").Replace(dotted), "."), more...)
	escape := strings.NewReplacer("~", "~0", "/", "~1")
	for i, p := range parts {
		parts[i] = escape.Replace(p)
	}
	return "/" + strings.Join(parts, "/")
}

// Mutate returns the secure-default patches for a pod-bearing object:
// each only where the field is unset, never against an explicit choice,
// each listed in a warning.
func (r *Reviewer) Mutate(_ context.Context, req *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse {
	resp := &admissionv1.AdmissionResponse{UID: req.UID, Allowed: true}
	if !r.cfg.Mutate.Any() || req.Operation != admissionv1.Create {
		return resp
	}
	if why := r.skipReason(req); why != "" {
		r.metrics.skipped.WithLabelValues(why).Inc()
		return resp
	}
	obj, err := decodeObject(req)
	if err != nil {
		r.metrics.errors.WithLabelValues("decode").Inc()
		return errorResponse(req.UID, 400, err.Error())
	}
	inv := inventory.Build([]*source.Object{obj})
	pod := inv.Pod(obj)
	if pod == nil {
		return resp
	}
	ops, notes := r.securePatches(pod)
	if len(ops) == 0 {
		return resp
	}
	patch, err := json.Marshal(ops)
	if err != nil {
		r.metrics.errors.WithLabelValues("patch").Inc()
		return resp
	}
	pt := admissionv1.PatchTypeJSONPatch
	resp.Patch, resp.PatchType = patch, &pt
	for _, n := range notes {
		resp.Warnings = append(resp.Warnings, truncate("kubeharden set "+n))
	}
	return resp
}

// securePatches computes the patches the configuration turns on.
func (r *Reviewer) securePatches(pod *inventory.Pod) (ops []patchOp, notes []string) {
	spec, at := pod.Spec, pod.SpecPath
	windows := spec.OS != nil && spec.OS.Name == corev1.Windows
	m := r.cfg.Mutate
	if m.SeccompProfile && !windows {
		switch {
		case spec.SecurityContext == nil:
			ops = append(ops, patchOp{"add", pointer(at, "securityContext"), map[string]any{"seccompProfile": map[string]any{"type": "RuntimeDefault"}}})
		case spec.SecurityContext.SeccompProfile == nil:
			ops = append(ops, patchOp{"add", pointer(at, "securityContext", "seccompProfile"), map[string]any{"type": "RuntimeDefault"}})
		}
		if len(ops) > 0 {
			notes = append(notes, at+".securityContext.seccompProfile.type=RuntimeDefault")
			r.metrics.patches.WithLabelValues("seccompProfile").Inc()
		}
	}
	if (m.AllowPrivilegeEscalation || m.DropAllCapabilities) && !windows {
		for _, c := range pod.Containers() {
			if c.Ephemeral {
				continue // ephemeral containers are added through their own subresource
			}
			o, n := r.containerPatches(c)
			ops, notes = append(ops, o...), append(notes, n...)
		}
	}
	if m.AutomountServiceAccountToken && spec.AutomountServiceAccountToken == nil && r.accounts != nil {
		if has, known := r.accounts.HasPermissions(pod.Object.Namespace(), pod.ServiceAccount()); known && !has {
			ops = append(ops, patchOp{"add", pointer(at, "automountServiceAccountToken"), false})
			notes = append(notes, at+".automountServiceAccountToken=false (service account "+pod.ServiceAccount()+" has no RBAC permissions)")
			r.metrics.patches.WithLabelValues("automountServiceAccountToken").Inc()
		}
	}
	return ops, notes
}

// containerPatches sets allowPrivilegeEscalation: false and drops ALL
// capabilities where unset. allowPrivilegeEscalation is left alone for
// privileged containers and those adding CAP_SYS_ADMIN, which the API
// server requires to escalate.
func (r *Reviewer) containerPatches(c inventory.ContainerRef) (ops []patchOp, notes []string) {
	m := r.cfg.Mutate
	sc := c.Container.SecurityContext
	privileged := sc != nil && sc.Privileged != nil && *sc.Privileged
	sysAdmin := sc != nil && sc.Capabilities != nil && slices.ContainsFunc(sc.Capabilities.Add, func(c corev1.Capability) bool {
		return c == "SYS_ADMIN" || c == "CAP_SYS_ADMIN"
	})
	setAPE := m.AllowPrivilegeEscalation && !privileged && !sysAdmin && (sc == nil || sc.AllowPrivilegeEscalation == nil)
	setDrop := m.DropAllCapabilities && (sc == nil || sc.Capabilities == nil || len(sc.Capabilities.Drop) == 0)
	if !setAPE && !setDrop {
		return nil, nil
	}
	add := map[string]any{}
	if setAPE {
		add["allowPrivilegeEscalation"] = false
		notes = append(notes, c.Path+".securityContext.allowPrivilegeEscalation=false")
		r.metrics.patches.WithLabelValues("allowPrivilegeEscalation").Inc()
	}
	if setDrop {
		notes = append(notes, c.Path+".securityContext.capabilities.drop=[ALL]")
		r.metrics.patches.WithLabelValues("dropAllCapabilities").Inc()
	}
	switch {
	case sc == nil:
		if setDrop {
			add["capabilities"] = map[string]any{"drop": []string{"ALL"}}
		}
		return []patchOp{{"add", pointer(c.Path, "securityContext"), add}}, notes
	}
	if setAPE {
		ops = append(ops, patchOp{"add", pointer(c.Path, "securityContext", "allowPrivilegeEscalation"), false})
	}
	if setDrop {
		if sc.Capabilities == nil {
			ops = append(ops, patchOp{"add", pointer(c.Path, "securityContext", "capabilities"), map[string]any{"drop": []string{"ALL"}}})
		} else {
			ops = append(ops, patchOp{"add", pointer(c.Path, "securityContext", "capabilities", "drop"), []string{"ALL"}})
		}
	}
	return ops, notes
}

package accesscontrol

import (
	"fmt"
	"slices"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

func serviceAccountTokenSecret() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "service-account-token-secret", Title: "Long-lived service-account token Secret", Severity: check.Medium, Category: check.AccessControl,
			Frameworks:  check.Frameworks{NSA: []string{"Use short-lived service account tokens"}, MITRE: []string{mitreCredentials}},
			Description: "A Secret of type kubernetes.io/service-account-token holds a token that never expires and is readable by anyone who can read Secrets in the namespace. Pods get short-lived, audience-bound tokens through the TokenRequest API without it.",
			Remediation: "Delete the Secret and use projected service-account tokens (the default for pods) or `kubectl create token` for clients outside the cluster.",
		},
		Kinds: []string{"Secret"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			if o.Group() != "" {
				return nil
			}
			if t, _ := o.Field("type").(string); t != string(corev1.SecretTypeServiceAccountToken) {
				return nil
			}
			sa := o.Annotations()[corev1.ServiceAccountNameKey]
			return []check.Result{{Path: "type", Message: fmt.Sprintf("Secret %s/%s holds a long-lived token of service account %q", o.Namespace(), o.Name(), sa)}}
		},
	}
}

type powersKey struct{}

type boundKey struct{}

// bound reports whether a binding names s (directly or by a group), once
// per subject and evaluation: every pod of a service account asks.
func bound(env *check.Env, s rbac.Subject) bool {
	return perSubject(env, boundKey{}, s, func() bool { return len(worldOf(env).BindingsOf(rbac.IdentityOf(s))) > 0 })
}

// powersOf is powers, computed once per service account and evaluation.
func powersOf(env *check.Env, risks []permissionRisk, s rbac.Subject) []string {
	return perSubject(env, powersKey{}, s, func() []string { return powers(worldOf(env), risks, rbac.IdentityOf(s), s.Namespace) })
}

// perSubject is compute's answer for s, computed once per evaluation in
// the table key names.
func perSubject[T any](env *check.Env, key any, s rbac.Subject, compute func() T) T {
	cache := env.Memo(key, func() any { return &sync.Map{} }).(*sync.Map)
	if v, ok := cache.Load(s); ok {
		return v.(T)
	}
	v, _ := cache.LoadOrStore(s, compute())
	return v.(T)
}

// powers lists the dangerous permission classes an identity holds
// (cluster-wide or in namespace ns), by title.
func powers(w *rbac.World, risks []permissionRisk, id rbac.Identity, ns string) []string {
	access := w.AccessOf(id)
	var out []string
	for _, risk := range risks {
		if risk.Severity < check.High {
			continue
		}
		for _, q := range risk.requests {
			q.Namespace = ""
			ok := access.Allows(q)
			if !ok && w.Resources().Namespaced(q.APIGroup, q.Resource) {
				q.Namespace = ns
				ok = access.Allows(q)
			}
			if ok {
				scope := "cluster-wide"
				if q.Namespace != "" {
					scope = "in " + ns
				}
				out = append(out, risk.what+" "+scope)
				break
			}
		}
	}
	return out
}

func powerfulTokenMounted() *check.Check {
	risks := permissionRisks()
	return &check.Check{
		Metadata: check.Metadata{
			ID: "powerful-token-automounted", Title: "Pod mounts the token of a powerful service account", Severity: check.High, Category: check.AccessControl,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.6"}, NSA: []string{nsaRBAC}, MITRE: []string{mitreCredentials, mitreValidAccounts}},
			Description: "The pod's containers get the API token of a service account that holds dangerous permissions (reading Secrets, creating workloads, exec, bind/escalate/impersonate, nodes/proxy, …) or can escalate to cluster-admin-equivalent power: whoever compromises the container has them.",
			Remediation: "Set automountServiceAccountToken: false unless the application calls the API, and give the service account only what the application needs.",
		},
		Models: []*check.Model{escalationGraph},
		Pod: func(env *check.Env, p *inventory.Pod) []check.Result {
			ns, sa := p.Object.Namespace(), p.ServiceAccount()
			if v := p.Spec.AutomountServiceAccountToken; v != nil && !*v {
				return nil
			}
			if p.Spec.AutomountServiceAccountToken == nil && env.Inventory.AutomountDisabled(ns, sa) {
				return nil
			}
			subj := rbac.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: ns, Name: sa}
			if ns == "" || subj.IsSystem() || !bound(env, subj) {
				return nil
			}
			what := slices.Clone(powersOf(env, risks, subj))
			if paths := graphOf(env).Paths(subj); len(paths) > 0 {
				what = append([]string{"gain cluster-admin-equivalent power (" + paths[0].Describe() + ")"}, what...)
			}
			if len(what) == 0 {
				return nil
			}
			return []check.Result{{
				Path:    p.SpecPath + ".automountServiceAccountToken",
				Message: fmt.Sprintf("the token of service account %s/%s is mounted, and it can %s", ns, sa, strings.Join(what, "; ")),
			}}
		},
	}
}

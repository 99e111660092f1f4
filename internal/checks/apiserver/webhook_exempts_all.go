package apiserver

import (
	"fmt"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/labels"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// namespaceIndexKey keys the memoised list of namespace label sets.
type namespaceIndexKey struct{}

// namespaceLabels returns every Namespace's labels (with the automatic
// kubernetes.io/metadata.name label the API server adds).
func namespaceLabels(env *check.Env) []labels.Set {
	return env.Memo(namespaceIndexKey{}, func() any {
		var out []labels.Set
		for _, o := range env.Inventory.Objects() {
			if o.Kind() != "Namespace" || o.Group() != "" {
				continue
			}
			set := labels.Set{"kubernetes.io/metadata.name": o.Name()}
			for k, v := range o.Labels() {
				set[k] = v
			}
			out = append(out, set)
		}
		return out
	}).([]labels.Set)
}

func webhookExemptsAll() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "admission-webhook-exempts-all", Title: "Admission webhook selects no namespace", Severity: check.Medium, Category: check.APIServer,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.1"}, MITRE: []string{"T1562"}},
			Description: "A webhook on pods, workloads or RBAC whose namespaceSelector matches none of the cluster's namespaces is never called: the policy it was installed to enforce is off everywhere. Evaluated when the input holds the Namespaces (a live cluster, a snapshot, or manifests that include them).",
			Remediation: "Fix the namespaceSelector (a typo in a label key or value, or a NotIn list that covers every namespace), or remove the webhook if it is no longer wanted.",
		},
		Kinds: []string{"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			if o.Group() != "admissionregistration.k8s.io" {
				return nil
			}
			namespaces := namespaceLabels(env)
			if len(namespaces) == 0 {
				return nil // nothing to compare against
			}
			hooks, _ := o.Field("webhooks").([]any)
			var out []check.Result
			for i, h := range hooks {
				hook, _ := h.(map[string]any)
				raw, ok := hook["namespaceSelector"].(map[string]any)
				if !ok || len(securityRulesOf(hook)) == 0 {
					continue
				}
				var ls metav1.LabelSelector
				if err := typed.FromUnstructured(raw, &ls); err != nil {
					continue
				}
				sel, err := metav1.LabelSelectorAsSelector(&ls)
				if err != nil || sel.Empty() {
					continue
				}
				if matchesAny(sel, namespaces) {
					continue
				}
				name, _ := hook["name"].(string)
				out = append(out, check.Result{
					Path: fmt.Sprintf("webhooks[%d].namespaceSelector", i),
					Message: fmt.Sprintf("webhook %q for %s selects none of the %d namespaces (%s): it is never called",
						name, strings.Join(securityRulesOf(hook), ", "), len(namespaces), sel),
				})
			}
			return out
		},
	}
}

func matchesAny(sel labels.Selector, sets []labels.Set) bool {
	for _, s := range sets {
		if sel.Matches(s) {
			return true
		}
	}
	return false
}

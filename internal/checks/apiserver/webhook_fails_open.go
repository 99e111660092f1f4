package apiserver

import (
	"fmt"
	"slices"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
)

// securityResources are the resources whose admission decides what runs
// and with which rights.
var securityResources = []string{
	"pods", "deployments", "replicasets", "statefulsets", "daemonsets", "jobs", "cronjobs", "replicationcontrollers",
	"roles", "rolebindings", "clusterroles", "clusterrolebindings", "serviceaccounts", "secrets",
	"namespaces", "networkpolicies",
}

func webhookFailsOpen() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "admission-webhook-fails-open", Title: "Admission webhook fails open on security-relevant resources", Severity: check.Medium, Category: check.APIServer,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.1"}, MITRE: []string{"T1562"}},
			Description: "A validating or mutating webhook with failurePolicy Ignore lets every request through while the webhook is down or slow: an attacker who can disrupt it (or who waits for an outage) bypasses the policy it enforces.",
			Remediation: "Set failurePolicy: Fail for policy webhooks on pods, workloads, RBAC and namespaces, run the webhook with several replicas and a PodDisruptionBudget, and exempt only the namespaces it needs to start itself.",
		},
		Kinds: []string{"ValidatingWebhookConfiguration", "MutatingWebhookConfiguration"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			if o.Group() != "admissionregistration.k8s.io" {
				return nil
			}
			hooks, _ := o.Field("webhooks").([]any)
			var out []check.Result
			for i, h := range hooks {
				hook, _ := h.(map[string]any)
				policy, _ := hook["failurePolicy"].(string)
				// admissionregistration/v1 defaults failurePolicy to Fail.
				if policy != "Ignore" {
					continue
				}
				covered := securityRulesOf(hook)
				if len(covered) == 0 {
					continue
				}
				name, _ := hook["name"].(string)
				out = append(out, check.Result{
					Path:    fmt.Sprintf("webhooks[%d].failurePolicy", i),
					Message: fmt.Sprintf("webhook %q fails open (failurePolicy: Ignore) for %s", name, strings.Join(covered, ", ")),
				})
			}
			return out
		},
	}
}

// securityRulesOf lists the security-relevant resources a webhook's rules
// match for create or update.
func securityRulesOf(hook map[string]any) []string {
	rules, _ := hook["rules"].([]any)
	var out []string
	for _, r := range rules {
		rule, _ := r.(map[string]any)
		if !writes(stringList(rule["operations"])) {
			continue
		}
		for _, res := range stringList(rule["resources"]) {
			base, _, _ := strings.Cut(res, "/")
			switch {
			case base == "*":
				return []string{"all resources"}
			case slices.Contains(securityResources, base) && !slices.Contains(out, base):
				out = append(out, base)
			}
		}
	}
	return out
}

func writes(ops []string) bool {
	for _, op := range ops {
		if op == "*" || op == "CREATE" || op == "UPDATE" {
			return true
		}
	}
	return false
}

func stringList(v any) []string {
	list, _ := v.([]any)
	out := make([]string, 0, len(list))
	for _, x := range list {
		if s, ok := x.(string); ok {
			out = append(out, s)
		}
	}
	return out
}

package workload

import (
	"fmt"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

func automountServiceAccountToken() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "automount-service-account-token", Title: "Service account token mounted", Severity: check.Medium, Category: check.Workload,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.6"}, NSA: []string{nsaServiceTokens}, MITRE: []string{mitreCredsInFiles, mitreValidAccounts}},
			Description: "Unless automountServiceAccountToken is false on the pod or its service account, every container gets an API token; a compromised process can use it against the API server.",
			Remediation: "Set spec.automountServiceAccountToken: false on the pod (or on its ServiceAccount) unless the application calls the Kubernetes API.",
		},
		Pod: func(env *check.Env, p *inventory.Pod) []check.Result {
			if v := p.Spec.AutomountServiceAccountToken; v != nil {
				if !*v {
					return nil
				}
				return env.KeepResults(append(env.ResultBuffer(), check.Result{
					Path:    env.Text(fieldPath, p.SpecPath, "automountServiceAccountToken"),
					Message: "automountServiceAccountToken is true: the service account token is mounted into every container",
				}))
			}
			sa := p.ServiceAccount()
			if env.Inventory.AutomountDisabled(p.Object.Namespace(), sa) {
				return nil
			}
			return env.KeepResults(append(env.ResultBuffer(), check.Result{
				Path:    env.Text(fieldPath, p.SpecPath, "automountServiceAccountToken"),
				Message: env.Text(automountMessage, sa, ""),
			}))
		},
	}
}

var automountMessage = check.NewTextKind(func(sa, _ string) string {
	return fmt.Sprintf("automountServiceAccountToken is not set to false on the pod or on service account %q: its token is mounted into every container", sa)
})

func defaultServiceAccount() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "default-service-account", Title: "Runs as the default service account", Severity: check.Low, Category: check.Workload,
			Frameworks:  check.Frameworks{CIS: []string{"5.1.5"}, NSA: []string{nsaServiceTokens}, MITRE: []string{mitreValidAccounts}},
			Description: "Workloads sharing the namespace's default service account share every permission granted to it; least privilege needs one service account per workload.",
			Remediation: "Create a dedicated ServiceAccount for the workload and set spec.serviceAccountName.",
		},
		Pod: func(_ *check.Env, p *inventory.Pod) []check.Result {
			if p.ServiceAccount() != "default" {
				return nil
			}
			return []check.Result{{
				Path:    p.SpecPath + ".serviceAccountName",
				Message: "the pod runs as the namespace's default service account (spec.serviceAccountName is unset or \"default\")",
			}}
		},
	}
}

package workload

import (
	"fmt"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Pod Security Admission namespace labels.
const (
	psaEnforceLabel = "pod-security.kubernetes.io/enforce"
)

// psaExemptNamespaces run the cluster's own components or hold no pods.
var psaExemptNamespaces = map[string]bool{"kube-system": true, "kube-public": true, "kube-node-lease": true}

func namespacePodSecurity() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "namespace-pod-security-not-enforced", Title: "Namespace without Pod Security enforcement", Severity: check.Medium, Category: check.Workload,
			Frameworks:  check.Frameworks{CIS: []string{"5.2.1"}, NSA: []string{nsaPrivileged}, MITRE: []string{mitreDeploy}},
			Description: "Without a pod-security.kubernetes.io/enforce label of baseline or restricted (or with privileged), the Pod Security Admission controller admits privileged pods into the namespace. kube-system, kube-public and kube-node-lease are not checked.",
			Remediation: "Label the namespace pod-security.kubernetes.io/enforce=restricted (or baseline), with pod-security.kubernetes.io/enforce-version pinned if you need stability.",
		},
		Kinds: []string{"Namespace"},
		Object: func(_ *check.Env, o *source.Object) []check.Result {
			if o.Group() != "" || psaExemptNamespaces[o.Name()] {
				return nil
			}
			level, set := o.Label(psaEnforceLabel)
			switch {
			case !set:
				return []check.Result{{Path: "metadata.labels", Message: fmt.Sprintf("namespace %q has no %s label: privileged pods are admitted", o.Name(), psaEnforceLabel)}}
			case level == "privileged":
				return []check.Result{{Path: "metadata.labels." + psaEnforceLabel, Message: fmt.Sprintf("namespace %q enforces the privileged Pod Security level: privileged pods are admitted", o.Name())}}
			}
			return nil
		},
	}
}

package accesscontrol

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
)

func all(t *testing.T) []*check.Check {
	t.Helper()
	cs, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

func byCheck(fs []check.Finding, id string) []check.Finding {
	var out []check.Finding
	for _, f := range fs {
		if f.Check == id {
			out = append(out, f)
		}
	}
	return out
}

func clusterRole(rules string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: r}
rules: %s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: r}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: r}
subjects: [{kind: User, name: alice}]
`, rules)
}

func role(rules string) string {
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: r, namespace: app}
rules: %s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: r, namespace: app}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: r}
subjects: [{kind: User, name: alice}]
`, rules)
}

func binding(kind, roleKind, roleName, subjects string) string {
	ns := ""
	if kind == "RoleBinding" {
		ns = ", namespace: app"
	}
	return fmt.Sprintf(`apiVersion: rbac.authorization.k8s.io/v1
kind: %s
metadata: {name: b%s}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: %s, name: %s}
subjects: %s
`, kind, ns, roleKind, roleName, subjects)
}

const (
	sa        = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: app}\n"
	adminSA   = "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: admin, namespace: app}\n---\n" + "apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: admin-sa, labels: {kubernetes.io/bootstrapping: rbac-defaults}}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-admin}\nsubjects: [{kind: ServiceAccount, name: admin, namespace: app}]\n"
	podAsApp  = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: app}\nspec: {serviceAccountName: app, containers: [{name: c, image: x}]}\n"
	podNoAuto = "---\napiVersion: v1\nkind: Pod\nmetadata: {name: p, namespace: app}\nspec: {serviceAccountName: app, automountServiceAccountToken: false, containers: [{name: c, image: x}]}\n"
)

func TestAccessControlChecks(t *testing.T) {
	cases := []struct {
		check        string
		fires, quiet string
		cluster      bool
		severity     check.Severity
		message      string
	}{
		{"rbac-secrets-read", clusterRole(`[{apiGroups: [""], resources: [secrets], verbs: [list]}]`),
			clusterRole(`[{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [tls]}]`), false, check.High, "list secrets"},
		{"rbac-secrets-read", role(`[{apiGroups: [""], resources: [secrets], verbs: [watch]}]`),
			role(`[{apiGroups: [""], resources: [configmaps], verbs: [watch]}]`), false, check.Medium, "in namespace app"},
		{"rbac-workload-create", role(`[{apiGroups: [apps], resources: [deployments], verbs: [patch]}]`),
			role(`[{apiGroups: [apps], resources: [deployments], verbs: [get, list, watch]}]`), false, check.Medium, "patch deployments"},
		{"rbac-pod-exec", clusterRole(`[{apiGroups: [""], resources: [pods/exec], verbs: [create]}]`),
			clusterRole(`[{apiGroups: [""], resources: [pods/log], verbs: [get]}]`), false, check.High, "pods/exec"},
		{"rbac-nodes-proxy", clusterRole(`[{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]`),
			clusterRole(`[{apiGroups: [""], resources: [nodes/metrics, nodes/stats], verbs: [get]}]`), false, check.Critical, "nodes/proxy"},
		{"rbac-escalation-verbs", clusterRole(`[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate]}]`),
			clusterRole(`[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [get, list]}]`), false, check.Critical, "escalate clusterroles"},
		{"rbac-escalation-verbs", clusterRole(`[{apiGroups: [""], resources: [users], verbs: [impersonate]}]`),
			clusterRole(`[{apiGroups: [""], resources: [users], verbs: [impersonate], resourceNames: [ci-bot]}]`), false, check.Critical, "impersonate users"},
		{"rbac-token-create", role(`[{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}]`),
			role(`[{apiGroups: [""], resources: [serviceaccounts], verbs: [get]}]`), false, check.Medium, "serviceaccounts/token"},
		{"rbac-csr-approval", clusterRole(`[{apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve]}]`),
			clusterRole(`[{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create, get]}]`), false, check.High, "approve signers"},
		{"rbac-admission-write", clusterRole(`[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [update]}]`),
			clusterRole(`[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [get, list]}]`), false, check.High, "mutatingwebhookconfigurations"},
		{"rbac-rbac-write", role(`[{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}]`),
			role(`[{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [get]}]`), false, check.Medium, "create rolebindings"},
		{"rbac-crd-write", clusterRole(`[{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [delete]}]`),
			clusterRole(`[{apiGroups: [apiextensions.k8s.io], resources: [customresourcedefinitions], verbs: [get]}]`), false, check.Medium, "customresourcedefinitions"},
		{"rbac-namespace-write", clusterRole(`[{apiGroups: [""], resources: [namespaces], verbs: [patch]}]`),
			clusterRole(`[{apiGroups: [""], resources: [namespaces], verbs: [get, list, create]}]`), false, check.Medium, "patch namespaces"},
		{"rbac-networkpolicy-write", role(`[{apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [delete]}]`),
			role(`[{apiGroups: [networking.k8s.io], resources: [networkpolicies], verbs: [get, list]}]`), false, check.Low, "delete networkpolicies"},
		{"rbac-pod-exec", role(`[{apiGroups: [""], resources: [pods/ephemeralcontainers], verbs: [patch]}]`),
			role(`[{apiGroups: [""], resources: [pods/status], verbs: [patch]}]`), false, check.Medium, "pods/ephemeralcontainers"},
		{"rbac-persistentvolume-create", clusterRole(`[{apiGroups: [""], resources: [persistentvolumes], verbs: [create]}]`),
			clusterRole(`[{apiGroups: [""], resources: [persistentvolumeclaims], verbs: [create]}]`), false, check.Medium, "persistentvolumes"},
		{"rbac-wildcard", clusterRole(`[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]`),
			clusterRole(`[{apiGroups: [""], resources: [pods], verbs: [get]}]`), false, check.Critical, `"*" in verbs and apiGroups and resources`},
		{"rbac-wildcard", role(`[{apiGroups: [apps], resources: ["*"], verbs: [get]}]`),
			role(`[{apiGroups: [apps], resources: [deployments], verbs: [get]}]`), false, check.Medium, "resources"},
		{"cluster-admin-binding", binding("ClusterRoleBinding", "ClusterRole", "cluster-admin", "[{kind: User, name: bob}]"),
			binding("ClusterRoleBinding", "ClusterRole", "cluster-admin", "[{kind: Group, name: system:masters}]"), false, check.Critical, "user:bob holds every permission cluster-wide"},
		{"cluster-admin-binding", binding("RoleBinding", "ClusterRole", "cluster-admin", "[{kind: User, name: bob}]"),
			binding("RoleBinding", "ClusterRole", "admin", "[{kind: User, name: bob}]"), false, check.High, "every permission in namespace app"},
		{"default-service-account-bound", binding("RoleBinding", "ClusterRole", "view", "[{kind: ServiceAccount, name: default}]"),
			binding("RoleBinding", "ClusterRole", "view", "[{kind: ServiceAccount, name: app}]"), false, check.Medium, "default service account of namespace app"},
		{"rbac-binding-missing-role", binding("RoleBinding", "Role", "gone", "[{kind: User, name: bob}]"),
			binding("RoleBinding", "ClusterRole", "view", "[{kind: User, name: bob}]"), true, check.Low, "Role app/gone, which does not exist"},
		{"rbac-binding-missing-service-account", binding("RoleBinding", "ClusterRole", "view", "[{kind: ServiceAccount, name: ghost}]") + sa,
			binding("RoleBinding", "ClusterRole", "view", "[{kind: ServiceAccount, name: app}]") + sa, false, check.Medium, "app/ghost, which does not exist"},
		{"rbac-escalation-path", role(`[{apiGroups: [""], resources: [pods], verbs: [create]}]`) + adminSA,
			role(`[{apiGroups: [""], resources: [pods], verbs: [get]}]`) + adminSA, false, check.Critical, "create pods in app → run a pod as serviceaccount:app:admin"},
		{"service-account-token-secret", "apiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: app, annotations: {kubernetes.io/service-account.name: app}}\ntype: kubernetes.io/service-account-token\n",
			"apiVersion: v1\nkind: Secret\nmetadata: {name: t, namespace: app}\ntype: kubernetes.io/tls\n", false, check.Medium, `service account "app"`},
		{"powerful-token-automounted", binding("RoleBinding", "ClusterRole", "edit", "[{kind: ServiceAccount, name: app}]") + sa + podAsApp,
			binding("RoleBinding", "ClusterRole", "edit", "[{kind: ServiceAccount, name: app}]") + sa + podNoAuto, false, check.High, "read Secrets in app"},
		{"powerful-token-automounted", binding("RoleBinding", "ClusterRole", "view", "[{kind: ServiceAccount, name: app}]") + sa + podAsApp,
			binding("RoleBinding", "ClusterRole", "view", "[{kind: ServiceAccount, name: app}]") + sa + podAsApp, false, 0, ""},
		{"broad-group-binding", binding("ClusterRoleBinding", "ClusterRole", "view", "[{kind: User, name: system:anonymous}]"),
			binding("ClusterRoleBinding", "ClusterRole", "system:public-info-viewer", "[{kind: User, name: system:anonymous}]"), false, check.High, "system:anonymous"},
	}
	for _, tc := range cases {
		t.Run(tc.check, func(t *testing.T) {
			opts := check.Options{Selection: check.Selection{Only: []string{tc.check}}}
			run := func(manifest string) []check.Finding {
				if tc.cluster {
					return byCheck(checktest.RunCluster(t, all(t), opts, manifest), tc.check)
				}
				return byCheck(checktest.Run(t, all(t), opts, manifest), tc.check)
			}
			got := run(tc.fires)
			if tc.severity == 0 {
				if len(got) != 0 {
					t.Errorf("fired on a harmless world: %+v", got)
				}
				return
			}
			if len(got) == 0 {
				t.Fatalf("did not fire")
			}
			if got[0].Severity != tc.severity || !strings.Contains(got[0].Message, tc.message) {
				t.Errorf("finding %s %q; want severity %s and %q", got[0].Severity, got[0].Message, tc.severity, tc.message)
			}
			if quiet := run(tc.quiet); len(quiet) != 0 {
				t.Errorf("fired on the hardened form: %+v", quiet)
			}
		})
	}
}

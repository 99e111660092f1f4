package rbac

import (
	"fmt"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

// escalationBase is a world with one powerful service account, ci/deployer.
const escalationBase = `
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: everything}
rules: [{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: deployer}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: everything}
subjects: [{kind: ServiceAccount, name: deployer, namespace: ci}]
---
apiVersion: v1
kind: ServiceAccount
metadata: {name: deployer, namespace: ci}
`

// attacker binds RULES to user mallory, in namespace ci (Role) or
// cluster-wide (ClusterRole).
func attacker(clusterWide bool, rules string) string {
	if clusterWide {
		return fmt.Sprintf(`---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: mallory}
rules: %s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: mallory}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: mallory}
subjects: [{kind: User, name: mallory}]
`, rules)
	}
	return fmt.Sprintf(`---
apiVersion: rbac.authorization.k8s.io/v1
kind: Role
metadata: {name: mallory, namespace: ci}
rules: %s
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: mallory, namespace: ci}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: mallory}
subjects: [{kind: User, name: mallory}]
`, rules)
}

const deployerPod = `---
apiVersion: apps/v1
kind: Deployment
metadata: {name: release, namespace: ci}
spec:
  selector: {matchLabels: {app: r}}
  template:
    metadata: {labels: {app: r}}
    spec:
      serviceAccountName: deployer
      containers: [{name: c, image: x}]
`

const deployerTokenSecret = `---
apiVersion: v1
kind: Secret
metadata: {name: deployer-token, namespace: ci, annotations: {kubernetes.io/service-account.name: deployer}}
type: kubernetes.io/service-account-token
`

func TestEscalationTechniques(t *testing.T) {
	cases := []struct {
		technique   string
		clusterWide bool
		rules       string
		extra       string
		steps       int
		// without is the same world minus what the technique needs.
		withoutRules, withoutExtra string
	}{
		{"all-permissions", true, `[{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}]`, "", 1,
			`[{apiGroups: ["*"], resources: ["*"], verbs: [list, watch]}]`, ""},
		{"create-workload", false, `[{apiGroups: [""], resources: [pods], verbs: [create]}]`, "", 3,
			`[{apiGroups: [""], resources: [configmaps, pods], verbs: [get, list]}]`, ""},
		{"create-workload", false, `[{apiGroups: [apps], resources: [deployments], verbs: [patch]}]`, "", 3,
			`[{apiGroups: [apps], resources: [deployments/scale], verbs: [patch]}]`, ""},
		{"exec-into-pod", false, `[{apiGroups: [""], resources: [pods/exec], verbs: [create]}]`, deployerPod, 2,
			`[{apiGroups: [""], resources: [pods/exec], verbs: [create]}]`, ""},
		{"read-token-secrets", false, `[{apiGroups: [""], resources: [secrets], verbs: [list]}]`, deployerTokenSecret, 2,
			`[{apiGroups: [""], resources: [secrets], verbs: [get], resourceNames: [other]}]`, deployerTokenSecret},
		{"mint-token-secret", false, `[{apiGroups: [""], resources: [secrets], verbs: [create, get]}]`, "", 3,
			`[{apiGroups: [""], resources: [secrets], verbs: [create]}]`, ""},
		{"token-request", false, `[{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [deployer]}]`, "", 2,
			`[{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create], resourceNames: [other]}]`, ""},
		{"impersonate", true, `[{apiGroups: [""], resources: [users, groups], verbs: [impersonate]}]`, "", 1,
			`[{apiGroups: [""], resources: [groups], verbs: [impersonate]}]`, ""},
		{"impersonate", false, `[{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [deployer]}]`, "", 2,
			`[{apiGroups: [""], resources: [serviceaccounts], verbs: [impersonate], resourceNames: [other]}]`, ""},
		{"bind-role", true, `[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind]}, {apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings], verbs: [create]}]`, "", 1,
			`[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterrolebindings, clusterroles], verbs: [create, update]}]`, ""},
		{"bind-role", false, `[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind], resourceNames: [admin]}, {apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}]`, "", 4,
			`[{apiGroups: [rbac.authorization.k8s.io], resources: [rolebindings], verbs: [create]}]`, ""},
		{"escalate-role", true, `[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [escalate, update]}]`, "", 1,
			`[{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [update]}]`, ""},
		{"node-proxy", true, `[{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}]`, "", 1,
			`[{apiGroups: [""], resources: [nodes], verbs: [get, list]}]`, ""},
		{"mutating-webhook", true, `[{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [create]}]`, "", 1,
			`[{apiGroups: [admissionregistration.k8s.io], resources: [validatingwebhookconfigurations], verbs: [create]}]`, ""},
		{"sign-client-certificate", true, `[{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}, {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}, {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [kubernetes.io/kube-apiserver-client]}]`, "", 1,
			`[{apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests], verbs: [create]}, {apiGroups: [certificates.k8s.io], resources: [certificatesigningrequests/approval], verbs: [update]}, {apiGroups: [certificates.k8s.io], resources: [signers], verbs: [approve], resourceNames: [kubernetes.io/kubelet-serving]}]`, ""},
	}
	mallory := Subject{Kind: "User", Name: "mallory"}
	for _, tc := range cases {
		t.Run(tc.technique, func(t *testing.T) {
			w, objs := world(t, escalationBase+attacker(tc.clusterWide, tc.rules)+tc.extra)
			g := w.Escalation(objs)
			paths := g.Paths(mallory)
			if len(paths) == 0 {
				t.Fatalf("no path found")
			}
			p := paths[0]
			if p.Edges[0].Technique.ID != tc.technique || len(p.Edges) != tc.steps {
				t.Errorf("path %s: first technique %s, %d steps; want %s, %d", p.Describe(), p.Edges[0].Technique.ID, len(p.Edges), tc.technique, tc.steps)
			}
			if len(p.Edges[0].Grants) == 0 || !strings.Contains(p.Edges[0].Grants[0].Binding, "mallory") {
				t.Errorf("first step not explained by mallory's binding: %+v", p.Edges[0].Grants)
			}
			if d, ok := g.Reaches(mallory); !ok || d != tc.steps {
				t.Errorf("Reaches = %d, %v", d, ok)
			}

			w, objs = world(t, escalationBase+attacker(tc.clusterWide, tc.withoutRules)+tc.withoutExtra)
			if paths := w.Escalation(objs).Paths(mallory); len(paths) != 0 {
				t.Errorf("without the technique, found %s", paths[0].Describe())
			}
		})
	}
}

func TestEscalationThroughGroups(t *testing.T) {
	w, objs := world(t, escalationBase+`---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: everyone-creates-pods}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: pod-creator}
subjects: [{kind: Group, name: system:authenticated}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRole
metadata: {name: pod-creator}
rules: [{apiGroups: [""], resources: [pods], verbs: [create]}]
---
apiVersion: rbac.authorization.k8s.io/v1
kind: RoleBinding
metadata: {name: viewer, namespace: web}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: view}
subjects: [{kind: ServiceAccount, name: frontend}]
`)
	g := w.Escalation(objs)
	frontend := Subject{Kind: "ServiceAccount", Namespace: "web", Name: "frontend"}
	paths := g.Paths(frontend)
	if len(paths) == 0 || paths[0].Edges[0].Technique.ID != "create-workload" || !strings.Contains(paths[0].Describe(), "ci") {
		t.Fatalf("every authenticated subject may create pods in ci, so frontend reaches deployer: %+v", paths)
	}
	if _, ok := g.Reaches(Subject{Kind: "Group", Name: "system:authenticated"}); !ok {
		t.Error("the group itself reaches")
	}
}

func TestPodServiceAccount(t *testing.T) {
	tests := []struct {
		name, spec string
		want       string
		ok         bool
	}{
		{"named", "apiVersion: v1\nkind: Pod\nspec: {serviceAccountName: app}", "app", true},
		{"deprecated field", "apiVersion: v1\nkind: Pod\nspec: {serviceAccount: old}", "old", true},
		{"name wins", "apiVersion: v1\nkind: Pod\nspec: {serviceAccountName: app, serviceAccount: old}", "app", true},
		{"null", "apiVersion: v1\nkind: Pod\nspec: {serviceAccountName: null}", "default", true},
		{"not a string", "apiVersion: v1\nkind: Pod\nspec: {serviceAccountName: 3, serviceAccount: old}", "default", true},
		{"template", "apiVersion: apps/v1\nkind: Deployment\nspec: {template: {spec: {serviceAccountName: web}}}", "web", true},
		{"cron job", "apiVersion: batch/v1\nkind: CronJob\nspec: {jobTemplate: {spec: {template: {spec: {serviceAccountName: cron}}}}}", "cron", true},
		{"no spec", "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: x}", "", false},
		{"not a workload", "apiVersion: v1\nkind: ConfigMap\ndata: {serviceAccountName: x}", "", false},
	}
	for _, tt := range tests {
		res := source.ParseBytes("x.yaml", []byte("metadata: {name: p}\n"+tt.spec))
		if len(res.Objects) != 1 {
			t.Fatalf("%s: %d objects, errors %v", tt.name, len(res.Objects), res.Errors)
		}
		got, ok := podServiceAccount(res.Objects[0])
		if got != tt.want || ok != tt.ok {
			t.Errorf("%s: got %q %v, want %q %v", tt.name, got, ok, tt.want, tt.ok)
		}
	}
}

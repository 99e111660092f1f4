package apiserver

import (
	"strings"
	"testing"
)

func TestWebhookFailsOpen(t *testing.T) {
	const hook = `apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy}
webhooks:
- name: policy.example.com
  failurePolicy: POLICY
  rules:
  - {apiGroups: ["*"], apiVersions: ["*"], operations: [OPS], resources: [RES]}
`
	cases := []struct {
		policy, ops, res string
		want             int
	}{
		{"Ignore", "CREATE", "pods", 1},
		{"Ignore", "\"*\"", "\"*\"", 1},
		{"Ignore", "UPDATE", "deployments/scale", 1},
		{"Fail", "CREATE", "pods", 0},
		{"Ignore", "DELETE", "pods", 0},
		{"Ignore", "CREATE", "configmaps", 0},
	}
	for _, tc := range cases {
		got := evaluate(t, webhookFailsOpen(), strings.NewReplacer("POLICY", tc.policy, "OPS", tc.ops, "RES", tc.res).Replace(hook))
		if len(got) != tc.want {
			t.Errorf("%s %s %s: %d findings, want %d", tc.policy, tc.ops, tc.res, len(got), tc.want)
		}
		if tc.want == 1 && got[0].Path != "webhooks[0].failurePolicy" {
			t.Errorf("path %q", got[0].Path)
		}
	}
}

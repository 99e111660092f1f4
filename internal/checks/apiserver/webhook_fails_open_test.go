package apiserver

import (
	"context"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
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
	cs, _ := Checks()
	reg, err := check.NewRegistry(cs...)
	if err != nil {
		t.Fatal(err)
	}
	r, _ := check.NewRunner(reg, check.Options{})
	for _, tc := range cases {
		manifest := strings.NewReplacer("POLICY", tc.policy, "OPS", tc.ops, "RES", tc.res).Replace(hook)
		res := source.ParseBytes("w.yaml", []byte(manifest))
		if len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		out, _, err := r.Evaluate(context.Background(), res.Objects, check.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) != tc.want {
			t.Errorf("%s %s %s: %d findings, want %d", tc.policy, tc.ops, tc.res, len(out.Findings), tc.want)
		}
		if tc.want == 1 && out.Findings[0].Path != "webhooks[0].failurePolicy" {
			t.Errorf("path %q", out.Findings[0].Path)
		}
	}
}

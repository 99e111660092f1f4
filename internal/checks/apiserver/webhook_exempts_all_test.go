package apiserver

import (
	"context"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
)

func TestWebhookExemptsAll(t *testing.T) {
	const objects = `apiVersion: v1
kind: Namespace
metadata: {name: shop, labels: {team: shop}}
---
apiVersion: v1
kind: Namespace
metadata: {name: billing}
---
apiVersion: admissionregistration.k8s.io/v1
kind: ValidatingWebhookConfiguration
metadata: {name: policy}
webhooks:
- name: policy.example.com
  namespaceSelector: SELECTOR
  rules:
  - {apiGroups: [""], apiVersions: [v1], operations: [CREATE], resources: [RES]}
`
	cases := []struct {
		selector, res string
		want          int
	}{
		{"{matchLabels: {tema: shop}}", "pods", 1}, // the typo this check is for
		{"{matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [shop, billing]}]}", "pods", 1},
		{"{matchLabels: {team: shop}}", "pods", 0},
		{"{matchExpressions: [{key: kubernetes.io/metadata.name, operator: NotIn, values: [kube-system]}]}", "pods", 0},
		{"{}", "pods", 0},
		{"{matchLabels: {tema: shop}}", "configmaps", 0},
	}
	reg, err := check.NewRegistry(webhookExemptsAll())
	if err != nil {
		t.Fatal(err)
	}
	r, _ := check.NewRunner(reg, check.Options{})
	for _, tc := range cases {
		res := source.ParseBytes("w.yaml", []byte(strings.NewReplacer("SELECTOR", tc.selector, "RES", tc.res).Replace(objects)))
		if len(res.Errors) > 0 {
			t.Fatal(res.Errors)
		}
		out, _, err := r.Evaluate(context.Background(), res.Objects, check.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) != tc.want {
			t.Errorf("%s on %s: %d findings, want %d", tc.selector, tc.res, len(out.Findings), tc.want)
		}
	}
	// Without namespaces in the input there is nothing to decide.
	hookOnly := strings.NewReplacer("SELECTOR", "{matchLabels: {tema: shop}}", "RES", "pods").Replace(objects[strings.Index(objects, "apiVersion: admission"):])
	res := source.ParseBytes("w.yaml", []byte(hookOnly))
	if len(res.Errors) > 0 || len(res.Objects) != 1 {
		t.Fatal(res.Errors)
	}
	out, _, err := r.Evaluate(context.Background(), res.Objects, check.Settings{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Findings) != 0 {
		t.Errorf("no namespaces in the input: %d findings", len(out.Findings))
	}
}

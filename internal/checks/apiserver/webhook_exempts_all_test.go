package apiserver

import (
	"strings"
	"testing"
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
	for _, tc := range cases {
		got := evaluate(t, webhookExemptsAll(), strings.NewReplacer("SELECTOR", tc.selector, "RES", tc.res).Replace(objects))
		if len(got) != tc.want {
			t.Errorf("%s on %s: %d findings, want %d", tc.selector, tc.res, len(got), tc.want)
		}
	}
	// Without namespaces in the input there is nothing to decide.
	hookOnly := strings.NewReplacer("SELECTOR", "{matchLabels: {tema: shop}}", "RES", "pods").Replace(objects[strings.Index(objects, "apiVersion: admission"):])
	if got := evaluate(t, webhookExemptsAll(), hookOnly); len(got) != 0 {
		t.Errorf("no namespaces in the input: %d findings", len(got))
	}
}

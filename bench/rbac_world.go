package main

import (
	"bufio"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
)

// rbacWorldSize is the shape of a generated RBAC world.
type rbacWorldSize struct {
	Namespaces, ServiceAccounts, Roles, ClusterRoles, RoleBindings, ClusterRoleBindings int
}

// defaultRBACWorld is issue #4's scale target: 50,000 roles and bindings
// and 20,000 service accounts.
var defaultRBACWorld = rbacWorldSize{Namespaces: 500, ServiceAccounts: 20000, Roles: 20000, ClusterRoles: 5000, RoleBindings: 20000, ClusterRoleBindings: 5000}

// rbacRules are the rule shapes generated roles draw from: mostly
// harmless, some of every risky kind.
var rbacRules = []string{
	`{apiGroups: [""], resources: [configmaps, services], verbs: [get, list, watch]}`,
	`{apiGroups: [apps], resources: [deployments, statefulsets], verbs: [get, list, watch]}`,
	`{apiGroups: [""], resources: [pods, pods/log], verbs: [get, list]}`,
	`{apiGroups: [""], resources: [configmaps], resourceNames: [settings], verbs: [get, update]}`,
	`{apiGroups: [batch], resources: [jobs], verbs: [get, list, watch]}`,
	`{apiGroups: [""], resources: [events], verbs: [create, patch]}`,
	`{apiGroups: [coordination.k8s.io], resources: [leases], verbs: [get, create, update]}`,
	`{apiGroups: [""], resources: [secrets], verbs: [get, list]}`,
	`{apiGroups: [""], resources: [pods], verbs: [create, delete]}`,
	`{apiGroups: [apps], resources: [deployments], verbs: [create, update, patch]}`,
	`{apiGroups: [""], resources: [pods/exec], verbs: [create]}`,
	`{apiGroups: [""], resources: [serviceaccounts/token], verbs: [create]}`,
}

var rbacClusterRules = []string{
	`{apiGroups: [""], resources: [nodes, namespaces], verbs: [get, list, watch]}`,
	`{nonResourceURLs: [/metrics, /healthz], verbs: [get]}`,
	`{apiGroups: [rbac.authorization.k8s.io], resources: [clusterroles], verbs: [bind, escalate]}`,
	`{apiGroups: [""], resources: [nodes/proxy], verbs: [get]}`,
	`{apiGroups: [admissionregistration.k8s.io], resources: [mutatingwebhookconfigurations], verbs: [create]}`,
	`{apiGroups: ["*"], resources: ["*"], verbs: ["*"]}`,
}

// generateRBACWorld writes the world as multi-document files of about 500
// objects into dir; it returns the number of objects.
func generateRBACWorld(dir string, size rbacWorldSize, seed uint64) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	r := rand.New(rand.NewPCG(seed, 4))
	var docs []string
	ns := func(i int) string { return fmt.Sprintf("team-%d", i%size.Namespaces) }
	perNS := size.ServiceAccounts / size.Namespaces
	sa := func(namespace string) string { return fmt.Sprintf("svc-%d", r.IntN(perNS)) }
	for i := range size.Namespaces {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: Namespace\nmetadata: {name: %s}\n", ns(i)))
	}
	for i := range size.ServiceAccounts {
		docs = append(docs, fmt.Sprintf("apiVersion: v1\nkind: ServiceAccount\nmetadata: {name: svc-%d, namespace: %s}\n", i/size.Namespaces, ns(i)))
	}
	rules := func(pool []string, risky int) string {
		var out []string
		for range 1 + r.IntN(3) {
			if r.IntN(risky) == 0 {
				out = append(out, "- "+pool[r.IntN(len(pool))])
			} else {
				out = append(out, "- "+pool[r.IntN(7)])
			}
		}
		return strings.Join(out, "\n")
	}
	for i := range size.Roles {
		docs = append(docs, fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: Role\nmetadata: {name: role-%d, namespace: %s}\nrules:\n%s\n", i/size.Namespaces, ns(i), rules(rbacRules, 8)))
	}
	for i := range size.ClusterRoles {
		pool := append(append([]string{}, rbacRules[:7]...), rbacClusterRules...)
		labels := ""
		if i%10 == 0 {
			labels = fmt.Sprintf(", labels: {aggregate-to: agg-%d}", i%50)
		}
		doc := fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cluster-role-%d%s}\nrules:\n%s\n", i, labels, rules(pool, 40))
		if i < 50 {
			doc = fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRole\nmetadata: {name: cluster-role-%d}\naggregationRule:\n  clusterRoleSelectors: [{matchLabels: {aggregate-to: agg-%d}}]\nrules: []\n", i, i)
		}
		docs = append(docs, doc)
	}
	for i := range size.RoleBindings {
		namespace := ns(i)
		ref := fmt.Sprintf("{apiGroup: rbac.authorization.k8s.io, kind: Role, name: role-%d}", r.IntN(size.Roles/size.Namespaces))
		if r.IntN(5) == 0 {
			ref = fmt.Sprintf("{apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: %s}", []string{"view", "edit", fmt.Sprintf("cluster-role-%d", r.IntN(size.ClusterRoles))}[r.IntN(3)])
		}
		subjects := fmt.Sprintf("- {kind: ServiceAccount, name: %s, namespace: %s}", sa(namespace), namespace)
		if r.IntN(4) == 0 {
			subjects += fmt.Sprintf("\n- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: team-%d-devs}", i%size.Namespaces)
		}
		docs = append(docs, fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: RoleBinding\nmetadata: {name: binding-%d, namespace: %s}\nroleRef: %s\nsubjects:\n%s\n", i/size.Namespaces, namespace, ref, subjects))
	}
	for i := range size.ClusterRoleBindings {
		var subjects string
		switch r.IntN(3) {
		case 0:
			namespace := ns(r.IntN(size.Namespaces))
			subjects = fmt.Sprintf("- {kind: ServiceAccount, name: %s, namespace: %s}", sa(namespace), namespace)
		case 1:
			subjects = fmt.Sprintf("- {kind: User, apiGroup: rbac.authorization.k8s.io, name: user-%d@example.com}", r.IntN(2000))
		default:
			subjects = fmt.Sprintf("- {kind: Group, apiGroup: rbac.authorization.k8s.io, name: team-%d-devs}", r.IntN(size.Namespaces))
		}
		docs = append(docs, fmt.Sprintf("apiVersion: rbac.authorization.k8s.io/v1\nkind: ClusterRoleBinding\nmetadata: {name: cluster-binding-%d}\nroleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: cluster-role-%d}\nsubjects:\n%s\n", i, r.IntN(size.ClusterRoles), subjects))
	}
	for start := 0; start < len(docs); start += 500 {
		f, err := os.Create(filepath.Join(dir, fmt.Sprintf("rbac-%05d.yaml", start/500)))
		if err != nil {
			return 0, err
		}
		w := bufio.NewWriter(f)
		for i, d := range docs[start:min(start+500, len(docs))] {
			if i > 0 {
				w.WriteString("---\n")
			}
			w.WriteString(d)
		}
		if err := w.Flush(); err != nil {
			return 0, err
		}
		if err := f.Close(); err != nil {
			return 0, err
		}
	}
	return len(docs), nil
}

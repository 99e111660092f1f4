package rbac

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"sync"

	rbacv1 "k8s.io/api/rbac/v1"
)

// defaultsJSON is what a fresh kube-apiserver of the version named inside
// serves: its bootstrap ClusterRoles (rbac-defaults) and its discovery.
// TestDefaultsMatchServer regenerates it from the real test control plane
// (go test ./internal/rbac -run TestDefaultsMatchServer -update).
//
//go:embed testdata/defaults.json
var defaultsJSON []byte

// Defaults is the content of the bootstrap data.
type Defaults struct {
	KubernetesVersion string               `json:"kubernetesVersion"`
	ClusterRoles      []rbacv1.ClusterRole `json:"clusterRoles"`
	Resources         []APIResource        `json:"resources"`
}

var defaults = sync.OnceValue(func() *Defaults {
	var d Defaults
	if err := json.Unmarshal(defaultsJSON, &d); err != nil {
		panic(fmt.Sprintf("rbac: embedded bootstrap data is corrupt: %v", err))
	}
	return &d
})

// BootstrapVersion is the Kubernetes version the built-in roles and
// resources come from.
func BootstrapVersion() string { return defaults().KubernetesVersion }

// defaultClusterRoles returns fresh copies of the bootstrap ClusterRoles.
func defaultClusterRoles() []*Role {
	d := defaults()
	out := make([]*Role, 0, len(d.ClusterRoles))
	for _, cr := range d.ClusterRoles {
		out = append(out, &Role{
			RoleRef: RoleRef{Kind: "ClusterRole", Name: cr.Name}, Rules: cr.Rules, ownRules: cr.Rules,
			Default: true, labels: cr.Labels, aggregation: cr.AggregationRule,
		})
	}
	return out
}

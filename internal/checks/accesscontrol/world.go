package accesscontrol

import (
	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/rbac"
)

type worldKey struct{}
type graphKey struct{}

// worldOf is the RBAC world of the environment's inventory, built once per
// evaluation and shared by every access-control check.
func worldOf(env *check.Env) *rbac.World {
	return env.Memo(worldKey{}, func() any { return rbac.Build(env.Inventory.Objects(), rbac.Options{}) }).(*rbac.World)
}

// graphOf is the escalation graph of the environment's inventory.
func graphOf(env *check.Env) *rbac.Graph {
	return env.Memo(graphKey{}, func() any { return worldOf(env).Escalation(env.Inventory.Objects()) }).(*rbac.Graph)
}

// The models access-control checks declare, so a scan builds them before
// evaluating objects.
var (
	rbacWorld       = &check.Model{Name: "RBAC world", Build: func(env *check.Env) { worldOf(env) }}
	escalationGraph = &check.Model{Name: "RBAC escalation graph", Build: func(env *check.Env) { graphOf(env) }}
)

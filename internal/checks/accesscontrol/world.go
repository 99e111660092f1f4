package accesscontrol

import (
	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

type worldKey struct{}
type graphKey struct{}

// worldOf is the RBAC world of the environment's inventory, built once per
// evaluation and shared by every access-control check.
func worldOf(env *check.Env) *rbac.World {
	return env.Memo(worldKey{}, func() any {
		return rbac.Build(env.Inventory.Objects(), rbac.Options{DecodeRole: func(o *source.Object) (*rbacv1.ClusterRole, error) {
			return decodedRole(env, o)
		}})
	}).(*rbac.World)
}

type typedRoleKey struct{ o *source.Object }

type typedRole struct {
	role *rbacv1.ClusterRole
	err  error
}

// decodedRole decodes the Role or ClusterRole o once per run: the RBAC
// world and the role checks read it.
func decodedRole(env *check.Env, o *source.Object) (*rbacv1.ClusterRole, error) {
	d := env.Memo(typedRoleKey{o}, func() any {
		r, err := rbac.DecodeRole(o)
		return typedRole{r, err}
	}).(typedRole)
	return d.role, d.err
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

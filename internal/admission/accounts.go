package admission

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

// ClusterAccounts answers AccountPermissions from the cluster's RBAC
// objects, listed again every refresh interval.
type ClusterAccounts struct {
	client kubernetes.Interface
	world  atomic.Pointer[rbac.World]
	log    *slog.Logger
}

// NewClusterAccounts lists RBAC once (so answers are known from the
// start) and keeps refreshing until ctx ends.
func NewClusterAccounts(ctx context.Context, client kubernetes.Interface, refresh time.Duration, log *slog.Logger) (*ClusterAccounts, error) {
	a := &ClusterAccounts{client: client, log: log}
	if err := a.refresh(ctx); err != nil {
		return nil, err
	}
	go func() {
		t := time.NewTicker(refresh)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if err := a.refresh(ctx); err != nil {
					log.Warn("refreshing RBAC for the automount mutation", "err", err)
				}
			}
		}
	}()
	return a, nil
}

func (a *ClusterAccounts) refresh(ctx context.Context) error {
	var objs []*source.Object
	add := func(kind string, items any) error {
		u, err := runtime.DefaultUnstructuredConverter.ToUnstructured(&map[string]any{"items": items})
		if err != nil {
			return err
		}
		for _, it := range u["items"].([]any) {
			body := it.(map[string]any)
			body["apiVersion"], body["kind"] = rbacv1.SchemeGroupVersion.String(), kind
			objs = append(objs, source.NewObject(body, source.Position{File: "cluster"}, -1))
		}
		return nil
	}
	r := a.client.RbacV1()
	crs, err := r.ClusterRoles().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	roles, err := r.Roles("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	crbs, err := r.ClusterRoleBindings().List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	rbs, err := r.RoleBindings("").List(ctx, metav1.ListOptions{})
	if err != nil {
		return err
	}
	for _, l := range []struct {
		kind  string
		items any
	}{{"ClusterRole", crs.Items}, {"Role", roles.Items}, {"ClusterRoleBinding", crbs.Items}, {"RoleBinding", rbs.Items}} {
		if err := add(l.kind, l.items); err != nil {
			return err
		}
	}
	a.world.Store(rbac.Build(objs, rbac.Options{}))
	return nil
}

// HasPermissions reports whether a binding grants the service account
// anything: a binding that names it, all service accounts, or those of
// its namespace. What every authenticated caller gets, and Kubernetes'
// own bindings for every service account (OIDC discovery), do not count.
func (a *ClusterAccounts) HasPermissions(namespace, name string) (has, known bool) {
	w := a.world.Load()
	if w == nil {
		return false, false
	}
	return AccountHasPermissions(w, namespace, name), true
}

// AccountHasPermissions is HasPermissions on a given world.
func AccountHasPermissions(w *rbac.World, namespace, name string) bool {
	sa := rbac.Subject{Kind: rbacv1.ServiceAccountKind, Namespace: namespace, Name: name}
	id := rbac.IdentityOf(sa)
	for _, b := range w.BindingsOf(id) {
		if b.Role == nil || len(b.Role.Rules) == 0 || b.Bootstrap() {
			continue
		}
		subjects, _ := b.SubjectsOf()
		for _, s := range subjects {
			if !s.Matches(id) {
				continue
			}
			if s.Kind != rbacv1.GroupKind || s.Name == rbac.GroupServiceAccounts || s.Name == "system:serviceaccounts:"+namespace {
				return true
			}
		}
	}
	return false
}

package rbac

import (
	"bytes"
	"encoding/json"
	"flag"
	"os"
	"slices"
	"strings"
	"testing"

	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

var update = flag.Bool("update", false, "rewrite testdata/defaults.json from the test control plane")

// TestDefaultsMatchServer proves the embedded bootstrap ClusterRoles and
// resource catalogue are what a real kube-apiserver of that version
// serves, and regenerates them with -update.
func TestDefaultsMatchServer(t *testing.T) {
	c := testcluster.Start(t, testcluster.Options{})
	client := c.Client(t)
	ctx := t.Context()
	roles, err := client.RbacV1().ClusterRoles().List(ctx, metav1.ListOptions{LabelSelector: "kubernetes.io/bootstrapping=rbac-defaults"})
	if err != nil {
		t.Fatal(err)
	}
	got := Defaults{KubernetesVersion: testcluster.KubernetesVersion}
	for _, r := range roles.Items {
		got.ClusterRoles = append(got.ClusterRoles, rbacv1.ClusterRole{
			ObjectMeta:      metav1.ObjectMeta{Name: r.Name, Labels: r.Labels},
			AggregationRule: r.AggregationRule,
			Rules:           r.Rules,
		})
	}
	slices.SortFunc(got.ClusterRoles, func(a, b rbacv1.ClusterRole) int { return strings.Compare(a.Name, b.Name) })
	lists, err := client.Discovery().ServerPreferredResources()
	if err != nil {
		t.Fatal(err)
	}
	byKey := map[[2]string]*APIResource{}
	for _, l := range lists {
		group, _, ok := strings.Cut(l.GroupVersion, "/")
		if !ok {
			group = ""
		}
		for _, r := range l.APIResources {
			if name, sub, ok := strings.Cut(r.Name, "/"); ok {
				if parent := byKey[[2]string{group, name}]; parent != nil {
					parent.Subresources = append(parent.Subresources, sub)
				}
				continue
			}
			res := &APIResource{Group: group, Resource: r.Name, Singular: r.SingularName, ShortNames: r.ShortNames, Namespaced: r.Namespaced, Verbs: slices.Sorted(slices.Values(r.Verbs))}
			byKey[[2]string{group, r.Name}] = res
		}
	}
	for _, r := range byKey {
		slices.Sort(r.Subresources)
		got.Resources = append(got.Resources, *r)
	}
	slices.SortFunc(got.Resources, func(a, b APIResource) int {
		if c := strings.Compare(a.Group, b.Group); c != 0 {
			return c
		}
		return strings.Compare(a.Resource, b.Resource)
	})
	data, err := json.MarshalIndent(got, "", " ")
	if err != nil {
		t.Fatal(err)
	}
	data = append(data, '\n')
	if *update {
		if err := os.WriteFile("testdata/defaults.json", data, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if !bytes.Equal(data, defaultsJSON) {
		t.Errorf("testdata/defaults.json differs from what kube-apiserver %s serves; run go test ./internal/rbac -run TestDefaultsMatchServer -update", testcluster.KubernetesVersion)
	}
	if len(got.ClusterRoles) < 50 || len(got.Resources) < 50 {
		t.Errorf("only %d bootstrap roles and %d resources", len(got.ClusterRoles), len(got.Resources))
	}
}

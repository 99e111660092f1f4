package testcluster

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
)

func TestStart(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts a kube-apiserver")
	}
	start := time.Now()
	c := Start(t, Options{Users: []User{{Name: "nobody", Groups: []string{"nobodies"}}}})
	t.Logf("control plane ready in %v", time.Since(start).Round(100*time.Millisecond))
	ctx := context.Background()
	cs := c.Client(t)

	v, err := cs.Discovery().ServerVersion()
	if err != nil || v.GitVersion != KubernetesVersion {
		t.Fatalf("server version %v, %v; want %s", v, err, KubernetesVersion)
	}
	if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: "hello"}}, metav1.CreateOptions{}); err != nil {
		t.Fatalf("admin cannot create a namespace: %v", err)
	}

	// RBAC is enforced for token users.
	nobody, err := kubernetes.NewForConfig(c.UserConfig(t, "nobody"))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nobody.CoreV1().Secrets("hello").List(ctx, metav1.ListOptions{}); !apierrors.IsForbidden(err) {
		t.Errorf("an unbound user listed secrets: %v", err)
	}

	// Anonymous requests are refused by default.
	anon := *c.UserConfig(t, "nobody")
	anon.BearerToken = ""
	anonCS, _ := kubernetes.NewForConfig(&anon)
	if _, err := anonCS.CoreV1().Namespaces().List(ctx, metav1.ListOptions{}); !apierrors.IsUnauthorized(err) {
		t.Errorf("anonymous request: %v, want 401", err)
	}

	// The audit log records requests.
	deadline := time.Now().Add(10 * time.Second)
	for {
		data, _ := os.ReadFile(c.AuditLog)
		if strings.Contains(string(data), `"resource":"namespaces"`) {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("audit log has no namespace events:\n%.500s", data)
		}
		time.Sleep(200 * time.Millisecond)
	}
}

package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

// TestClusterScale loads 20,000 objects into a real API server and times
// `kubeharden scan --cluster` end to end. Opt-in, it takes minutes:
//
//	KUBEHARDEN_SCALE=1 go test ./bench -run TestClusterScale -v -timeout 60m
func TestClusterScale(t *testing.T) {
	if os.Getenv("KUBEHARDEN_SCALE") == "" {
		t.Skip("set KUBEHARDEN_SCALE=1 to run the cluster scale measurement")
	}
	const namespaces, perNamespace = 40, 500 // 20,000 objects
	c := testcluster.Start(t, testcluster.Options{})
	c.Admin.QPS, c.Admin.Burst = 2000, 4000
	cs, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	start := time.Now()
	var created atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, namespaces)
	for n := range namespaces {
		wg.Add(1)
		go func() {
			defer wg.Done()
			ns := fmt.Sprintf("team-%02d", n)
			if _, err := cs.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
				errs <- err
				return
			}
			created.Add(1)
			for i := 1; i < perNamespace; i++ {
				name := fmt.Sprintf("app-%03d", i)
				var err error
				if i%5 == 0 {
					labels := map[string]string{"app": name}
					_, err = cs.AppsV1().Deployments(ns).Create(ctx, &appsv1.Deployment{
						ObjectMeta: metav1.ObjectMeta{Name: name},
						Spec: appsv1.DeploymentSpec{Selector: &metav1.LabelSelector{MatchLabels: labels},
							Template: corev1.PodTemplateSpec{ObjectMeta: metav1.ObjectMeta{Labels: labels},
								Spec: corev1.PodSpec{Containers: []corev1.Container{{Name: "app", Image: "registry.example.com/" + name + ":1.0"}}}}},
					}, metav1.CreateOptions{})
				} else {
					_, err = cs.CoreV1().ConfigMaps(ns).Create(ctx, &corev1.ConfigMap{ObjectMeta: metav1.ObjectMeta{Name: name},
						Data: map[string]string{"config.yaml": "listen: :8080\nlog: info\n"}}, metav1.CreateOptions{})
				}
				if err != nil {
					errs <- err
					return
				}
				created.Add(1)
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	t.Logf("created %d objects in %v", created.Load(), time.Since(start).Round(time.Second))

	bin := filepath.Join(t.TempDir(), "kubeharden")
	if out, err := exec.Command("go", "build", "-tags", releaseTags, "-o", bin, "../cmd/kubeharden").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	for _, format := range []string{"table", "json"} {
		cmd := exec.Command(bin, "scan", "--cluster", "--kubeconfig", c.Kubeconfig, "-o", format, "--fail-on", "none")
		cmd.Stdout, cmd.Stderr = nil, os.Stderr
		began := time.Now()
		if err := cmd.Run(); err != nil {
			t.Fatalf("scan: %v", err)
		}
		wall := time.Since(began)
		rss := cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss * 1024
		objects := created.Load()
		t.Logf("scan --cluster -o %s: %d objects in %v: %.0f objects/s, peak RSS %.1f MB (%.1f KB/object), CPU %v user + %v sys",
			format, objects, wall.Round(time.Millisecond), float64(objects)/wall.Seconds(), float64(rss)/(1<<20), float64(rss)/float64(objects)/1024,
			cmd.ProcessState.UserTime().Round(time.Millisecond), cmd.ProcessState.SystemTime().Round(time.Millisecond))
	}
}

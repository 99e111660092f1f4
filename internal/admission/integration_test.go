package admission

import (
	"context"
	"io"
	"log/slog"
	"net"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	corev1 "k8s.io/api/core/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

// warnings collects the admission warnings the API server returns.
type warnings struct {
	mu   sync.Mutex
	list []string
}

func (w *warnings) HandleWarningHeader(_ int, _ string, text string) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.list = append(w.list, text)
}

func (w *warnings) take() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	s := strings.Join(w.list, "\n")
	w.list = nil
	return s
}

func podFromYAML(t *testing.T, manifest, name, ns string) *corev1.Pod {
	t.Helper()
	var p corev1.Pod
	if err := yaml.Unmarshal([]byte(manifest), &p); err != nil {
		t.Fatal(err)
	}
	p.Name, p.Namespace = name, ns
	return &p
}

// TestWebhookWithAPIServer runs the webhook behind a real kube-apiserver
// over TLS: denials with their message, admissions, warnings, audit
// annotations, mutations on the stored object, and both failure policies
// when the webhook is down.
func TestWebhookWithAPIServer(t *testing.T) {
	cluster := testcluster.Start(t, testcluster.Options{})
	ctx := t.Context()
	r := reviewer(t, `
rules:
- {namespaces: [warned], mode: warn}
- {namespaces: [audited], mode: audit}
mutate: {seccompProfile: true, allowPrivilegeEscalation: true, dropAllCapabilities: true}
`)
	dir := t.TempDir()
	ca, cert, key, err := testcluster.ServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerOptions{CertFile: cert, KeyFile: key}, r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	serveCtx, stopServing := context.WithCancel(ctx)
	served := make(chan error, 1)
	go func() { served <- srv.ServeListener(serveCtx, ln) }()
	defer stopServing()
	base := "https://" + ln.Addr().String()

	admin := cluster.Client(t)
	warn := &warnings{}
	cfg := rest.CopyConfig(cluster.Admin)
	cfg.WarningHandler = warn
	client, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	for _, ns := range []string{"enforced", "warned", "audited"} {
		if _, err := admin.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	selector := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system"}}}}
	fail := admissionregistrationv1.Fail
	validating := &admissionregistrationv1.ValidatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeharden"},
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.kubeharden.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To(base + "/validate"), CABundle: ca},
			Rules: webhookResources, FailurePolicy: &fail, SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds: ptr.To[int32](5), AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector, MatchConditions: matchConditions,
		}},
	}
	if _, err := admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().Create(ctx, validating, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	mutating := &admissionregistrationv1.MutatingWebhookConfiguration{
		ObjectMeta: metav1.ObjectMeta{Name: "kubeharden"},
		Webhooks: []admissionregistrationv1.MutatingWebhook{{
			Name: "mutate.kubeharden.io", ClientConfig: admissionregistrationv1.WebhookClientConfig{URL: ptr.To(base + "/mutate"), CABundle: ca},
			Rules:         []admissionregistrationv1.RuleWithOperations{{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: webhookResources[0].Rule}},
			FailurePolicy: &fail, SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone),
			TimeoutSeconds: ptr.To[int32](5), AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector,
		}},
	}
	if _, err := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Create(ctx, mutating, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	create := func(p *corev1.Pod, dryRun bool) (*corev1.Pod, error) {
		opts := metav1.CreateOptions{}
		if dryRun {
			opts.DryRun = []string{metav1.DryRunAll}
		}
		return client.CoreV1().Pods(p.Namespace).Create(ctx, p, opts)
	}
	// The API server picks webhook configurations up through an informer.
	deadline := time.Now().Add(30 * time.Second)
	for {
		_, err := create(podFromYAML(t, privilegedPod, "probe", "enforced"), true)
		if err != nil && strings.Contains(err.Error(), "privileged-container") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the webhook never took effect: %v", err)
		}
		time.Sleep(200 * time.Millisecond)
	}

	t.Run("privileged pod denied with the message", func(t *testing.T) {
		_, err := create(podFromYAML(t, privilegedPod, "priv", "enforced"), false)
		if err == nil {
			t.Fatal("admitted")
		}
		msg := err.Error()
		for _, want := range []string{`admission webhook "validate.kubeharden.io" denied the request`, "privileged-container (critical)", `container "app"`, "fix:"} {
			if !strings.Contains(msg, want) {
				t.Errorf("error lacks %q: %s", want, msg)
			}
		}
	})
	t.Run("hardened pod admitted", func(t *testing.T) {
		warn.take()
		if _, err := create(podFromYAML(t, hardenedPod, "hardened", "enforced"), false); err != nil {
			t.Fatal(err)
		}
		if w := warn.take(); w != "" {
			t.Errorf("warnings on a hardened pod: %s", w)
		}
	})
	t.Run("warn mode returns warnings; mutation is stored", func(t *testing.T) {
		warn.take()
		p, err := create(podFromYAML(t, privilegedPod, "warned", "warned"), false)
		if err != nil {
			t.Fatal(err)
		}
		w := warn.take()
		if !strings.Contains(w, "privileged-container (critical)") || !strings.Contains(w, "kubeharden set spec.securityContext.seccompProfile.type=RuntimeDefault") {
			t.Errorf("warnings: %s", w)
		}
		stored, err := admin.CoreV1().Pods("warned").Get(ctx, p.Name, metav1.GetOptions{})
		if err != nil {
			t.Fatal(err)
		}
		sc := stored.Spec.Containers[0].SecurityContext
		if stored.Spec.SecurityContext.SeccompProfile == nil || stored.Spec.SecurityContext.SeccompProfile.Type != corev1.SeccompProfileTypeRuntimeDefault ||
			sc.Capabilities == nil || len(sc.Capabilities.Drop) != 1 || sc.AllowPrivilegeEscalation != nil {
			t.Errorf("stored pod: %+v / %+v (privileged: seccomp and drop ALL set, allowPrivilegeEscalation left alone)", stored.Spec.SecurityContext, sc)
		}
	})
	t.Run("audit mode annotates the audit event", func(t *testing.T) {
		if _, err := create(podFromYAML(t, privilegedPod, "audited", "audited"), false); err != nil {
			t.Fatal(err)
		}
		deadline := time.Now().Add(10 * time.Second)
		for {
			data, _ := os.ReadFile(cluster.AuditLog)
			for _, line := range strings.Split(string(data), "\n") {
				if strings.Contains(line, `"resource":"pods","namespace":"audited","name":"audited"`) && strings.Contains(line, `"validate.kubeharden.io/findings":"`) &&
					strings.Contains(line, "privileged-container(critical)") {
					return
				}
			}
			if time.Now().After(deadline) {
				t.Fatal("no audit event with the findings annotation")
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
	t.Run("service-account permissions from the cluster's RBAC", func(t *testing.T) {
		if _, err := admin.RbacV1().RoleBindings("enforced").Create(ctx, &rbacv1.RoleBinding{
			ObjectMeta: metav1.ObjectMeta{Name: "operator"},
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: "view"},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: "operator", Namespace: "enforced"}},
		}, metav1.CreateOptions{}); err != nil {
			t.Fatal(err)
		}
		accounts, err := NewClusterAccounts(ctx, admin, time.Hour, slog.New(slog.NewTextHandler(io.Discard, nil)))
		if err != nil {
			t.Fatal(err)
		}
		for sa, want := range map[string]bool{"operator": true, "default": false} {
			if has, known := accounts.HasPermissions("enforced", sa); !known || has != want {
				t.Errorf("%s: has permissions %v (known %v), want %v", sa, has, known, want)
			}
		}
	})
	t.Run("webhook down: Fail blocks, Ignore admits", func(t *testing.T) {
		stopServing()
		if err := <-served; err != nil {
			t.Fatal(err)
		}
		if _, err := create(podFromYAML(t, hardenedPod, "while-down", "enforced"), true); err == nil || !strings.Contains(err.Error(), "failed calling webhook") {
			t.Fatalf("failurePolicy Fail with the webhook down: %v", err)
		}
		ignore := admissionregistrationv1.Ignore
		for _, kind := range []string{"validating", "mutating"} {
			var err error
			if kind == "validating" {
				v, _ := admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().Get(ctx, "kubeharden", metav1.GetOptions{})
				v.Webhooks[0].FailurePolicy = &ignore
				_, err = admin.AdmissionregistrationV1().ValidatingWebhookConfigurations().Update(ctx, v, metav1.UpdateOptions{})
			} else {
				m, _ := admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Get(ctx, "kubeharden", metav1.GetOptions{})
				m.Webhooks[0].FailurePolicy = &ignore
				_, err = admin.AdmissionregistrationV1().MutatingWebhookConfigurations().Update(ctx, m, metav1.UpdateOptions{})
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		deadline := time.Now().Add(30 * time.Second)
		for {
			_, err := create(podFromYAML(t, privilegedPod, "ignored", "enforced"), false)
			if err == nil {
				return
			}
			if time.Now().After(deadline) {
				t.Fatalf("failurePolicy Ignore with the webhook down: %v", err)
			}
			time.Sleep(200 * time.Millisecond)
		}
	})
}

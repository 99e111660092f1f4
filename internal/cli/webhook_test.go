package cli

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"io"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"runtime/debug"
	"strings"
	"testing"
	"time"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

func TestWebhookManifestsScanClean(t *testing.T) {
	image := "registry.example.com/kubeharden@sha256:" + strings.Repeat("ab", 32)
	for _, extra := range [][]string{nil, {"--mutate"}, {"--mutate", "--read-rbac"}} {
		args := append([]string{"webhook", "manifests", "-n", "kubeharden", "--image", image}, extra...)
		r := run(t, "", args...)
		if r.code != ExitOK {
			t.Fatalf("%v: exit %d: %s", extra, r.code, r.stderr)
		}
		for _, want := range []string{"kind: ValidatingWebhookConfiguration", "failurePolicy: Fail", "sideEffects: None", "matchConditions:", "cert-manager.io/inject-ca-from: kubeharden/kubeharden-webhook", "kind: Deployment", "readOnlyRootFilesystem: true"} {
			if !strings.Contains(r.stdout, want) {
				t.Errorf("%v: manifests lack %q", extra, want)
			}
		}
		if (len(extra) > 0) != strings.Contains(r.stdout, "kind: MutatingWebhookConfiguration") {
			t.Errorf("%v: mutating webhook presence", extra)
		}
		file := filepath.Join(t.TempDir(), "webhook.yaml")
		if err := os.WriteFile(file, []byte(r.stdout), 0o644); err != nil {
			t.Fatal(err)
		}
		scan := run(t, "", "scan", file)
		if scan.code != ExitOK || !strings.Contains(scan.stdout, "No findings.") {
			t.Errorf("%v: the generated manifests do not scan clean:\n%s%s", extra, scan.stdout, scan.stderr)
		}
	}
}

func TestWebhookUsageErrors(t *testing.T) {
	dir := t.TempDir()
	bad := filepath.Join(dir, "bad.yaml")
	os.WriteFile(bad, []byte("denyAt: high\nrulez: []\n"), 0o644)
	for _, args := range [][]string{
		{"webhook", "manifests", "--image", "x"},
		{"webhook", "manifests", "-n", "k"},
		{"webhook", "manifests", "-n", "k", "--image", "x", "--failure-policy", "Maybe"},
		{"webhook", "manifests", "-n", "k", "--image", "x", "--timeout-seconds", "60"},
		{"webhook", "serve"},
		{"webhook", "serve", "--tls-cert", "c", "--tls-key", "k", "--config", bad},
		{"webhook", "serve", "--tls-cert", "missing.crt", "--tls-key", "missing.key"},
	} {
		if r := run(t, "", args...); r.code != ExitError || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
}

// TestWebhookServe runs `webhook serve` as a user would: it answers over
// TLS, denies a privileged pod, and exits 0 when its context ends.
func TestWebhookServe(t *testing.T) {
	gc, limit := debug.SetGCPercent(-1), debug.SetMemoryLimit(-1) // serve tunes the collector: restore it afterwards
	debug.SetGCPercent(gc)
	t.Cleanup(func() { debug.SetGCPercent(gc); debug.SetMemoryLimit(limit) })
	dir := t.TempDir()
	ca, cert, key, err := testcluster.ServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := ln.Addr().String()
	ln.Close()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	exit := make(chan int, 1)
	var stderr bytes.Buffer
	go func() {
		exit <- Run(ctx, []string{"webhook", "serve", "--tls-cert", cert, "--tls-key", key, "--listen", addr},
			IO{In: strings.NewReader(""), Out: io.Discard, Err: &stderr, Getenv: func(string) string { return "" }})
	}()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}}
	deadline := time.Now().Add(10 * time.Second)
	for {
		if r, err := client.Get("https://" + addr + "/readyz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("webhook serve never became ready: %s", stderr.String())
		}
		time.Sleep(50 * time.Millisecond)
	}
	review := `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"u","operation":"CREATE","namespace":"shop",` +
		`"object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":"p","namespace":"shop"},"spec":{"containers":[{"name":"app","image":"x","securityContext":{"privileged":true}}]}}}}`
	resp, err := client.Post("https://"+addr+"/validate", "application/json", strings.NewReader(review))
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(body), `"allowed":false`) || !strings.Contains(string(body), "privileged-container (critical)") {
		t.Errorf("privileged pod: %s", body)
	}
	cancel()
	select {
	case code := <-exit:
		if code != ExitOK {
			t.Errorf("exit %d after shutdown: %s", code, stderr.String())
		}
	case <-time.After(30 * time.Second):
		t.Fatal("webhook serve did not stop")
	}
}

package admission

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"testing"
	"time"

	admissionv1 "k8s.io/api/admission/v1"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

// startServer runs the webhook on a free loopback port with a fresh
// certificate and returns its URL and a client that trusts it.
func startServer(t testing.TB, r *Reviewer, opts ServerOptions) (string, *http.Client, *Server, string) {
	t.Helper()
	dir := t.TempDir()
	ca, cert, key, err := testcluster.ServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	opts.CertFile, opts.KeyFile = cert, key
	srv, err := NewServer(opts, r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64}}
	return "https://" + ln.Addr().String(), client, srv, dir
}

func reviewBody(t testing.TB, req *admissionv1.AdmissionRequest) []byte {
	t.Helper()
	review := admissionv1.AdmissionReview{Request: req}
	review.APIVersion, review.Kind = "admission.k8s.io/v1", "AdmissionReview"
	data, err := json.Marshal(review)
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestServerEndToEnd(t *testing.T) {
	url, client, _, _ := startServer(t, reviewer(t, ""), ServerOptions{})
	resp, err := client.Post(url+"/validate", "application/json", bytes.NewReader(reviewBody(t, request(t, privilegedPod))))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var out admissionv1.AdmissionReview
	if err := json.NewDecoder(resp.Body).Decode(&out); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != 200 || out.Response == nil || out.Response.UID != "u1" || out.Response.Allowed || out.APIVersion != "admission.k8s.io/v1" {
		t.Fatalf("status %d, response %+v", resp.StatusCode, out)
	}
	for path, want := range map[string]int{"/healthz": 200, "/readyz": 200, "/metrics": 200, "/nope": 404} {
		r, err := client.Get(url + path)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(r.Body)
		r.Body.Close()
		if r.StatusCode != want {
			t.Errorf("GET %s: %d, want %d", path, r.StatusCode, want)
		}
		if path == "/metrics" && (!strings.Contains(string(body), `kubeharden_admission_requests_total{endpoint="validate",outcome="denied"} 1`) ||
			!strings.Contains(string(body), `kubeharden_admission_findings_total{check="privileged-container",mode="enforce"} 1`)) {
			t.Errorf("metrics:\n%s", body)
		}
	}
	// TLS below 1.2 is refused.
	old := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true, MaxVersion: tls.VersionTLS11}}}
	if _, err := old.Get(url + "/healthz"); err == nil {
		t.Error("a TLS 1.1 client was served")
	}
}

func TestServerRejectsMalformedRequests(t *testing.T) {
	url, client, _, _ := startServer(t, reviewer(t, ""), ServerOptions{MaxBodyBytes: 1 << 20})
	wrongVersion := strings.Replace(string(reviewBody(t, request(t, privilegedPod))), "admission.k8s.io/v1", "admission.k8s.io/v1beta1", 1)
	for name, tc := range map[string]struct {
		body        string
		contentType string
		want        int
	}{
		"invalid json":     {`{"apiVersion":`, "application/json", 400},
		"wrong apiVersion": {wrongVersion, "application/json", 400},
		"no request":       {`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview"}`, "application/json", 400},
		"no uid":           {`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"operation":"CREATE"}}`, "application/json", 400},
		"10 MB body":       {strings.Repeat(" ", 10<<20), "application/json", 413},
		"not json":         {"hello", "text/plain", 415},
	} {
		resp, err := client.Post(url+"/validate", tc.contentType, strings.NewReader(tc.body))
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Errorf("%s: status %d, want %d", name, resp.StatusCode, tc.want)
		}
	}
	// A missing object is allowed (nothing to check), not a crash.
	req := request(t, privilegedPod)
	req.Object.Raw = nil
	resp, err := client.Post(url+"/validate", "application/json", bytes.NewReader(reviewBody(t, req)))
	if err != nil || resp.StatusCode != 200 {
		t.Fatalf("missing object: %v %v", err, resp)
	}
	resp.Body.Close()
	if r, err := client.Get(url + "/healthz"); err != nil || r.StatusCode != 200 {
		t.Fatal("the server is not alive after malformed requests")
	}
}

func TestServerSlowloris(t *testing.T) {
	url, _, _, _ := startServer(t, reviewer(t, ""), ServerOptions{})
	conn, err := tls.Dial("tcp", strings.TrimPrefix(url, "https://"), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	fmt.Fprint(conn, "POST /validate HTTP/1.1\r\nHost: x\r\n") // and never finish the headers
	conn.SetReadDeadline(time.Now().Add(15 * time.Second))
	start := time.Now()
	if _, err := io.ReadAll(conn); err != nil && !strings.Contains(err.Error(), "reset") {
		t.Logf("read ended: %v", err)
	}
	if waited := time.Since(start); waited > 10*time.Second {
		t.Errorf("a slow client held its connection for %v", waited)
	}
}

func TestServerRecoversPanics(t *testing.T) {
	r := reviewer(t, "")
	srv := &Server{opts: ServerOptions{MaxBodyBytes: 1 << 20}, reviewer: r, metrics: r.metrics, log: slog.New(slog.NewTextHandler(io.Discard, nil)), slots: make(chan struct{}, 1)}
	w := httptest.NewRecorder()
	req := httptest.NewRequest("POST", "/validate", bytes.NewReader(reviewBody(t, request(t, privilegedPod))))
	srv.serveReview(w, req, "validate", func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse { panic("boom") })
	if w.Code != 500 {
		t.Errorf("panic: status %d", w.Code)
	}
	if len(srv.slots) != 0 {
		t.Error("the concurrency slot leaked")
	}
}

func TestCertificateReload(t *testing.T) {
	url, _, _, dir := startServer(t, reviewer(t, ""), ServerOptions{})
	serial := func() string {
		conn, err := tls.Dial("tcp", strings.TrimPrefix(url, "https://"), &tls.Config{InsecureSkipVerify: true})
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		return conn.ConnectionState().PeerCertificates[0].SerialNumber.String()
	}
	before := serial()
	next := t.TempDir()
	if _, cert, key, err := testcluster.ServingCert(next); err != nil {
		t.Fatal(err)
	} else {
		time.Sleep(1100 * time.Millisecond)
		for src, dst := range map[string]string{cert: dir + "/tls.crt", key: dir + "/tls.key"} {
			data, _ := os.ReadFile(src)
			if err := os.WriteFile(dst, data, 0o600); err != nil {
				t.Fatal(err)
			}
		}
	}
	deadline := time.Now().Add(5 * time.Second)
	for serial() == before {
		if time.Now().After(deadline) {
			t.Fatal("the renewed certificate was not served")
		}
		time.Sleep(200 * time.Millisecond)
	}
}

func TestGracefulShutdownFinishesInFlight(t *testing.T) {
	r := reviewer(t, "")
	dir := t.TempDir()
	_, cert, key, err := testcluster.ServingCert(dir)
	if err != nil {
		t.Fatal(err)
	}
	srv, err := NewServer(ServerOptions{CertFile: cert, KeyFile: key}, r, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	ln, _ := net.Listen("tcp", "127.0.0.1:0")
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.ServeListener(ctx, ln) }()
	client := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{InsecureSkipVerify: true}}}
	// A request whose body arrives slowly is in flight when shutdown starts.
	pr, pw := io.Pipe()
	result := make(chan int, 1)
	go func() {
		resp, err := client.Post("https://"+ln.Addr().String()+"/validate", "application/json", pr)
		if err != nil {
			result <- 0
			return
		}
		resp.Body.Close()
		result <- resp.StatusCode
	}()
	body := reviewBody(t, request(t, privilegedPod))
	pw.Write(body[:10])
	time.Sleep(200 * time.Millisecond)
	cancel()
	time.Sleep(200 * time.Millisecond)
	pw.Write(body[10:])
	pw.Close()
	if code := <-result; code != 200 {
		t.Errorf("in-flight request during shutdown: status %d", code)
	}
	if err := <-done; err != nil {
		t.Errorf("shutdown: %v", err)
	}
}

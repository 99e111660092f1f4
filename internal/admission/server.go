package admission

import (
	"context"
	"crypto/tls"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus/promhttp"
	admissionv1 "k8s.io/api/admission/v1"
	"k8s.io/apimachinery/pkg/types"
)

// ServerOptions configure the HTTPS server.
type ServerOptions struct {
	// Listen is the address, default ":8443".
	Listen string
	// CertFile and KeyFile are the serving certificate; they are reloaded
	// when they change on disk (a renewed Secret mount).
	CertFile, KeyFile string
	// MaxBodyBytes bounds a request body (default 7 MiB: an AdmissionReview
	// carries the object and the old object, each up to the API server's
	// 3 MiB limit).
	MaxBodyBytes int64
	// MaxInFlight bounds concurrent evaluations (default 64); further
	// requests wait up to 100 ms, then get 429.
	MaxInFlight int
	// RequestTimeout bounds reading a request and deciding it (default
	// 9 s, under the API server's default webhook timeout of 10 s).
	RequestTimeout time.Duration
	// ShutdownGrace is how long shutdown waits for in-flight requests
	// (default 25 s).
	ShutdownGrace time.Duration
}

func (o *ServerOptions) defaults() {
	if o.Listen == "" {
		o.Listen = ":8443"
	}
	if o.MaxBodyBytes <= 0 {
		o.MaxBodyBytes = 7 << 20
	}
	if o.MaxInFlight <= 0 {
		o.MaxInFlight = 64
	}
	if o.RequestTimeout <= 0 {
		o.RequestTimeout = 9 * time.Second
	}
	if o.ShutdownGrace <= 0 {
		o.ShutdownGrace = 25 * time.Second
	}
}

// Server serves /validate, /mutate, /healthz, /readyz and /metrics.
type Server struct {
	opts     ServerOptions
	reviewer *Reviewer
	metrics  *Metrics
	log      *slog.Logger
	certs    *certReloader
	slots    chan struct{}
	ready    atomic.Bool
}

// NewServer loads the certificate and prepares the handlers.
func NewServer(opts ServerOptions, reviewer *Reviewer, log *slog.Logger) (*Server, error) {
	opts.defaults()
	certs, err := newCertReloader(opts.CertFile, opts.KeyFile)
	if err != nil {
		return nil, err
	}
	return &Server{opts: opts, reviewer: reviewer, metrics: reviewer.metrics, log: log, certs: certs, slots: make(chan struct{}, opts.MaxInFlight)}, nil
}

// Handler is the server's routes, without TLS (for tests and benchmarks).
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	review := func(endpoint string, decide func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { s.serveReview(w, r, endpoint, decide) })
	}
	mux.Handle("POST /validate", review("validate", s.reviewer.Validate))
	mux.Handle("POST /mutate", review("mutate", s.reviewer.Mutate))
	mux.HandleFunc("GET /healthz", func(w http.ResponseWriter, _ *http.Request) { io.WriteString(w, "ok\n") })
	mux.HandleFunc("GET /readyz", func(w http.ResponseWriter, _ *http.Request) {
		if !s.ready.Load() {
			http.Error(w, "not ready", http.StatusServiceUnavailable)
			return
		}
		io.WriteString(w, "ok\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(s.metrics.Registry, promhttp.HandlerOpts{}))
	return mux
}

// Serve listens until ctx ends, then stops accepting, lets in-flight
// requests finish (up to ShutdownGrace) and returns.
func (s *Server) Serve(ctx context.Context) error {
	ln, err := net.Listen("tcp", s.opts.Listen)
	if err != nil {
		return fmt.Errorf("listen %s: %w", s.opts.Listen, err)
	}
	return s.ServeListener(ctx, ln)
}

// ServeListener is Serve on an existing listener.
func (s *Server) ServeListener(ctx context.Context, ln net.Listener) error {
	srv := &http.Server{
		Handler:           s.Handler(),
		TLSConfig:         &tls.Config{MinVersion: tls.VersionTLS12, GetCertificate: s.certs.get},
		ReadHeaderTimeout: 5 * time.Second, // slowloris
		ReadTimeout:       s.opts.RequestTimeout,
		WriteTimeout:      s.opts.RequestTimeout + time.Second,
		IdleTimeout:       90 * time.Second,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelDebug),
	}
	done := make(chan error, 1)
	go func() { done <- srv.ServeTLS(ln, "", "") }()
	s.ready.Store(true)
	s.log.Info("serving", "addr", ln.Addr().String())
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
	}
	s.ready.Store(false)
	shutdownCtx, cancel := context.WithTimeout(context.Background(), s.opts.ShutdownGrace)
	defer cancel()
	err := srv.Shutdown(shutdownCtx)
	if e := <-done; !errors.Is(e, http.ErrServerClosed) && err == nil {
		err = e
	}
	s.log.Info("stopped")
	return err
}

// serveReview reads one AdmissionReview, decides it and writes the
// response. Malformed requests get 4xx; a panic becomes a 500 and is
// counted, never a crash.
func (s *Server) serveReview(w http.ResponseWriter, r *http.Request, endpoint string, decide func(context.Context, *admissionv1.AdmissionRequest) *admissionv1.AdmissionResponse) {
	start := time.Now()
	outcome := "error"
	defer func() {
		if p := recover(); p != nil {
			s.metrics.errors.WithLabelValues("panic").Inc()
			s.log.Error("panic while reviewing a request", "endpoint", endpoint, "panic", fmt.Sprint(p))
			http.Error(w, "kubeharden: internal error", http.StatusInternalServerError)
			outcome = "error"
		}
		s.metrics.requests.WithLabelValues(endpoint, outcome).Inc()
		s.metrics.latency.WithLabelValues(endpoint).Observe(time.Since(start).Seconds())
	}()
	select {
	case s.slots <- struct{}{}:
	case <-time.After(100 * time.Millisecond):
		s.metrics.errors.WithLabelValues("overload").Inc()
		outcome = "rejected"
		http.Error(w, "kubeharden: too many requests in flight", http.StatusTooManyRequests)
		return
	}
	defer func() { <-s.slots }()
	s.metrics.inFlight.Inc()
	defer s.metrics.inFlight.Dec()

	if ct := r.Header.Get("Content-Type"); ct != "" && !strings.HasPrefix(ct, "application/json") {
		s.metrics.errors.WithLabelValues("body").Inc()
		http.Error(w, "kubeharden: want Content-Type application/json", http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, s.opts.MaxBodyBytes))
	if err != nil {
		s.metrics.errors.WithLabelValues("body").Inc()
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			http.Error(w, fmt.Sprintf("kubeharden: request body over %d bytes", s.opts.MaxBodyBytes), http.StatusRequestEntityTooLarge)
			return
		}
		http.Error(w, "kubeharden: reading the request: "+err.Error(), http.StatusBadRequest)
		return
	}
	review, err := DecodeReview(body)
	if err != nil {
		s.metrics.errors.WithLabelValues("decode").Inc()
		http.Error(w, "kubeharden: "+err.Error(), http.StatusBadRequest)
		return
	}
	resp := decide(r.Context(), review.Request)
	// The read deadline bounds slow bodies; a decision is CPU-bound and
	// cannot be interrupted, but one that ran past the timeout is answered
	// as such (the API server has stopped waiting and applied its failure
	// policy).
	if time.Since(start) > s.opts.RequestTimeout {
		s.metrics.errors.WithLabelValues("timeout").Inc()
		http.Error(w, "kubeharden: request timed out", http.StatusGatewayTimeout)
		return
	}
	switch {
	case resp.Allowed:
		outcome = "allowed"
	case resp.Result != nil && resp.Result.Code == 403:
		outcome = "denied"
	}
	out := admissionv1.AdmissionReview{TypeMeta: review.TypeMeta, Response: resp}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(&out); err != nil {
		s.log.Debug("writing a response", "err", err)
	}
}

// DecodeReview parses an AdmissionReview v1 with a request.
func DecodeReview(body []byte) (*admissionv1.AdmissionReview, error) {
	var review admissionv1.AdmissionReview
	if err := json.Unmarshal(body, &review); err != nil {
		return nil, fmt.Errorf("not an AdmissionReview: %w", err)
	}
	if review.APIVersion != "admission.k8s.io/v1" || review.Kind != "AdmissionReview" {
		return nil, fmt.Errorf("apiVersion %q kind %q: want admission.k8s.io/v1 AdmissionReview", review.APIVersion, review.Kind)
	}
	if review.Request == nil {
		return nil, errors.New("the AdmissionReview has no request")
	}
	if review.Request.UID == types.UID("") {
		return nil, errors.New("the request has no uid")
	}
	return &review, nil
}

// certReloader serves the certificate files, reloading them when their
// modification time changes (checked at most once a second).
type certReloader struct {
	certFile, keyFile string
	mu                sync.Mutex
	cert              *tls.Certificate
	modTime           time.Time
	checked           time.Time
}

func newCertReloader(certFile, keyFile string) (*certReloader, error) {
	c := &certReloader{certFile: certFile, keyFile: keyFile}
	if err := c.load(); err != nil {
		return nil, err
	}
	return c, nil
}

func (c *certReloader) load() error {
	cert, err := tls.LoadX509KeyPair(c.certFile, c.keyFile)
	if err != nil {
		return fmt.Errorf("loading the serving certificate: %w", err)
	}
	st, err := os.Stat(c.certFile)
	if err != nil {
		return err
	}
	c.cert, c.modTime = &cert, latestModTime(st.ModTime(), c.keyFile)
	return nil
}

func latestModTime(t time.Time, other string) time.Time {
	if st, err := os.Stat(other); err == nil && st.ModTime().After(t) {
		return st.ModTime()
	}
	return t
}

func (c *certReloader) get(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if time.Since(c.checked) > time.Second {
		c.checked = time.Now()
		if st, err := os.Stat(c.certFile); err == nil && latestModTime(st.ModTime(), c.keyFile).After(c.modTime) {
			// A half-written pair fails to load: keep serving the old one.
			_ = c.load()
		}
	}
	return c.cert, nil
}

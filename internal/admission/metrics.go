package admission

import (
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
)

// Metrics are the webhook's Prometheus metrics, in their own registry.
type Metrics struct {
	Registry  *prometheus.Registry
	requests  *prometheus.CounterVec
	decisions *prometheus.CounterVec
	skipped   *prometheus.CounterVec
	errors    *prometheus.CounterVec
	latency   *prometheus.HistogramVec
	inFlight  prometheus.Gauge
	patches   *prometheus.CounterVec
}

// NewMetrics registers the webhook's metrics and the Go runtime's.
func NewMetrics() *Metrics {
	m := &Metrics{
		Registry: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kubeharden_admission_requests_total",
			Help: "Admission requests by endpoint and outcome (allowed, denied, error, rejected)."}, []string{"endpoint", "outcome"}),
		decisions: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kubeharden_admission_findings_total",
			Help: "Findings in admission requests by check and mode (enforce, warn, audit)."}, []string{"check", "mode"}),
		skipped: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kubeharden_admission_skipped_total",
			Help: "Requests admitted without evaluation, by reason."}, []string{"reason"}),
		errors: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kubeharden_admission_errors_total",
			Help: "Errors by kind (decode, body, timeout, panic, overload)."}, []string{"kind"}),
		latency: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "kubeharden_admission_duration_seconds",
			Help:    "Time from reading a request to writing its response.",
			Buckets: []float64{.0005, .001, .002, .005, .01, .025, .05, .1, .25, .5, 1, 2.5}}, []string{"endpoint"}),
		inFlight: prometheus.NewGauge(prometheus.GaugeOpts{Name: "kubeharden_admission_in_flight", Help: "Requests being evaluated."}),
		patches: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "kubeharden_admission_patches_total",
			Help: "Secure-default patches applied by /mutate, by field."}, []string{"field"}),
	}
	m.Registry.MustRegister(m.requests, m.decisions, m.skipped, m.errors, m.latency, m.inFlight, m.patches,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

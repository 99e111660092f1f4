package main

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

// webhookMix is a realistic mix of admission requests: Deployments (two
// thirds hardened), bare Pods, Roles and RoleBindings, ConfigMaps.
func webhookMix() [][]byte {
	deploy := func(i int, hardened bool) string {
		sc := `{"privileged":true}`
		podSC := `{}`
		if hardened {
			sc = `{"allowPrivilegeEscalation":false,"readOnlyRootFilesystem":true,"runAsNonRoot":true,"capabilities":{"drop":["ALL"]}}`
			podSC = `{"seccompProfile":{"type":"RuntimeDefault"}}`
		}
		return fmt.Sprintf(`{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"app-%d","namespace":"team-%d","labels":{"app":"app-%d"}},`+
			`"spec":{"replicas":3,"selector":{"matchLabels":{"app":"app-%d"}},"template":{"metadata":{"labels":{"app":"app-%d"}},"spec":{`+
			`"serviceAccountName":"app-%d","automountServiceAccountToken":false,"securityContext":%s,"containers":[{"name":"main","image":"registry.example.com/app-%d:1.%d.0",`+
			`"ports":[{"containerPort":8080}],"env":[{"name":"LOG_LEVEL","value":"info"},{"name":"DB_HOST","value":"db"}],"securityContext":%s,`+
			`"resources":{"requests":{"cpu":"100m","memory":"128Mi"},"limits":{"cpu":"500m","memory":"256Mi"}},`+
			`"readinessProbe":{"httpGet":{"path":"/healthz","port":8080}}},{"name":"sidecar","image":"registry.example.com/proxy:2.1","securityContext":%s}]}}}}`,
			i, i%10, i, i, i, i, podSC, i, i%5, sc, sc)
	}
	var objs []string
	for i := range 12 {
		objs = append(objs, deploy(i, i%3 != 0))
	}
	for i := range 4 {
		objs = append(objs, fmt.Sprintf(`{"apiVersion":"v1","kind":"Pod","metadata":{"name":"job-%d","namespace":"batch"},"spec":{"containers":[{"name":"c","image":"busybox:1.36","command":["sh","-c","date"]}]}}`, i))
	}
	objs = append(objs,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"Role","metadata":{"name":"reader","namespace":"team-1"},"rules":[{"apiGroups":[""],"resources":["configmaps","secrets"],"verbs":["get","list"]}]}`,
		`{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"RoleBinding","metadata":{"name":"reader","namespace":"team-1"},"roleRef":{"apiGroup":"rbac.authorization.k8s.io","kind":"ClusterRole","name":"edit"},"subjects":[{"kind":"ServiceAccount","name":"default","namespace":"team-1"}]}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"settings","namespace":"team-2"},"data":{"a":"1","b":"2"}}`,
		`{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"feature-flags","namespace":"team-3"},"data":{"new-ui":"true"}}`)
	var bodies [][]byte
	for i, o := range objs {
		var meta struct {
			Kind     string `json:"kind"`
			Metadata struct{ Name, Namespace string }
		}
		json.Unmarshal([]byte(o), &meta)
		bodies = append(bodies, fmt.Appendf(nil, `{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"bench-%d","kind":{"group":"","version":"v1","kind":%q},`+
			`"resource":{"group":"","version":"v1","resource":"x"},"namespace":%q,"name":%q,"operation":"CREATE","userInfo":{"username":"alice","groups":["system:authenticated"]},"object":%s}}`,
			i, meta.Kind, meta.Metadata.Namespace, meta.Metadata.Name, o))
	}
	return bodies
}

// runWebhook starts `kubeharden webhook serve` and drives it with an
// open-loop load: requests are sent on a fixed schedule whatever the
// latency, which is measured from each request's scheduled time.
func runWebhook(ctx context.Context, bin, work, rateList string, phase, soak time.Duration) error {
	work, cleanup, err := workDir(work, "kubeharden-bench-webhook-")
	if err != nil {
		return err
	}
	defer cleanup()
	if bin, err = buildBinary(ctx, bin, work); err != nil {
		return err
	}
	ca, cert, key, err := testcluster.ServingCert(work)
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	addr := ln.Addr().String()
	ln.Close()
	srv := exec.CommandContext(ctx, bin, "webhook", "serve", "--tls-cert", cert, "--tls-key", key, "--listen", addr)
	srv.Stderr = os.Stderr
	if err := srv.Start(); err != nil {
		return err
	}
	defer func() { srv.Process.Signal(os.Interrupt); srv.Wait() }()
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(ca)
	client := &http.Client{Timeout: 10 * time.Second, Transport: &http.Transport{
		TLSClientConfig: &tls.Config{RootCAs: pool}, MaxIdleConnsPerHost: 64, MaxConnsPerHost: 64,
	}}
	url := "https://" + addr + "/validate"
	for start := time.Now(); ; time.Sleep(50 * time.Millisecond) {
		if r, err := client.Get("https://" + addr + "/readyz"); err == nil && r.StatusCode == 200 {
			r.Body.Close()
			break
		}
		if time.Since(start) > 10*time.Second {
			return fmt.Errorf("the webhook did not become ready")
		}
	}
	bodies := webhookMix()
	fmt.Printf("webhook bench: %d request shapes (Deployments, Pods, Role, RoleBinding, ConfigMaps), open loop, loopback TLS, keep-alive\n", len(bodies))
	fmt.Printf("%-10s %9s %10s %9s %9s %9s %9s %7s %10s\n", "rate/s", "duration", "achieved", "p50", "p99", "p99.9", "max", "errors", "RSS")
	warm := load(ctx, client, url, bodies, 200, 3*time.Second)
	_ = warm
	for _, s := range strings.Split(rateList, ",") {
		rate, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || rate <= 0 {
			return fmt.Errorf("bad rate %q", s)
		}
		cpuBefore, clientBefore := cpuSeconds(srv.Process.Pid), cpuSeconds(os.Getpid())
		res := load(ctx, client, url, bodies, rate, phase)
		res.print(rate, phase, rss(srv.Process.Pid))
		n := float64(len(res.latencies) + res.errors)
		fmt.Printf("%-10s CPU per request: server %.0f µs, load generator %.0f µs\n", "", (cpuSeconds(srv.Process.Pid)-cpuBefore)/n*1e6, (cpuSeconds(os.Getpid())-clientBefore)/n*1e6)
	}
	if soak > 0 {
		fmt.Printf("soak: %v at 1000 requests/s, RSS every 30 s\n", soak)
		var samples []string
		for elapsed := time.Duration(0); elapsed < soak; elapsed += 30 * time.Second {
			res := load(ctx, client, url, bodies, 1000, 30*time.Second)
			samples = append(samples, rss(srv.Process.Pid))
			if res.errors > 0 {
				fmt.Printf("  %v: %d errors\n", elapsed+30*time.Second, res.errors)
			}
		}
		fmt.Printf("  RSS: %s\n", strings.Join(samples, " → "))
	}
	return nil
}

type loadResult struct {
	latencies []time.Duration
	errors    int
	elapsed   time.Duration
}

func (r loadResult) print(rate int, d time.Duration, rss string) {
	slices.Sort(r.latencies)
	q := func(p float64) time.Duration {
		if len(r.latencies) == 0 {
			return 0
		}
		return r.latencies[min(len(r.latencies)-1, int(p*float64(len(r.latencies))))]
	}
	achieved := float64(len(r.latencies)+r.errors) / r.elapsed.Seconds()
	ms := func(d time.Duration) string { return fmt.Sprintf("%.2fms", float64(d.Microseconds())/1000) }
	fmt.Printf("%-10d %9v %10.0f %9s %9s %9s %9s %7d %10s\n", rate, d, achieved, ms(q(0.5)), ms(q(0.99)), ms(q(0.999)), ms(q(1)), r.errors, rss)
}

// load sends rate requests per second for d on a fixed schedule through a
// pool of 64 keep-alive connections (as the API server keeps its own); a
// request's latency counts from its scheduled time, so queueing behind a
// slow answer is measured, not hidden.
func load(ctx context.Context, client *http.Client, url string, bodies [][]byte, rate int, d time.Duration) loadResult {
	interval := time.Second / time.Duration(rate)
	n := int(d / interval)
	type job struct {
		i         int
		scheduled time.Time
	}
	jobs := make(chan job, n)
	var mu sync.Mutex
	res := loadResult{latencies: make([]time.Duration, 0, n)}
	var wg sync.WaitGroup
	for range 64 {
		wg.Go(func() {
			for j := range jobs {
				ok := post(ctx, client, url, bodies[j.i%len(bodies)])
				lat := time.Since(j.scheduled)
				mu.Lock()
				if ok {
					res.latencies = append(res.latencies, lat)
				} else {
					res.errors++
				}
				mu.Unlock()
			}
		})
	}
	start := time.Now()
	for i := range n {
		scheduled := start.Add(time.Duration(i) * interval)
		if wait := time.Until(scheduled); wait > 0 {
			time.Sleep(wait)
		}
		jobs <- job{i, scheduled}
	}
	close(jobs)
	wg.Wait()
	res.elapsed = time.Since(start)
	return res
}

func post(ctx context.Context, client *http.Client, url string, body []byte) bool {
	req, err := http.NewRequestWithContext(ctx, "POST", url, bytes.NewReader(body))
	if err != nil {
		return false
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := client.Do(req)
	if err != nil {
		return false
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	return err == nil && resp.StatusCode == 200 && bytes.Contains(data, []byte(`"response"`))
}

// cpuSeconds is a process's user+system CPU time (clock ticks of 10 ms).
func cpuSeconds(pid int) float64 {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "stat"))
	if err != nil {
		return 0
	}
	// Fields after the command name (which may contain spaces).
	fields := strings.Fields(string(data[bytes.LastIndexByte(data, ')')+2:]))
	utime, _ := strconv.ParseFloat(fields[11], 64)
	stime, _ := strconv.ParseFloat(fields[12], 64)
	return (utime + stime) / 100
}

// rss reads a process's resident set size.
func rss(pid int) string {
	data, err := os.ReadFile(filepath.Join("/proc", strconv.Itoa(pid), "status"))
	if err != nil {
		return "?"
	}
	for _, line := range strings.Split(string(data), "\n") {
		if v, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			kb, _ := strconv.Atoi(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")))
			return fmt.Sprintf("%.1fM", float64(kb)/1024)
		}
	}
	return "?"
}

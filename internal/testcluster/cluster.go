package testcluster

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	clientcmdapi "k8s.io/client-go/tools/clientcmd/api"
)

// User is a token-authenticated user of the test cluster.
type User struct {
	Name   string
	Groups []string
}

// Options choose how the API server runs.
type Options struct {
	// AnonymousAuth turns anonymous requests on (off by default).
	AnonymousAuth bool
	// Users get bearer tokens (see Cluster.UserConfig).
	Users []User
	// Flags are extra kube-apiserver flags, "--name=value"; a later flag
	// of the same name wins over the defaults.
	Flags []string
	// AuditPolicy replaces the default policy (Metadata for everything).
	AuditPolicy string
	// OmitFlags removes default kube-apiserver flags by name
	// ("--token-auth-file").
	OmitFlags []string
	// EtcdTLS serves etcd over TLS with client certificate authentication,
	// from a CA of its own, and gives the API server an etcd client
	// certificate (the CIS section 2 setup).
	EtcdTLS bool
	// Files are written into the cluster's directory before start; a
	// value may use {{dir}} for that directory, and so may Flags.
	Files map[string]string
}

// Cluster is a running etcd + kube-apiserver.
type Cluster struct {
	// URL is https://127.0.0.1:PORT.
	URL string
	// Dir holds certificates, logs and the etcd data.
	Dir string
	// Kubeconfig is an admin kubeconfig (client certificate in
	// system:masters), for code that loads kubeconfigs like kubectl.
	Kubeconfig string
	// AuditLog is the audit log file.
	AuditLog string
	// Admin is a rest.Config for the admin.
	Admin *rest.Config
	// APIServerPID and EtcdPID are the processes.
	APIServerPID, EtcdPID int
	// Etcd is how to reach etcd: its client URL and, with EtcdTLS, the
	// files of its CA and of a client certificate.
	Etcd EtcdAccess

	caPEM  []byte
	tokens map[string]string
}

// Start builds (if needed) and starts a control plane for t, and stops it
// when t ends. Its logs are printed when t fails.
func Start(t testing.TB, opts Options) *Cluster {
	t.Helper()
	log := slog.New(slog.NewTextHandler(testWriter{t}, nil))
	ctx, cancel := context.WithTimeout(context.Background(), 45*time.Minute)
	defer cancel()
	bins, err := EnsureBinaries(ctx, log)
	if err != nil {
		t.Fatalf("test control plane unavailable: %v", err)
	}
	// Free ports are found by listening and closing, so another process
	// may take one before etcd or the API server binds it: retry with new
	// ports rather than fail the test.
	var lastErr error
	for attempt := 1; attempt <= 3; attempt++ {
		c, procs, err := start(ctx, t.TempDir(), bins, opts)
		if err == nil {
			t.Cleanup(func() {
				for _, p := range procs {
					p.stop()
				}
				if t.Failed() {
					for _, p := range procs {
						t.Logf("--- %s log (last 4 KiB) ---\n%s", p.name, tail(p.logFile, 4096))
					}
				}
			})
			return c
		}
		for _, p := range procs {
			p.stop()
			t.Logf("attempt %d: --- %s log (last 2 KiB) ---\n%s", attempt, p.name, tail(p.logFile, 2048))
		}
		lastErr = err
	}
	t.Fatalf("starting the test control plane: %v", lastErr)
	return nil
}

// EtcdAccess is what an etcd client needs.
type EtcdAccess struct {
	Endpoint      string
	CA, Cert, Key string
}

type process struct {
	name    string
	cmd     *exec.Cmd
	logFile string
	exited  chan struct{}
}

func (p *process) stop() {
	if p.cmd.Process != nil {
		_ = syscall.Kill(-p.cmd.Process.Pid, syscall.SIGKILL)
		<-p.exited
	}
}

func launch(name, logFile string, bin string, args ...string) (*process, error) {
	f, err := os.Create(logFile)
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, args...)
	cmd.Stdout, cmd.Stderr = f, f
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("starting %s: %w", name, err)
	}
	p := &process{name: name, cmd: cmd, logFile: logFile, exited: make(chan struct{})}
	go func() {
		_ = cmd.Wait()
		f.Close()
		close(p.exited)
	}()
	return p, nil
}

func start(ctx context.Context, dir string, bins Binaries, opts Options) (*Cluster, []*process, error) {
	var procs []*process
	ca, err := newPKI()
	if err != nil {
		return nil, nil, err
	}
	write := func(name string, data []byte) (string, error) {
		p := filepath.Join(dir, name)
		return p, os.WriteFile(p, data, 0o600)
	}
	caFile, err := write("ca.crt", ca.caPEM)
	if err != nil {
		return nil, nil, err
	}
	servingCert, servingKey, err := ca.issue("kube-apiserver", nil, true)
	if err != nil {
		return nil, nil, err
	}
	certFile, _ := write("apiserver.crt", servingCert)
	keyFile, _ := write("apiserver.key", servingKey)
	adminCert, adminKey, err := ca.issue("kubeharden-admin", []string{"system:masters"}, false)
	if err != nil {
		return nil, nil, err
	}
	saKey, saPub, err := serviceAccountKeys(dir)
	if err != nil {
		return nil, nil, err
	}
	tokens := map[string]string{}
	var tokenCSV strings.Builder
	for _, u := range opts.Users {
		tok := randomToken()
		tokens[u.Name] = tok
		fmt.Fprintf(&tokenCSV, "%s,%s,%s,\"%s\"\n", tok, u.Name, u.Name+"-uid", strings.Join(u.Groups, ","))
	}
	tokenFile, _ := write("tokens.csv", []byte(tokenCSV.String()))
	policy := opts.AuditPolicy
	if policy == "" {
		policy = "apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n"
	}
	policyFile, _ := write("audit-policy.yaml", []byte(policy))
	auditLog := filepath.Join(dir, "audit.log")

	etcdPort, peerPort, apiPort, err := freePorts()
	if err != nil {
		return nil, nil, err
	}
	scheme := "http"
	if opts.EtcdTLS {
		scheme = "https"
	}
	etcdURL := scheme + "://127.0.0.1:" + strconv.Itoa(etcdPort)
	peerURL := "http://127.0.0.1:" + strconv.Itoa(peerPort)
	etcdArgs := []string{"--name=test", "--data-dir=" + filepath.Join(dir, "etcd-data"),
		"--listen-client-urls=" + etcdURL, "--advertise-client-urls=" + etcdURL,
		"--listen-peer-urls=" + peerURL, "--initial-advertise-peer-urls=" + peerURL,
		"--initial-cluster=test=" + peerURL, "--unsafe-no-fsync", "--log-level=warn"}
	access := EtcdAccess{Endpoint: etcdURL}
	apiEtcdFlags := map[string]string{}
	if opts.EtcdTLS {
		etcdPKI, err := newPKI()
		if err != nil {
			return nil, nil, err
		}
		access.CA, _ = write("etcd-ca.crt", etcdPKI.caPEM)
		serverCert, serverKey, err := etcdPKI.issue("etcd", nil, true)
		if err != nil {
			return nil, nil, err
		}
		certFile, _ := write("etcd-server.crt", serverCert)
		keyFile, _ := write("etcd-server.key", serverKey)
		clientCert, clientKey, err := etcdPKI.issue("kube-apiserver-etcd-client", nil, false)
		if err != nil {
			return nil, nil, err
		}
		access.Cert, _ = write("apiserver-etcd-client.crt", clientCert)
		access.Key, _ = write("apiserver-etcd-client.key", clientKey)
		etcdArgs = append(etcdArgs, "--cert-file="+certFile, "--key-file="+keyFile, "--client-cert-auth=true", "--trusted-ca-file="+access.CA)
		apiEtcdFlags = map[string]string{"--etcd-cafile": access.CA, "--etcd-certfile": access.Cert, "--etcd-keyfile": access.Key}
	}
	for name, content := range opts.Files {
		if _, err := write(name, []byte(strings.ReplaceAll(content, "{{dir}}", dir))); err != nil {
			return nil, nil, err
		}
	}
	etcd, err := launch("etcd", filepath.Join(dir, "etcd.log"), bins.Etcd, etcdArgs...)
	if err != nil {
		return nil, procs, err
	}
	procs = append(procs, etcd)

	flags := map[string]string{
		"--etcd-servers":                     etcdURL,
		"--bind-address":                     "127.0.0.1",
		"--advertise-address":                "127.0.0.1",
		"--secure-port":                      strconv.Itoa(apiPort),
		"--endpoint-reconciler-type":         "none",
		"--cert-dir":                         filepath.Join(dir, "apiserver-certs"),
		"--tls-cert-file":                    certFile,
		"--tls-private-key-file":             keyFile,
		"--client-ca-file":                   caFile,
		"--token-auth-file":                  tokenFile,
		"--anonymous-auth":                   strconv.FormatBool(opts.AnonymousAuth),
		"--authorization-mode":               "RBAC",
		"--service-account-issuer":           "https://kubernetes.default.svc.cluster.local",
		"--service-account-key-file":         saPub,
		"--service-account-signing-key-file": saKey,
		"--service-cluster-ip-range":         "10.0.0.0/24",
		"--allow-privileged":                 "true",
		"--disable-admission-plugins":        "ServiceAccount",
		"--audit-policy-file":                policyFile,
		"--audit-log-path":                   auditLog,
	}
	for name, value := range apiEtcdFlags {
		flags[name] = value
	}
	for _, name := range opts.OmitFlags {
		delete(flags, name)
	}
	order := sortedKeys(flags)
	for _, f := range opts.Flags {
		name, value, _ := strings.Cut(strings.ReplaceAll(f, "{{dir}}", dir), "=")
		if _, ok := flags[name]; !ok {
			order = append(order, name)
		}
		flags[name] = value
	}
	args := make([]string, 0, len(order))
	for _, name := range order {
		args = append(args, name+"="+flags[name])
	}
	apiserver, err := launch("kube-apiserver", filepath.Join(dir, "kube-apiserver.log"), bins.APIServer, args...)
	if err != nil {
		return nil, procs, err
	}
	procs = append(procs, apiserver)

	c := &Cluster{
		URL:          "https://127.0.0.1:" + strconv.Itoa(apiPort),
		Dir:          dir,
		AuditLog:     auditLog,
		caPEM:        ca.caPEM,
		tokens:       tokens,
		Etcd:         access,
		APIServerPID: apiserver.cmd.Process.Pid,
		EtcdPID:      etcd.cmd.Process.Pid,
	}
	c.Admin = &rest.Config{Host: c.URL, TLSClientConfig: rest.TLSClientConfig{CAData: ca.caPEM, CertData: adminCert, KeyData: adminKey}, QPS: 200, Burst: 400}
	if err := c.waitReady(ctx, adminCert, adminKey, apiserver); err != nil {
		return nil, procs, err
	}
	c.Kubeconfig = filepath.Join(dir, "admin.kubeconfig")
	if err := c.writeKubeconfig(c.Kubeconfig, "admin", &clientcmdapi.AuthInfo{ClientCertificateData: adminCert, ClientKeyData: adminKey}); err != nil {
		return nil, procs, err
	}
	return c, procs, nil
}

func (c *Cluster) waitReady(ctx context.Context, cert, key []byte, apiserver *process) error {
	pair, err := tls.X509KeyPair(cert, key)
	if err != nil {
		return err
	}
	pool := x509.NewCertPool()
	pool.AppendCertsFromPEM(c.caPEM)
	client := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool, Certificates: []tls.Certificate{pair}, MinVersion: tls.VersionTLS12}}}
	deadline := time.Now().Add(2 * time.Minute)
	for time.Now().Before(deadline) {
		select {
		case <-apiserver.exited:
			return errors.New("kube-apiserver exited during start-up (see its log)")
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
		resp, err := client.Get(c.URL + "/readyz")
		if err != nil {
			continue
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusOK {
			return nil
		}
	}
	return errors.New("kube-apiserver not ready after 2 minutes")
}

// Client returns a clientset for the admin.
func (c *Cluster) Client(t testing.TB) kubernetes.Interface {
	t.Helper()
	cs, err := kubernetes.NewForConfig(c.Admin)
	if err != nil {
		t.Fatal(err)
	}
	return cs
}

// UserConfig returns a rest.Config authenticating as a token user from
// Options.Users.
func (c *Cluster) UserConfig(t testing.TB, name string) *rest.Config {
	t.Helper()
	tok, ok := c.tokens[name]
	if !ok {
		t.Fatalf("no test user %q (add it to Options.Users)", name)
	}
	return &rest.Config{Host: c.URL, BearerToken: tok, TLSClientConfig: rest.TLSClientConfig{CAData: c.caPEM}}
}

// UserKubeconfig writes a kubeconfig for a token user and returns its path.
func (c *Cluster) UserKubeconfig(t testing.TB, name string) string {
	t.Helper()
	tok, ok := c.tokens[name]
	if !ok {
		t.Fatalf("no test user %q", name)
	}
	path := filepath.Join(c.Dir, name+".kubeconfig")
	if err := c.writeKubeconfig(path, name, &clientcmdapi.AuthInfo{Token: tok}); err != nil {
		t.Fatal(err)
	}
	return path
}

func (c *Cluster) writeKubeconfig(path, user string, auth *clientcmdapi.AuthInfo) error {
	cfg := clientcmdapi.NewConfig()
	cfg.Clusters["test"] = &clientcmdapi.Cluster{Server: c.URL, CertificateAuthorityData: c.caPEM}
	cfg.AuthInfos[user] = auth
	cfg.Contexts["test"] = &clientcmdapi.Context{Cluster: "test", AuthInfo: user}
	cfg.CurrentContext = "test"
	return clientcmd.WriteToFile(*cfg, path)
}

func freePorts() (a, b, c int, err error) {
	var ports []int
	var listeners []net.Listener
	defer func() {
		for _, l := range listeners {
			l.Close()
		}
	}()
	for range 3 {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return 0, 0, 0, err
		}
		listeners = append(listeners, l)
		ports = append(ports, l.Addr().(*net.TCPAddr).Port)
	}
	return ports[0], ports[1], ports[2], nil
}

func randomToken() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	for i := 1; i < len(keys); i++ {
		for j := i; j > 0 && keys[j] < keys[j-1]; j-- {
			keys[j], keys[j-1] = keys[j-1], keys[j]
		}
	}
	return keys
}

func tail(file string, n int) string {
	data, err := os.ReadFile(file)
	if err != nil {
		return err.Error()
	}
	if len(data) > n {
		data = data[len(data)-n:]
	}
	return string(bytes.TrimSpace(data))
}

// testWriter sends log lines to t.Log.
type testWriter struct{ t testing.TB }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

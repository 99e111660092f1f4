package cli

import (
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"maps"
	"os"
	"slices"
	"strconv"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

// hardenedAuditPolicy records what the audit detections need without
// writing secret data.
const hardenedAuditPolicy = `apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: Metadata
  resources:
  - group: ""
    resources: [secrets, configmaps]
  - group: authentication.k8s.io
    resources: [tokenreviews]
- level: Request
  verbs: [create, update, patch]
  resources:
  - group: ""
    resources: [pods]
- level: Metadata
`

const eventRateLimitConfig = `apiVersion: apiserver.config.k8s.io/v1
kind: AdmissionConfiguration
plugins:
- name: EventRateLimit
  configuration:
    apiVersion: eventratelimit.admission.k8s.io/v1alpha1
    kind: Configuration
    limits:
    - type: Server
      qps: 50
      burst: 100
`

// hardenedControlPlane is the test control plane with the benchmark's
// remediations: etcd over TLS with its own CA, Node+RBAC, the admission
// plugins, audit log with retention, secretbox encryption, strong ciphers.
func hardenedControlPlane(t *testing.T) *testcluster.Cluster {
	key := make([]byte, 32)
	if _, err := rand.Read(key); err != nil {
		t.Fatal(err)
	}
	return testcluster.Start(t, testcluster.Options{
		EtcdTLS:   true,
		OmitFlags: []string{"--token-auth-file", "--disable-admission-plugins"},
		Files: map[string]string{
			"audit-policy.yaml": hardenedAuditPolicy,
			"admission.yaml":    eventRateLimitConfig,
			"encryption.yaml": "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n" +
				"  - secretbox:\n      keys:\n      - name: key1\n        secret: " + base64.StdEncoding.EncodeToString(key) + "\n  - identity: {}\n",
		},
		AuditPolicy: hardenedAuditPolicy,
		Flags: []string{
			"--authorization-mode=Node,RBAC",
			"--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
			"--admission-control-config-file={{dir}}/admission.yaml",
			"--kubelet-client-certificate={{dir}}/apiserver.crt", "--kubelet-client-key={{dir}}/apiserver.key",
			"--kubelet-certificate-authority={{dir}}/ca.crt",
			"--profiling=false",
			"--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=100",
			"--encryption-provider-config={{dir}}/encryption.yaml",
			"--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256",
			"--service-account-extend-token-expiration=false",
		},
	})
}

// insecureControlPlane is the test control plane with the flags the issue
// names: anonymous auth on, AlwaysAllow, profiling on, no audit log, no
// encryption configuration (and etcd over plain HTTP).
func insecureControlPlane(t *testing.T) *testcluster.Cluster {
	return testcluster.Start(t, testcluster.Options{
		AnonymousAuth: true,
		OmitFlags:     []string{"--audit-policy-file", "--audit-log-path"},
		Flags:         []string{"--authorization-mode=AlwaysAllow", "--profiling=true"},
	})
}

// nodeFindings runs `kubeharden node` on the cluster's two processes and
// returns findings about them or files under the cluster's directory
// (other files on the test machine are not the test's business).
func nodeFindings(t *testing.T, c *testcluster.Cluster) (scanReport, map[string][]string) {
	t.Helper()
	r := run(t, "", "node", "--pid", strconv.Itoa(c.APIServerPID), "--pid", strconv.Itoa(c.EtcdPID),
		"--manifests", t.TempDir(), "-o", "json", "--fail-on", "none")
	if r.code != ExitOK {
		t.Fatalf("node: exit %d\n%s", r.code, r.stderr)
	}
	rep := jsonReport(t, r)
	byCheck := map[string][]string{}
	for _, f := range rep.Findings {
		if f.Object.Kind == "File" && !strings.HasPrefix(f.Object.Name, c.Dir) {
			continue
		}
		byCheck[f.Check] = append(byCheck[f.Check], f.Message)
		if !slices.Contains([]string{"Component", "File"}, f.Object.Kind) {
			t.Errorf("%s is about %s, want the component or a file", f.Check, f.Object)
		}
	}
	return rep, byCheck
}

// TestNodeOnRunningControlPlanes: `kubeharden node` reads the running
// kube-apiserver and etcd processes of an insecure and a hardened control
// plane, reports each insecure setting with its CIS id, and finds nothing
// wrong with the hardened one.
func TestNodeOnRunningControlPlanes(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts two control planes")
	}
	insecure := insecureControlPlane(t)
	_, bad := nodeFindings(t, insecure)
	hardened := hardenedControlPlane(t)
	hardRep, good := nodeFindings(t, hardened)

	for id, msgs := range good {
		t.Errorf("hardened control plane: %s: %s", id, strings.Join(msgs, "; "))
	}
	if hardRep.Summary.Objects < 2 {
		t.Errorf("hardened run saw %d objects, want the two components and their files", hardRep.Summary.Objects)
	}
	// What the insecure flags must produce, with the benchmark's ids.
	want := map[string]string{
		"apiserver-anonymous-auth":             "1.2.1",
		"apiserver-token-auth-file":            "1.2.2",
		"apiserver-authorization-always-allow": "1.2.6",
		"apiserver-authorization-node":         "1.2.7",
		"apiserver-authorization-rbac":         "1.2.8",
		"apiserver-serviceaccount-plugin":      "1.2.12",
		"apiserver-noderestriction-plugin":     "1.2.14",
		"apiserver-profiling":                  "1.2.15",
		"apiserver-audit-log":                  "1.2.16",
		"apiserver-etcd-client-cert":           "1.2.23",
		"apiserver-etcd-ca":                    "1.2.26",
		"apiserver-encryption-config":          "1.2.27",
		"apiserver-kubelet-client-cert":        "1.2.4",
		"audit-policy-missing":                 "3.2.1",
		"etcd-tls":                             "2.1",
		"etcd-client-cert-auth":                "2.2",
	}
	catalogue := catalogueCIS(t)
	for id, cis := range want {
		if len(bad[id]) == 0 {
			t.Errorf("insecure control plane: %s (CIS %s) not reported", id, cis)
		}
		if !slices.Contains(catalogue[id], cis) {
			t.Errorf("%s: CIS %v, want %s", id, catalogue[id], cis)
		}
	}
	for id, msgs := range bad {
		t.Logf("insecure: %-40s %v %s", id, catalogue[id], msgs[0])
	}
}

func catalogueCIS(t *testing.T) map[string][]string {
	t.Helper()
	var entries []struct {
		ID         string `json:"id"`
		Frameworks struct {
			CIS []string `json:"cis"`
		} `json:"frameworks"`
	}
	if err := json.Unmarshal([]byte(run(t, "", "checks", "-o", "json").stdout), &entries); err != nil {
		t.Fatal(err)
	}
	out := map[string][]string{}
	for _, e := range entries {
		out[e.ID] = e.Frameworks.CIS
	}
	return out
}

// TestVerifyEncryptionAgainstEtcd: a Secret written without an encryption
// configuration is stored in plain text; with secretbox it is encrypted.
// No value reaches the output.
func TestVerifyEncryptionAgainstEtcd(t *testing.T) {
	if testing.Short() {
		t.Skip("integration test: starts two control planes")
	}
	const value = "do-not-print-this-value"
	for _, tc := range []struct {
		name      string
		cluster   func(*testing.T) *testcluster.Cluster
		code      int
		wantWords []string
	}{
		{"no encryption config", insecureControlPlane, ExitFindings, []string{"plain text (protobuf)"}},
		{"secretbox", hardenedControlPlane, ExitOK, []string{"encrypted", "secretbox v1", "key1"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := tc.cluster(t)
			ctx := context.Background()
			_, err := c.Client(t).CoreV1().Secrets("default").Create(ctx, &corev1.Secret{
				ObjectMeta: metav1.ObjectMeta{Name: "db"},
				StringData: map[string]string{"password": value},
			}, metav1.CreateOptions{})
			if err != nil {
				t.Fatal(err)
			}
			base := []string{"etcd", "verify-encryption", "--endpoints", c.Etcd.Endpoint}
			if c.Etcd.CA != "" {
				base = append(base, "--cacert", c.Etcd.CA, "--cert", c.Etcd.Cert, "--key", c.Etcd.Key)
			}
			r := run(t, "", append(slices.Clone(base), "--secret", "default/db")...)
			if r.code != tc.code {
				t.Fatalf("exit %d, want %d\n%s%s", r.code, tc.code, r.stdout, r.stderr)
			}
			for _, w := range tc.wantWords {
				if !strings.Contains(r.stdout, w) {
					t.Errorf("output lacks %q:\n%s", w, r.stdout)
				}
			}
			// Without --secret: a keys-only listing finds it too.
			all := run(t, "", append(slices.Clone(base), "-o", "json")...)
			if !strings.Contains(all.stdout, `"name": "db"`) {
				t.Errorf("listing did not find default/db:\n%s%s", all.stdout, all.stderr)
			}
			if wrong := run(t, "", append(slices.Clone(base), "--prefix", "/elsewhere", "--limit", "1")...); wrong.code != ExitError || !strings.Contains(wrong.stderr, "no Secrets under /elsewhere/secrets/") {
				t.Errorf("--prefix /elsewhere: exit %d, stderr %q", wrong.code, wrong.stderr)
			}
			for _, out := range []string{r.stdout, r.stderr, all.stdout, all.stderr} {
				if strings.Contains(out, value) || strings.Contains(out, base64.StdEncoding.EncodeToString([]byte(value))) {
					t.Fatalf("the secret value leaked into the output:\n%s", out)
				}
			}
			t.Logf("%s:\n%s", tc.name, r.stdout)
		})
	}
	// A wrong endpoint is a clear error, exit 2.
	if r := run(t, "", "etcd", "verify-encryption", "--endpoints", "http://127.0.0.1:1", "--timeout", "2s"); r.code != ExitError || r.stderr == "" {
		t.Errorf("unreachable etcd: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestScanStaticPodManifests: scanning a kubeadm manifest directory
// reports flag problems on the Pod objects, at the flag's line (or the
// command list's, for a flag that is missing).
func TestScanStaticPodManifests(t *testing.T) {
	rep := jsonReport(t, run(t, "", "scan", "../../examples/insecure/control-plane", "-o", "json", "--fail-on", "none"))
	type at struct {
		kind, name string
		line       int
	}
	want := map[string]at{
		"apiserver-anonymous-auth":             {"Pod", "kube-apiserver", 21}, // --anonymous-auth=true
		"apiserver-authorization-always-allow": {"Pod", "kube-apiserver", 22},
		"apiserver-profiling":                  {"Pod", "kube-apiserver", 29},
		"apiserver-encryption-config":          {"Pod", "kube-apiserver", 18}, // missing: the command list
		"apiserver-audit-log-maxage":           {"Pod", "kube-apiserver-cp-2", 23},
		"etcd-client-cert-auth":                {"Pod", "etcd", 16}, // missing: the command list
		"kube-proxy-metrics-bind-address":      {"DaemonSet", "kube-proxy", 25},
		"kubelet-read-only-port":               {"KubeletConfiguration", "", 11},
		"encryption-secrets-not-encrypted":     {"EncryptionConfiguration", "", 6},
		"audit-policy-logs-secret-data":        {"Policy", "", 5},
	}
	for _, f := range rep.Findings {
		w, ok := want[f.Check]
		if !ok || f.Object.Name != w.name {
			continue
		}
		if f.Object.Kind != w.kind || f.Source.Line != w.line {
			t.Errorf("%s: on %s %s at %+v, want %s line %d", f.Check, f.Object.Kind, f.Object.Name, f.Source, w.kind, w.line)
		}
		delete(want, f.Check)
	}
	for id := range want {
		t.Errorf("%s not reported", id)
	}
}

// TestNodeFromCapturedFilesystem runs `kubeharden node --root` on a
// captured kubeadm node, then collect → --facts, which must agree.
func TestNodeFromCapturedFilesystem(t *testing.T) {
	root := t.TempDir()
	files := map[string]string{
		"etc/kubernetes/manifests/kube-apiserver.yaml": "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --authorization-mode=AlwaysAllow, --audit-policy-file=/etc/kubernetes/audit.yaml]\n",
		"etc/kubernetes/audit.yaml":                    "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: RequestResponse\n",
		"etc/kubernetes/admin.conf":                    "apiVersion: v1\nkind: Config\n",
		"var/lib/kubelet/config.yaml":                  "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication: {anonymous: {enabled: true}}\n",
		"etc/systemd/system/kubelet.service":           "[Service]\nExecStart=/usr/bin/kubelet --config=/var/lib/kubelet/config.yaml\n",
	}
	for path, content := range files {
		full := root + "/" + path
		if err := os.MkdirAll(full[:strings.LastIndex(full, "/")], 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(full, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	r := run(t, "", "node", "--root", root, "-o", "json")
	if r.code != ExitFindings {
		t.Fatalf("exit %d, want %d\n%s", r.code, ExitFindings, r.stderr)
	}
	live := checkIDs(jsonReport(t, r))
	for _, id := range []string{"apiserver-authorization-always-allow", "audit-policy-logs-secret-data", "file-admin-kubeconfig-mode", "file-apiserver-manifest-mode", "kubelet-anonymous-auth", "file-kubelet-config-mode", "file-kubelet-service-mode"} {
		if live[id] == 0 {
			t.Errorf("%s not reported; got %v", id, live)
		}
	}
	facts := run(t, "", "node", "collect", "--root", root)
	if facts.code != ExitOK {
		t.Fatalf("collect: exit %d\n%s", facts.code, facts.stderr)
	}
	path := t.TempDir() + "/node.json"
	if err := os.WriteFile(path, []byte(facts.stdout), 0o600); err != nil {
		t.Fatal(err)
	}
	offline := checkIDs(jsonReport(t, run(t, "", "node", "--facts", path, "-o", "json")))
	if !maps.Equal(live, offline) {
		t.Errorf("--facts disagrees with --root:\n%v\n%v", live, offline)
	}
	// A worker of a managed cluster: no control plane, said once.
	worker := t.TempDir()
	if err := os.MkdirAll(worker+"/etc/systemd/system", 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(worker+"/etc/systemd/system/kubelet.service", []byte("ExecStart=/usr/bin/kubelet --anonymous-auth=false\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	w := run(t, "", "node", "--root", worker, "--fail-on", "none")
	if w.code != ExitOK || !strings.Contains(w.stderr, "control-plane checks do not apply") {
		t.Errorf("worker: exit %d, stderr %q", w.code, w.stderr)
	}
	for _, bad := range [][]string{{"node", "--root", worker + "/missing"}, {"node", "--facts", worker + "/missing.json"}} {
		if r := run(t, "", bad...); r.code != ExitError {
			t.Errorf("%v: exit %d, want %d", bad, r.code, ExitError)
		}
	}
}

// TestNodeFindingsHonourIgnoreAnnotations: kubeharden.io/ignore on a
// static pod silences node findings about it, like any other finding.
func TestNodeFindingsHonourIgnoreAnnotations(t *testing.T) {
	pod := "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\n  annotations: {kubeharden.io/ignore: apiserver-profiling}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --profiling=true]\n"
	ids := checkIDs(jsonReport(t, run(t, pod, "scan", "-", "-o", "json", "--fail-on", "none")))
	if ids["apiserver-profiling"] != 0 || ids["apiserver-anonymous-auth"] == 0 {
		t.Errorf("ignore annotation not applied to node findings: %v", ids)
	}
}

func TestNodeAndEtcdUsageErrors(t *testing.T) {
	for _, args := range [][]string{
		{"etcd", "verify-encryption", "--secret", "no-slash"},
		{"etcd", "verify-encryption", "--limit", "0"},
		{"etcd", "verify-encryption", "-o", "xml"},
		{"etcd", "verify-encryption", "--endpoints", "", "--timeout", "1s"},
		{"node", "-o", "xml"},
		{"node", "extra-argument"},
	} {
		if r := run(t, "", args...); r.code != ExitError || r.stderr == "" {
			t.Errorf("%v: exit %d, stderr %q", args, r.code, r.stderr)
		}
	}
	// An empty capture: nothing found, said once, exit 0.
	if r := run(t, "", "node", "--no-processes", "--root", t.TempDir(), "--fail-on", "none", "-o", "json"); r.code != ExitOK || !strings.Contains(r.stderr, "no Kubernetes component found") {
		t.Errorf("node --no-processes: exit %d: %s", r.code, r.stderr)
	}
}

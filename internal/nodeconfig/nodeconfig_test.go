package nodeconfig

import (
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"testing"
)

func TestParseArgs(t *testing.T) {
	cases := []struct {
		argv []string
		want []Arg
	}{
		{[]string{"--a=b", "--profiling", "--anonymous-auth", "--x", "y"}, []Arg{{Name: "a", Value: "b"}, {Name: "profiling", Value: "true"}, {Name: "anonymous-auth", Value: "true"}, {Name: "x", Value: "y"}}},
		{[]string{"--last", "-v=2", "pos"}, []Arg{{Name: "last", Value: "true"}, {Name: "v", Value: "2"}, {Value: "pos"}}},
		{[]string{"--profiling", "false"}, []Arg{{Name: "profiling", Value: "true"}, {Value: "false"}}}, // pflag: a bare bool never takes the next word
		{[]string{"--empty=", "--x", "--y"}, []Arg{{Name: "empty"}, {Name: "x", Value: "true"}, {Name: "y", Value: "true"}}},
	}
	for _, tc := range cases {
		got := ParseArgs(tc.argv, func(int) string { return "" })
		if !reflect.DeepEqual(got, tc.want) {
			t.Errorf("ParseArgs(%q) = %+v, want %+v", tc.argv, got, tc.want)
		}
	}
	c := &Component{Args: ParseArgs([]string{"--mode=A", "--mode=B", "--feature-gates=X=true,RotateKubeletServerCertificate=false"}, processPath)}
	if f := c.Flag("mode"); f.Value != "B" || f.Path != "args[2]" {
		t.Errorf("last flag wins: got %+v", f)
	}
	if on, set := c.FeatureGate("RotateKubeletServerCertificate"); on || !set {
		t.Errorf("feature gate: on=%v set=%v", on, set)
	}
}

func TestKubeletPrecedence(t *testing.T) {
	withConfig := &Component{
		Kind: Kubelet,
		Args: ParseArgs([]string{"--config=/var/lib/kubelet/config.yaml", "--read-only-port=10255"}, processPath),
		KubeletConfig: &ConfigFile{Path: "/var/lib/kubelet/config.yaml", Config: map[string]any{
			"readOnlyPort":   float64(0),
			"authentication": map[string]any{"anonymous": map[string]any{"enabled": true}},
		}},
	}
	flagsOnly := &Component{Kind: Kubelet}
	cases := []struct {
		c       *Component
		s       KubeletSetting
		want    string
		origin  Origin
		summary string
	}{
		{withConfig, KubeletReadOnlyPort, "10255", FromFlag, "a flag overrides the config file"},
		{withConfig, KubeletAnonymousAuth, "true", FromConfigFile, "the config file overrides the default"},
		{withConfig, KubeletAuthorizationMode, "Webhook", FromDefault, "config-file default"},
		{flagsOnly, KubeletAuthorizationMode, "AlwaysAllow", FromDefault, "legacy flag default without --config"},
		{flagsOnly, KubeletReadOnlyPort, "10255", FromDefault, "legacy read-only port"},
		{flagsOnly, KubeletAnonymousAuth, "true", FromDefault, "legacy anonymous auth"},
	}
	for _, tc := range cases {
		if v := tc.c.Kubelet(tc.s); v.Value != tc.want || v.Origin != tc.origin {
			t.Errorf("%s: %s = %q (origin %d, %s), want %q (origin %d)", tc.summary, tc.s.Field, v.Value, v.Origin, v.Where, tc.want, tc.origin)
		}
	}
}

func TestEncryptionConfig(t *testing.T) {
	const secret = "c2VjcmV0IGlzIHNlY3VyZQ==" // 16 bytes
	cfg, err := ParseEncryptionConfig("enc.yaml", []byte(`apiVersion: apiserver.config.k8s.io/v1
kind: EncryptionConfiguration
resources:
- resources: [configmaps, "*.apps"]
  providers: [{identity: {}}]
- resources: [secrets]
  providers:
  - aesgcm: {keys: [{name: k1, secret: `+secret+`}, {name: short, secret: c2hvcnQ=}]}
  - kms: {apiVersion: v2, name: vault, endpoint: "unix:///kms.sock"}
  - identity: {}
`))
	if err != nil {
		t.Fatal(err)
	}
	rule, ok := cfg.RuleFor("secrets", "")
	if !ok || rule.Writer().Type != "aesgcm" || rule.Writer().Keys[0].Bytes != 16 || !rule.Writer().Keys[0].ValidBase64 {
		t.Fatalf("secrets rule: %+v", rule)
	}
	if r, ok := cfg.RuleFor("deployments", "apps"); !ok || r.Writer().Type != "identity" {
		t.Errorf("*.apps should match deployments.apps: %+v %v", r, ok)
	}
	if _, ok := cfg.RuleFor("deployments", "batch"); ok {
		t.Error("*.apps must not match batch")
	}
	if len(cfg.Invalid) != 1 || !strings.Contains(cfg.Invalid[0], "keys[1].secret") {
		t.Errorf("the 5-byte key should be the one validation error: %q", cfg.Invalid)
	}
	out, _ := json.Marshal(cfg)
	if strings.Contains(string(out), secret) || strings.Contains(string(out), "c2hvcnQ=") {
		t.Fatalf("key material in the model: %s", out)
	}
	for _, bad := range []string{"resources: [", "apiVersion: v1\nkind: Pod\n", "kind: EncryptionConfiguration\napiVersion: apiserver.config.k8s.io/v1\nresources:\n- resources: [secrets]\n  providers:\n  - aescbc: {keys: [{name: k, secret: \"" + secret + "\" extra}]}\n"} {
		if _, err := ParseEncryptionConfig("bad.yaml", []byte(bad)); err == nil {
			t.Errorf("%q: no error", bad)
		} else if strings.Contains(err.Error(), secret) {
			t.Errorf("error quotes the key: %v", err)
		}
	}
}

func TestAuditPolicyEvaluation(t *testing.T) {
	p, err := ParseAuditPolicy("p.yaml", []byte(`apiVersion: audit.k8s.io/v1
kind: Policy
omitStages: [RequestReceived]
rules:
- level: None
  users: [system:kube-proxy]
- level: Metadata
  resources: [{group: "", resources: [secrets]}]
- level: RequestResponse
  resources: [{group: "", resources: ["pods/exec"]}]
- level: Request
  verbs: [create]
`))
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		r    AuditRequest
		want Level
	}{
		{AuditRequest{User: "system:kube-proxy", Verb: "create", Resource: "pods"}, LevelNone},
		{AuditRequest{User: "jane", Verb: "create", Resource: "secrets"}, LevelMetadata},
		{AuditRequest{User: "jane", Verb: "create", Resource: "pods", Subresource: "exec"}, LevelRequestResponse},
		{AuditRequest{User: "jane", Verb: "create", Resource: "pods"}, LevelRequest},
		{AuditRequest{User: "jane", Verb: "get", Resource: "pods"}, LevelNone},
		{AuditRequest{User: "jane", Verb: "get", Path: "/api"}, LevelNone},
	}
	for _, tc := range cases {
		d := p.Evaluate(tc.r)
		if d.Level != tc.want {
			t.Errorf("%+v: level %s, want %s", tc.r, d.Level, tc.want)
		}
		if slices.Contains(d.Stages, "RequestReceived") {
			t.Errorf("%+v: RequestReceived should be omitted: %v", tc.r, d.Stages)
		}
	}
	if _, err := ParseAuditPolicy("bad.yaml", []byte("apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Loud\n")); err == nil {
		t.Error("an invalid level must be an error")
	}
}

// writeTree writes files (path → content) under root with the given modes.
func writeTree(t *testing.T, root string, files map[string]string, modes map[string]os.FileMode) {
	t.Helper()
	for path, content := range files {
		full := filepath.Join(root, path)
		if err := os.MkdirAll(filepath.Dir(full), 0o755); err != nil {
			t.Fatal(err)
		}
		mode := os.FileMode(0o600)
		if m, ok := modes[path]; ok {
			mode = m
		}
		if err := os.WriteFile(full, []byte(content), mode); err != nil {
			t.Fatal(err)
		}
		if err := os.Chmod(full, mode); err != nil {
			t.Fatal(err)
		}
	}
}

// TestCollectCapturedFilesystem: a kubeadm node captured under a
// directory: static pods with their flags and lines, the kubelet from its
// systemd drop-in and environment file merged with its config file, the
// files the benchmark names with their modes, and no key material.
func TestCollectCapturedFilesystem(t *testing.T) {
	root := t.TempDir()
	writeTree(t, root, map[string]string{
		"etc/hostname": "cp-1\n",
		"etc/passwd":   "root:x:0:0:root:/root:/bin/bash\netcd:x:998:998::/var/lib/etcd:/sbin/nologin\n",
		"etc/group":    "root:x:0:\netcd:x:998:\n",
		"etc/kubernetes/manifests/kube-apiserver.yaml":         "apiVersion: v1\nkind: Pod\nmetadata:\n  name: kube-apiserver\n  namespace: kube-system\nspec:\n  containers:\n  - name: kube-apiserver\n    command:\n    - kube-apiserver\n    - --authorization-mode=Node,RBAC\n    - --encryption-provider-config=/etc/kubernetes/enc.yaml\n    - --audit-policy-file=/etc/kubernetes/audit.yaml\n    - --client-ca-file=/etc/kubernetes/pki/ca.crt\n",
		"etc/kubernetes/manifests/etcd.yaml":                   "apiVersion: v1\nkind: Pod\nmetadata: {name: etcd, namespace: kube-system}\nspec:\n  containers:\n  - name: etcd\n    command: [etcd, --data-dir=/var/lib/etcd, --client-cert-auth=true]\n",
		"etc/kubernetes/manifests/notes.txt":                   "not a manifest",
		"etc/kubernetes/enc.yaml":                              "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - secretbox: {keys: [{name: k1, secret: MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=}]}\n",
		"etc/kubernetes/audit.yaml":                            "apiVersion: audit.k8s.io/v1\nkind: Policy\nrules:\n- level: Metadata\n",
		"etc/kubernetes/admin.conf":                            "apiVersion: v1\nkind: Config\n",
		"etc/kubernetes/pki/ca.crt":                            "-----BEGIN CERTIFICATE-----\nMIIB\n-----END CERTIFICATE-----\n",
		"etc/kubernetes/pki/ca.key":                            "-----BEGIN EC PRIVATE KEY-----\nMHc\n-----END EC PRIVATE KEY-----\n",
		"etc/kubernetes/pki/sa.pub":                            "-----BEGIN PUBLIC KEY-----\nMFk\n-----END PUBLIC KEY-----\n",
		"etc/systemd/system/kubelet.service.d/10-kubeadm.conf": "[Service]\nEnvironment=\"KUBELET_KUBECONFIG_ARGS=--bootstrap-kubeconfig=/etc/kubernetes/bootstrap-kubelet.conf --kubeconfig=/etc/kubernetes/kubelet.conf\"\nEnvironment=\"KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml\"\nEnvironmentFile=-/var/lib/kubelet/kubeadm-flags.env\nExecStart=/usr/bin/kubelet $KUBELET_KUBECONFIG_ARGS $KUBELET_CONFIG_ARGS $KUBELET_KUBEADM_ARGS\n",
		"var/lib/kubelet/kubeadm-flags.env":                    "KUBELET_KUBEADM_ARGS=\"--container-runtime-endpoint=unix:///run/containerd/containerd.sock --read-only-port=10255\"\n",
		"var/lib/kubelet/config.yaml":                          "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nreadOnlyPort: 0\nauthentication:\n  x509:\n    clientCAFile: /etc/kubernetes/pki/ca.crt\n",
	}, map[string]os.FileMode{"etc/kubernetes/manifests/kube-apiserver.yaml": 0o644, "etc/kubernetes/pki/ca.crt": 0o644, "etc/kubernetes/pki/sa.pub": 0o644})
	if err := os.MkdirAll(filepath.Join(root, "var/lib/etcd"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(filepath.Join(root, "var/lib/etcd"), 0o755); err != nil {
		t.Fatal(err)
	}

	n, err := Collect(context.Background(), Options{Root: root, NoProcesses: true})
	if err != nil {
		t.Fatal(err)
	}
	if n.Hostname != "cp-1" || !n.ControlPlaneVisible() {
		t.Errorf("hostname %q, control plane visible %v", n.Hostname, n.ControlPlaneVisible())
	}
	var kinds []Kind
	for _, c := range n.Components {
		kinds = append(kinds, c.Kind)
	}
	if want := []Kind{APIServer, Etcd, Kubelet}; !reflect.DeepEqual(kinds, want) {
		t.Fatalf("components %v, want %v", kinds, want)
	}
	api := n.Component(APIServer)
	if f := api.Flag("authorization-mode"); f.Value != "Node,RBAC" || f.Path != "spec.containers[0].command[1]" || f.Line != 11 {
		t.Errorf("authorization-mode: %+v (want line 11)", f)
	}
	if api.Ref.Kind != "Pod" || api.Ref.Namespace != "kube-system" || api.Source.File != "/etc/kubernetes/manifests/kube-apiserver.yaml" {
		t.Errorf("apiserver ref %+v source %+v", api.Ref, api.Source)
	}
	if api.Encryption == nil || api.Encryption.Rules[0].Writer().Type != "secretbox" || api.Encryption.Rules[0].Writer().Keys[0].Bytes != 32 {
		t.Errorf("encryption: %+v", api.Encryption)
	}
	if api.AuditPolicy == nil || !strings.Contains(api.AuditPolicy.Content, "Metadata") {
		t.Errorf("audit policy: %+v", api.AuditPolicy)
	}
	kubelet := n.Component(Kubelet)
	if kubelet.Source.File != "/etc/systemd/system/kubelet.service.d/10-kubeadm.conf" {
		t.Errorf("kubelet source %+v", kubelet.Source)
	}
	if v := kubelet.Kubelet(KubeletReadOnlyPort); v.Value != "10255" || v.Origin != FromFlag {
		t.Errorf("the env file's flag must override the config file: %+v", v)
	}
	if v := kubelet.Kubelet(KubeletAuthorizationMode); v.Value != "Webhook" {
		t.Errorf("with --config the default authorization is Webhook: %+v", v)
	}
	file := func(path string) *File {
		f := n.File(path)
		if f == nil {
			t.Fatalf("%s not collected; files: %v", path, n.Files)
		}
		return f
	}
	if f := file("/etc/kubernetes/manifests/kube-apiserver.yaml"); f.ModeString() != "644" || f.Component != APIServer || !slices.Contains(f.Roles, RoleManifest) {
		t.Errorf("manifest fact %+v", f)
	}
	if f := file("/var/lib/etcd"); !f.Dir || f.ModeString() != "755" || !slices.Contains(f.Roles, RoleEtcdDataDir) {
		t.Errorf("etcd data dir %+v", f)
	}
	if f := file("/etc/kubernetes/pki/ca.key"); !slices.Contains(f.Roles, RolePKIKey) {
		t.Errorf("ca.key roles %v", f.Roles)
	}
	if f := file("/etc/kubernetes/pki/sa.pub"); !slices.Contains(f.Roles, RolePKICert) {
		t.Errorf("a public key is not a private key: %v", f.Roles)
	}
	if f := file("/etc/kubernetes/pki/ca.crt"); !slices.Contains(f.Roles, RoleKubeletClientCA) || !slices.Contains(f.Roles, RolePKICert) {
		t.Errorf("ca.crt roles %v", f.Roles)
	}
	if f := file("/etc/kubernetes/admin.conf"); !slices.Contains(f.Roles, RoleAdminKubeconfig) {
		t.Errorf("admin.conf roles %v", f.Roles)
	}
	if f := n.File("/etc/kubernetes/kubelet.conf"); f == nil || f.Exists {
		t.Errorf("kubelet.conf is named by a flag but missing: %+v", f)
	}

	// Round trip: the JSON facts evaluate the same, and hold no key.
	data, err := json.Marshal(n)
	if err != nil {
		t.Fatal(err)
	}
	if strings.Contains(string(data), "MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=") {
		t.Fatal("the encryption key is in the collected facts")
	}
	var back Node
	if err := json.Unmarshal(data, &back); err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(n, &back) {
		t.Errorf("facts do not round-trip through JSON")
	}
}

func TestCollectRejectsMissingRoot(t *testing.T) {
	if _, err := Collect(context.Background(), Options{Root: filepath.Join(t.TempDir(), "nope")}); err == nil {
		t.Error("a missing --root must be an error")
	}
}

func TestUnitFlags(t *testing.T) {
	cases := map[string][]string{
		`Environment="KUBELET_CONFIG_ARGS=--config=/var/lib/kubelet/config.yaml"`: {"--config=/var/lib/kubelet/config.yaml"},
		`ExecStart=/usr/bin/kubelet --a=b --c`:                                    {"--a=b", "--c"},
		`KUBELET_KUBEADM_ARGS="--x=1 --y=2"`:                                      {"--x=1", "--y=2"},
		`# Environment="--commented=out"`:                                         nil,
		`ExecStart=/usr/bin/kubelet $KUBELET_ARGS`:                                nil,
	}
	for line, want := range cases {
		if got := unitFlags(line); !reflect.DeepEqual(got, want) {
			t.Errorf("unitFlags(%q) = %q, want %q", line, got, want)
		}
	}
}

// TestProcessRunningItsManifest: a process running exactly its static
// pod's flags is reported as the Pod at the flags' lines; one that runs
// other flags (the manifest was edited) is checked as the process, with a
// note.
func TestProcessRunningItsManifest(t *testing.T) {
	manifest := "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-scheduler, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-scheduler\n    command:\n    - kube-scheduler\n    - --profiling=true\n    - --bind-address=0.0.0.0\n"
	for _, tc := range []struct {
		name    string
		cmdline string
		wantRef string
		note    bool
	}{
		{"same flags", "kube-scheduler\x00--bind-address=0.0.0.0\x00--profiling=true\x00", "Pod", false},
		{"edited manifest", "kube-scheduler\x00--profiling=false\x00", "Component", true},
	} {
		root := t.TempDir()
		writeTree(t, root, map[string]string{
			"etc/kubernetes/manifests/kube-scheduler.yaml": manifest,
			"proc/4242/cmdline":                            tc.cmdline,
			"proc/4242/status":                             "Name:\tkube-scheduler\nUid:\t0\t0\t0\t0\n",
		}, nil)
		n, err := Collect(context.Background(), Options{Root: root})
		if err != nil {
			t.Fatal(err)
		}
		c := n.Component(Scheduler)
		if c == nil || c.Ref.Kind != tc.wantRef || c.PID != 4242 || c.UID != 0 {
			t.Fatalf("%s: %+v", tc.name, c)
		}
		if f := c.Flag("profiling"); tc.wantRef == "Pod" && (f.Line != 9 || c.Source.File != "/etc/kubernetes/manifests/kube-scheduler.yaml") {
			t.Errorf("%s: profiling at %+v in %+v", tc.name, f, c.Source)
		}
		if got := len(n.Notes) > 0; got != tc.note {
			t.Errorf("%s: notes %q", tc.name, n.Notes)
		}
	}
}

func TestSameValue(t *testing.T) {
	for _, tc := range []struct {
		v, want string
		same    bool
	}{
		{"false", "false", true}, {"0", "false", true}, {"F", "false", true}, {"True", "true", true},
		{"1", "false", false}, {"AlwaysAllow", "alwaysallow", true}, {"Webhook", "AlwaysAllow", false}, {" 0 ", "0", true},
	} {
		if got := SameValue(tc.v, tc.want); got != tc.same {
			t.Errorf("SameValue(%q, %q) = %v", tc.v, tc.want, got)
		}
	}
	if a := (&Component{Args: ParseArgs([]string{"--anonymous-auth=0"}, processPath)}).AnonymousAuth(); a.Enabled {
		t.Error("--anonymous-auth=0 disables anonymous access")
	}
}

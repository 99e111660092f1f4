package checks

import (
	"context"
	"io/fs"
	"slices"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// hardenedArgs are the flags of a control plane that satisfies every
// decidable item of the benchmark (a kubeadm cluster with the benchmark's
// remediations applied).
var hardenedArgs = map[nodeconfig.Kind][]string{
	nodeconfig.APIServer: {
		"--anonymous-auth=false", "--authorization-mode=Node,RBAC",
		"--enable-admission-plugins=NodeRestriction,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs",
		"--admission-control-config-file=/etc/kubernetes/admission.yaml",
		"--kubelet-client-certificate=/etc/kubernetes/pki/apiserver-kubelet-client.crt", "--kubelet-client-key=/etc/kubernetes/pki/apiserver-kubelet-client.key",
		"--kubelet-certificate-authority=/etc/kubernetes/pki/ca.crt",
		"--profiling=false", "--audit-log-path=/var/log/kubernetes/audit.log", "--audit-policy-file=/etc/kubernetes/audit-policy.yaml",
		"--audit-log-maxage=30", "--audit-log-maxbackup=10", "--audit-log-maxsize=100",
		"--service-account-lookup=true", "--service-account-key-file=/etc/kubernetes/pki/sa.pub",
		"--etcd-certfile=/etc/kubernetes/pki/apiserver-etcd-client.crt", "--etcd-keyfile=/etc/kubernetes/pki/apiserver-etcd-client.key",
		"--etcd-cafile=/etc/kubernetes/pki/etcd/ca.crt",
		"--tls-cert-file=/etc/kubernetes/pki/apiserver.crt", "--tls-private-key-file=/etc/kubernetes/pki/apiserver.key",
		"--client-ca-file=/etc/kubernetes/pki/ca.crt", "--encryption-provider-config=/etc/kubernetes/enc.yaml",
		"--tls-cipher-suites=TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384",
		"--service-account-extend-token-expiration=false",
	},
	nodeconfig.ControllerManager: {
		"--profiling=false", "--use-service-account-credentials=true", "--service-account-private-key-file=/etc/kubernetes/pki/sa.key",
		"--root-ca-file=/etc/kubernetes/pki/ca.crt", "--bind-address=127.0.0.1", "--kubeconfig=/etc/kubernetes/controller-manager.conf",
	},
	nodeconfig.Scheduler: {"--profiling=false", "--bind-address=127.0.0.1", "--kubeconfig=/etc/kubernetes/scheduler.conf"},
	nodeconfig.Etcd: {
		"--cert-file=/etc/kubernetes/pki/etcd/server.crt", "--key-file=/etc/kubernetes/pki/etcd/server.key", "--client-cert-auth=true",
		"--trusted-ca-file=/etc/kubernetes/pki/etcd/ca.crt", "--peer-cert-file=/etc/kubernetes/pki/etcd/peer.crt",
		"--peer-key-file=/etc/kubernetes/pki/etcd/peer.key", "--peer-client-cert-auth=true", "--data-dir=/var/lib/etcd",
		"--initial-cluster=a=https://10.0.0.1:2380,b=https://10.0.0.2:2380", "--listen-peer-urls=https://10.0.0.1:2380",
	},
	nodeconfig.Kubelet: {"--config=/var/lib/kubelet/config.yaml", "--kubeconfig=/etc/kubernetes/kubelet.conf"},
	nodeconfig.Proxy:   {"--metrics-bind-address=127.0.0.1:10249", "--kubeconfig=/var/lib/kube-proxy/kubeconfig.conf"},
}

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
  resources:
  - group: ""
    resources: [pods]
- level: Metadata
`

func hardenedKubeletConfig() map[string]any {
	return map[string]any{
		"apiVersion":     "kubelet.config.k8s.io/v1beta1",
		"kind":           "KubeletConfiguration",
		"authentication": map[string]any{"anonymous": map[string]any{"enabled": false}, "webhook": map[string]any{"enabled": true}, "x509": map[string]any{"clientCAFile": "/etc/kubernetes/pki/ca.crt"}},
		"authorization":  map[string]any{"mode": "Webhook"},
		"readOnlyPort":   float64(0), "serverTLSBootstrap": true, "rotateCertificates": true,
		"tlsCipherSuites": []any{"TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256"},
		"podPidsLimit":    float64(4096), "seccompDefault": true, "protectKernelDefaults": true,
		"streamingConnectionIdleTimeout": "5m",
	}
}

func hardenedNode() *nodeconfig.Node {
	n := &nodeconfig.Node{SchemaVersion: nodeconfig.SchemaVersion}
	for _, k := range nodeconfig.Kinds {
		c := &nodeconfig.Component{Kind: k, UID: 0, Ref: nodeconfig.Ref{APIVersion: "kubeharden.io/v1", Kind: "Component", Name: string(k)},
			Source: nodeconfig.Position{File: "/proc/1/cmdline"}}
		c.Args = nodeconfig.ParseArgs(hardenedArgs[k], func(i int) string { return "args" })
		n.Components = append(n.Components, c)
	}
	api := n.Component(nodeconfig.APIServer)
	api.AuditPolicy = &nodeconfig.TextFile{Path: "/etc/kubernetes/audit-policy.yaml", Content: hardenedAuditPolicy}
	api.Encryption = &nodeconfig.EncryptionConfig{Path: "/etc/kubernetes/enc.yaml", Rules: []nodeconfig.EncryptionRule{{
		Resources: []string{"secrets"},
		Providers: []nodeconfig.EncryptionProvider{{Type: "kms", Name: "vault", KMSAPIVersion: "v2"}, {Type: "identity"}},
	}}}
	n.Component(nodeconfig.Kubelet).KubeletConfig = &nodeconfig.ConfigFile{Path: "/var/lib/kubelet/config.yaml", Config: hardenedKubeletConfig()}
	file := func(path string, mode fs.FileMode, role nodeconfig.FileRole, comp nodeconfig.Kind) {
		n.Files = append(n.Files, &nodeconfig.File{Path: path, Roles: []nodeconfig.FileRole{role}, Component: comp, Exists: true, Mode: mode, UID: 0, GID: 0, User: "root", Group: "root"})
	}
	for _, k := range []nodeconfig.Kind{nodeconfig.APIServer, nodeconfig.ControllerManager, nodeconfig.Scheduler, nodeconfig.Etcd} {
		file("/etc/kubernetes/manifests/"+string(k)+".yaml", 0o600, nodeconfig.RoleManifest, k)
	}
	file("/etc/cni/net.d/10-calico.conflist", 0o600, nodeconfig.RoleCNIConfig, "")
	file("/var/lib/etcd", 0o700, nodeconfig.RoleEtcdDataDir, nodeconfig.Etcd)
	file("/etc/kubernetes/admin.conf", 0o600, nodeconfig.RoleAdminKubeconfig, "")
	file("/etc/kubernetes/scheduler.conf", 0o600, nodeconfig.RoleSchedulerKubeconfig, nodeconfig.Scheduler)
	file("/etc/kubernetes/controller-manager.conf", 0o600, nodeconfig.RoleControllerKubeconfig, nodeconfig.ControllerManager)
	file("/etc/kubernetes/pki", 0o755, nodeconfig.RolePKIDir, "")
	file("/etc/kubernetes/pki/ca.crt", 0o644, nodeconfig.RolePKICert, "")
	file("/etc/kubernetes/pki/ca.key", 0o600, nodeconfig.RolePKIKey, "")
	file("/etc/systemd/system/kubelet.service.d/10-kubeadm.conf", 0o600, nodeconfig.RoleKubeletService, nodeconfig.Kubelet)
	file("/var/lib/kube-proxy/kubeconfig.conf", 0o600, nodeconfig.RoleProxyKubeconfig, nodeconfig.Proxy)
	file("/etc/kubernetes/kubelet.conf", 0o600, nodeconfig.RoleKubeletKubeconfig, nodeconfig.Kubelet)
	file("/etc/kubernetes/pki/ca.crt", 0o644, nodeconfig.RoleKubeletClientCA, nodeconfig.Kubelet)
	file("/var/lib/kubelet/config.yaml", 0o600, nodeconfig.RoleKubeletConfig, nodeconfig.Kubelet)
	return n
}

// setArg replaces or adds a flag on component k.
func setArg(k nodeconfig.Kind, flag string) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) {
		c := n.Component(k)
		name, _, _ := strings.Cut(strings.TrimPrefix(flag, "--"), "=")
		c.Args = slices.DeleteFunc(c.Args, func(a nodeconfig.Arg) bool { return a.Name == name })
		c.Args = append(c.Args, nodeconfig.ParseArgs([]string{flag}, func(int) string { return "args" })...)
	}
}

// dropArg removes a flag from component k.
func dropArg(k nodeconfig.Kind, name string) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) {
		c := n.Component(k)
		c.Args = slices.DeleteFunc(c.Args, func(a nodeconfig.Arg) bool { return a.Name == name })
	}
}

func kubeletConfig(field string, value any) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) {
		cfg := n.Component(nodeconfig.Kubelet).KubeletConfig.Config
		parts := strings.Split(field, ".")
		for _, p := range parts[:len(parts)-1] {
			cfg = cfg[p].(map[string]any)
		}
		if value == nil {
			delete(cfg, parts[len(parts)-1])
		} else {
			cfg[parts[len(parts)-1]] = value
		}
	}
}

func fileMode(path string, mode fs.FileMode) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) {
		for _, f := range n.Files {
			if f.Path == path {
				f.Mode = mode
			}
		}
	}
}

func fileOwner(path string, uid int, user string) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) {
		for _, f := range n.Files {
			if f.Path == path {
				f.UID, f.User = uid, user
			}
		}
	}
}

func auditPolicy(policy string) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) { n.Component(nodeconfig.APIServer).AuditPolicy.Content = policy }
}

func writer(p nodeconfig.EncryptionProvider) func(*nodeconfig.Node) {
	return func(n *nodeconfig.Node) {
		n.Component(nodeconfig.APIServer).Encryption.Rules[0].Providers[0] = p
	}
}

const (
	api     = nodeconfig.APIServer
	cm      = nodeconfig.ControllerManager
	sched   = nodeconfig.Scheduler
	etcdK   = nodeconfig.Etcd
	kubelet = nodeconfig.Kubelet
)

// breaks makes each node check fire: one change to the hardened node.
var breaks = map[string]func(*nodeconfig.Node){
	"apiserver-anonymous-auth":                        dropArg(api, "anonymous-auth"),
	"apiserver-token-auth-file":                       setArg(api, "--token-auth-file=/etc/kubernetes/tokens.csv"),
	"apiserver-deny-external-ips":                     setArg(api, "--enable-admission-plugins=NodeRestriction"),
	"apiserver-kubelet-client-cert":                   dropArg(api, "kubelet-client-key"),
	"apiserver-kubelet-ca":                            dropArg(api, "kubelet-certificate-authority"),
	"apiserver-authorization-always-allow":            dropArg(api, "authorization-mode"),
	"apiserver-authorization-node":                    setArg(api, "--authorization-mode=RBAC"),
	"apiserver-authorization-rbac":                    setArg(api, "--authorization-mode=Node,Webhook"),
	"apiserver-event-rate-limit":                      setArg(api, "--enable-admission-plugins=NodeRestriction"),
	"apiserver-always-admit":                          setArg(api, "--enable-admission-plugins=NodeRestriction,AlwaysAdmit,EventRateLimit,AlwaysPullImages,DenyServiceExternalIPs"),
	"apiserver-always-pull-images":                    setArg(api, "--enable-admission-plugins=NodeRestriction"),
	"apiserver-serviceaccount-plugin":                 setArg(api, "--disable-admission-plugins=ServiceAccount"),
	"apiserver-namespacelifecycle-plugin":             setArg(api, "--disable-admission-plugins=NamespaceLifecycle"),
	"apiserver-noderestriction-plugin":                setArg(api, "--enable-admission-plugins=EventRateLimit"),
	"apiserver-podsecurity-plugin":                    setArg(api, "--disable-admission-plugins=PodSecurity"),
	"apiserver-profiling":                             dropArg(api, "profiling"),
	"apiserver-audit-log":                             dropArg(api, "audit-log-path"),
	"apiserver-audit-log-maxage":                      setArg(api, "--audit-log-maxage=7"),
	"apiserver-audit-log-maxbackup":                   dropArg(api, "audit-log-maxbackup"),
	"apiserver-audit-log-maxsize":                     setArg(api, "--audit-log-maxsize=10"),
	"apiserver-request-timeout":                       setArg(api, "--request-timeout=0s"),
	"apiserver-service-account-lookup":                setArg(api, "--service-account-lookup=false"),
	"apiserver-service-account-key-file":              dropArg(api, "service-account-key-file"),
	"apiserver-etcd-client-cert":                      dropArg(api, "etcd-certfile"),
	"apiserver-tls-cert":                              dropArg(api, "tls-private-key-file"),
	"apiserver-client-ca":                             dropArg(api, "client-ca-file"),
	"apiserver-etcd-ca":                               dropArg(api, "etcd-cafile"),
	"apiserver-encryption-config":                     dropArg(api, "encryption-provider-config"),
	"apiserver-tls-cipher-suites":                     setArg(api, "--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_CBC_SHA"),
	"apiserver-extend-token-expiration":               dropArg(api, "service-account-extend-token-expiration"),
	"controller-manager-profiling":                    dropArg(cm, "profiling"),
	"controller-manager-service-account-credentials":  dropArg(cm, "use-service-account-credentials"),
	"controller-manager-service-account-key":          dropArg(cm, "service-account-private-key-file"),
	"controller-manager-root-ca":                      dropArg(cm, "root-ca-file"),
	"controller-manager-kubelet-server-cert-rotation": setArg(cm, "--feature-gates=RotateKubeletServerCertificate=false"),
	"controller-manager-bind-address":                 setArg(cm, "--bind-address=0.0.0.0"),
	"scheduler-profiling":                             setArg(sched, "--profiling=true"),
	"scheduler-bind-address":                          dropArg(sched, "bind-address"),
	"encryption-secrets-not-encrypted":                writer(nodeconfig.EncryptionProvider{Type: "identity"}),
	"encryption-weak-provider":                        writer(nodeconfig.EncryptionProvider{Type: "aescbc", Keys: []nodeconfig.Key{{Name: "k", Bytes: 32, ValidBase64: true}}}),
	"encryption-aesgcm-rotation":                      writer(nodeconfig.EncryptionProvider{Type: "aesgcm", Keys: []nodeconfig.Key{{Name: "k", Bytes: 32, ValidBase64: true}}}),
	"encryption-config-invalid": func(n *nodeconfig.Node) {
		n.Component(api).Encryption.Invalid = []string{"resources[0].providers[0].aesgcm.keys[0].secret: Invalid value: \"REDACTED\": secret is not of the expected length"}
	},
	"etcd-tls":                              dropArg(etcdK, "cert-file"),
	"etcd-client-cert-auth":                 dropArg(etcdK, "client-cert-auth"),
	"etcd-auto-tls":                         setArg(etcdK, "--auto-tls=true"),
	"etcd-peer-tls":                         dropArg(etcdK, "peer-key-file"),
	"etcd-peer-client-cert-auth":            setArg(etcdK, "--peer-client-cert-auth=false"),
	"etcd-peer-auto-tls":                    setArg(etcdK, "--peer-auto-tls"),
	"etcd-shared-ca":                        setArg(etcdK, "--trusted-ca-file=/etc/kubernetes/pki/ca.crt"),
	"file-etcd-data-dir-mode":               fileMode("/var/lib/etcd", 0o755),
	"file-etcd-data-dir-owner":              fileOwner("/var/lib/etcd", 1000, "ubuntu"),
	"kubelet-anonymous-auth":                kubeletConfig("authentication.anonymous.enabled", true),
	"kubelet-authorization-always-allow":    setArg(kubelet, "--authorization-mode=AlwaysAllow"),
	"kubelet-client-ca":                     kubeletConfig("authentication.x509.clientCAFile", nil),
	"kubelet-read-only-port":                kubeletConfig("readOnlyPort", float64(10255)),
	"kubelet-streaming-idle-timeout":        kubeletConfig("streamingConnectionIdleTimeout", "0s"),
	"kubelet-iptables-util-chains":          setArg(kubelet, "--make-iptables-util-chains=false"),
	"kubelet-hostname-override":             setArg(kubelet, "--hostname-override=node-a"),
	"kubelet-tls-cert":                      kubeletConfig("serverTLSBootstrap", nil),
	"kubelet-rotate-certificates":           kubeletConfig("rotateCertificates", false),
	"kubelet-server-cert-rotation-disabled": kubeletConfig("featureGates", map[string]any{"RotateKubeletServerCertificate": false}),
	"kubelet-tls-cipher-suites":             kubeletConfig("tlsCipherSuites", []any{"TLS_RSA_WITH_RC4_128_SHA"}),
	"kubelet-pod-pids-limit":                kubeletConfig("podPidsLimit", nil),
	"kubelet-seccomp-default":               kubeletConfig("seccompDefault", nil),
	"kubelet-protect-kernel-defaults":       kubeletConfig("protectKernelDefaults", false),
	"kube-proxy-metrics-bind-address":       setArg(nodeconfig.Proxy, "--metrics-bind-address=0.0.0.0:10249"),
	"audit-policy-missing":                  dropArg(api, "audit-policy-file"),
	"audit-policy-records-nothing":          auditPolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: None\n"),
	"audit-policy-logs-secret-data":         auditPolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: RequestResponse\n"),
	"audit-policy-request-received":         auditPolicy(strings.Replace(hardenedAuditPolicy, "omitStages: [RequestReceived]\n", "", 1)),
	"audit-policy-coverage": auditPolicy("apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n" +
		"- level: None\n  resources:\n  - group: \"\"\n    resources: [pods/exec]\n- level: Metadata\n"),
}

func init() {
	for path, id := range map[string]string{
		"/etc/kubernetes/manifests/kube-apiserver.yaml":          "file-apiserver-manifest",
		"/etc/kubernetes/manifests/kube-controller-manager.yaml": "file-controller-manager-manifest",
		"/etc/kubernetes/manifests/kube-scheduler.yaml":          "file-scheduler-manifest",
		"/etc/kubernetes/manifests/etcd.yaml":                    "file-etcd-manifest",
		"/etc/cni/net.d/10-calico.conflist":                      "file-cni-config",
		"/etc/kubernetes/admin.conf":                             "file-admin-kubeconfig",
		"/etc/kubernetes/scheduler.conf":                         "file-scheduler-kubeconfig",
		"/etc/kubernetes/controller-manager.conf":                "file-controller-manager-kubeconfig",
		"/etc/systemd/system/kubelet.service.d/10-kubeadm.conf":  "file-kubelet-service",
		"/var/lib/kube-proxy/kubeconfig.conf":                    "file-proxy-kubeconfig",
		"/etc/kubernetes/kubelet.conf":                           "file-kubelet-kubeconfig",
		"/var/lib/kubelet/config.yaml":                           "file-kubelet-config",
	} {
		breaks[id+"-mode"] = fileMode(path, 0o666)
		breaks[id+"-owner"] = fileOwner(path, 1000, "ubuntu")
	}
	breaks["file-pki-owner"] = fileOwner("/etc/kubernetes/pki/ca.key", 1000, "ubuntu")
	breaks["file-pki-certificate-mode"] = fileMode("/etc/kubernetes/pki/ca.crt", 0o666)
	breaks["file-pki-key-mode"] = fileMode("/etc/kubernetes/pki/ca.key", 0o640)
	breaks["file-kubelet-client-ca-mode"] = fileMode("/etc/kubernetes/pki/ca.crt", 0o664)
	breaks["file-kubelet-client-ca-owner"] = fileOwner("/etc/kubernetes/pki/ca.crt", 1000, "ubuntu")
}

func runNode(t *testing.T, n *nodeconfig.Node) []check.Finding {
	t.Helper()
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	env := check.NewEnv(inventory.Build(nil), check.Settings{})
	env.Node = n
	out, err := runner.Run(context.Background(), env)
	if err != nil {
		t.Fatal(err)
	}
	return out.Findings
}

// TestNodeChecksFireAndStayQuiet: the hardened node has no finding, and
// each node check fires on its one change. Every node check must have a
// case here.
func TestNodeChecksFireAndStayQuiet(t *testing.T) {
	for _, f := range runNode(t, hardenedNode()) {
		t.Errorf("hardened node: %s on %s: %s", f.Check, f.Object, f.Message)
	}
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range reg.Checks() {
		if c.Node == nil {
			continue
		}
		brk, ok := breaks[c.ID]
		if !ok {
			t.Errorf("node check %s has no case that makes it fire", c.ID)
			continue
		}
		t.Run(c.ID, func(t *testing.T) {
			n := hardenedNode()
			brk(n)
			var fired []string
			for _, f := range runNode(t, n) {
				if f.Object.Kind == "" || f.Object.Name == "" || f.Message == "" {
					t.Errorf("finding without object or message: %+v", f)
				}
				if f.Check == c.ID {
					return
				}
				fired = append(fired, f.Check)
			}
			t.Errorf("%s did not fire (fired: %v)", c.ID, fired)
		})
	}
	for id := range breaks {
		if c, ok := reg.Get(id); !ok || c.Node == nil {
			t.Errorf("case %s names no node check", id)
		}
	}
}

// TestEtcdSidecarInPod: an etcd inside a pod without host networking that
// listens on loopback only is reachable from its pod alone: the client TLS
// items do not apply; with host networking they do.
func TestEtcdSidecarInPod(t *testing.T) {
	reg, err := Registry()
	if err != nil {
		t.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{Selection: check.Selection{Only: []string{"etcd-tls", "etcd-client-cert-auth"}}})
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		hostNetwork string
		want        int
	}{{"false", 0}, {"true", 2}} {
		manifest := "apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: api, namespace: x}\nspec:\n  template:\n    spec:\n      hostNetwork: " + tc.hostNetwork +
			"\n      containers:\n      - name: etcd\n        command: [etcd, --listen-client-urls=http://127.0.0.1:2379]\n"
		out, _, err := runner.Evaluate(context.Background(), source.ParseBytes("d.yaml", []byte(manifest)).Objects, check.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if len(out.Findings) != tc.want {
			t.Errorf("hostNetwork %s: %d findings, want %d: %+v", tc.hostNetwork, len(out.Findings), tc.want, out.Findings)
		}
	}
}

// TestKubeProxyMetricsAddress follows kube-proxy: with --config the file
// decides and the flag is ignored; both default to loopback.
func TestKubeProxyMetricsAddress(t *testing.T) {
	cases := []struct {
		name   string
		args   []string
		config map[string]any
		fires  bool
	}{
		{"default", nil, nil, false},
		{"flag on all interfaces", []string{"--metrics-bind-address=0.0.0.0:10249"}, nil, true},
		{"IPv6 loopback", []string{"--metrics-bind-address=[::1]:10249"}, nil, false},
		{"config file decides", []string{"--config=/c.yaml", "--metrics-bind-address=127.0.0.1:10249"}, map[string]any{"metricsBindAddress": "0.0.0.0:10249"}, true},
		{"config file default", []string{"--config=/c.yaml", "--metrics-bind-address=0.0.0.0:10249"}, map[string]any{}, false},
		{"config file unreadable", []string{"--config=/c.yaml"}, nil, false},
	}
	for _, tc := range cases {
		c := &nodeconfig.Component{Kind: nodeconfig.Proxy, Ref: nodeconfig.Ref{Kind: "Component", Name: "kube-proxy"}, Args: nodeconfig.ParseArgs(tc.args, func(int) string { return "args" })}
		if tc.config != nil {
			c.ProxyConfig = &nodeconfig.ConfigFile{Path: "/c.yaml", Config: tc.config}
		}
		fired := false
		for _, f := range runNode(t, &nodeconfig.Node{Components: []*nodeconfig.Component{c}}) {
			fired = fired || f.Check == "kube-proxy-metrics-bind-address"
		}
		if fired != tc.fires {
			t.Errorf("%s: fired %v, want %v", tc.name, fired, tc.fires)
		}
	}
}

// TestUnknownOwnerGivesNoVerdict: a file whose owner could not be read
// (UID -1, as where the file system has no Unix owners) is neither passed
// nor failed by the ownership checks; its mode is still checked.
func TestUnknownOwnerGivesNoVerdict(t *testing.T) {
	n := hardenedNode()
	for _, f := range n.Files {
		f.UID, f.GID, f.User, f.Group = -1, -1, "", ""
	}
	n.Files[0].Mode = 0o777
	var modes int
	for _, f := range runNode(t, n) {
		if f.Path == "owner" {
			t.Errorf("%s: ownership verdict on an unknown owner: %s", f.Check, f.Message)
		}
		if f.Path == "mode" {
			modes++
		}
	}
	if modes == 0 {
		t.Error("the mode of a file with an unknown owner was not checked")
	}
}

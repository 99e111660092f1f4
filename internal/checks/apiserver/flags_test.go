package apiserver

import (
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

func apiserverPod(flags ...string) string {
	return "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  hostNetwork: true\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, " + strings.Join(flags, ", ") + "]\n"
}

func ids(fs []check.Finding) map[string]string {
	out := map[string]string{}
	for _, f := range fs {
		out[f.Check] += f.Message + ";"
	}
	return out
}

func TestAPIServerFlagSemantics(t *testing.T) {
	cs := append(apiServerFlagChecks(), controlPlaneFlagChecks()...)
	cases := []struct {
		name     string
		manifest string
		fire     []string
		quiet    []string
	}{
		{"defaults", apiserverPod("--etcd-servers=https://127.0.0.1:2379"),
			[]string{"apiserver-anonymous-auth", "apiserver-authorization-always-allow", "apiserver-profiling", "apiserver-noderestriction-plugin"},
			[]string{"apiserver-serviceaccount-plugin", "apiserver-namespacelifecycle-plugin", "apiserver-podsecurity-plugin", "apiserver-always-admit", "apiserver-request-timeout", "apiserver-audit-log-maxage"}},
		{"structured authorization not readable in a scan", apiserverPod("--authorization-config=/etc/kubernetes/authz.yaml"),
			nil, []string{"apiserver-authorization-always-allow", "apiserver-authorization-node", "apiserver-authorization-rbac"}},
		{"later flag wins", apiserverPod("--profiling=false", "--profiling=true"), []string{"apiserver-profiling"}, nil},
		{"disable beats enable", apiserverPod("--enable-admission-plugins=NodeRestriction", "--disable-admission-plugins=NodeRestriction"), []string{"apiserver-noderestriction-plugin"}, nil},
		{"audit to stdout has no file retention", apiserverPod("--audit-log-path=-"), nil, []string{"apiserver-audit-log", "apiserver-audit-log-maxage", "apiserver-audit-log-maxsize"}},
		{"long request timeout", apiserverPod("--request-timeout=1h"), []string{"apiserver-request-timeout"}, nil},
		{"strong ciphers only", apiserverPod("--tls-cipher-suites=TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256"), nil, []string{"apiserver-tls-cipher-suites"}},
		{"image entrypoint: flags unknowable", "apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver}\nspec:\n  containers: [{name: kube-apiserver, image: x}]\n", nil, []string{"apiserver-anonymous-auth", "apiserver-profiling"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(checktest.Run(t, cs, check.Options{}, tc.manifest))
			for _, id := range tc.fire {
				if got[id] == "" {
					t.Errorf("%s did not fire; got %v", id, got)
				}
			}
			for _, id := range tc.quiet {
				if got[id] != "" {
					t.Errorf("%s fired: %s", id, got[id])
				}
			}
		})
	}
}

func TestStructuredAuthConfig(t *testing.T) {
	eval := func(authn, authz string) map[string]string {
		c := &nodeconfig.Component{Kind: nodeconfig.APIServer, Ref: nodeconfig.Ref{Kind: "Component", Name: "kube-apiserver"},
			Args:                 nodeconfig.ParseArgs([]string{"--authentication-config=/a.yaml", "--authorization-config=/z.yaml"}, func(int) string { return "" }),
			AuthenticationConfig: &nodeconfig.TextFile{Path: "/a.yaml", Content: authn},
			AuthorizationConfig:  &nodeconfig.TextFile{Path: "/z.yaml", Content: authz}}
		n := &nodeconfig.Node{Components: []*nodeconfig.Component{c}}
		out := map[string]string{}
		for _, chk := range apiServerFlagChecks() {
			for _, r := range chk.Node(nil, n) {
				out[chk.ID] += r.Message
			}
		}
		return out
	}
	good := eval("anonymous:\n  enabled: true\n  conditions: [{path: /healthz}, {path: /readyz}]\n", "authorizers: [{type: Node, name: node}, {type: RBAC, name: rbac}]\n")
	for _, id := range []string{"apiserver-anonymous-auth", "apiserver-authorization-always-allow", "apiserver-authorization-node", "apiserver-authorization-rbac"} {
		if good[id] != "" {
			t.Errorf("%s fired on a good structured configuration: %s", id, good[id])
		}
	}
	bad := eval("anonymous:\n  enabled: true\n  conditions: [{path: /api}]\n", "authorizers: [{type: Webhook, name: w}]\n")
	for _, id := range []string{"apiserver-anonymous-auth", "apiserver-authorization-node", "apiserver-authorization-rbac"} {
		if bad[id] == "" {
			t.Errorf("%s did not fire on a bad structured configuration", id)
		}
	}
	if !strings.Contains(bad["apiserver-anonymous-auth"], "/api") {
		t.Errorf("message should name the path: %q", bad["apiserver-anonymous-auth"])
	}
}

func TestEncryptionFiles(t *testing.T) {
	cs := encryptionChecks()
	head := "apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n"
	cases := []struct {
		name, body string
		fire       []string
	}{
		{"kms v2", "- resources: [secrets]\n  providers: [{kms: {apiVersion: v2, name: vault, endpoint: 'unix:///k.sock'}}, {identity: {}}]\n", nil},
		{"all core resources with secretbox", "- resources: ['*.']\n  providers: [{secretbox: {keys: [{name: k, secret: MDEyMzQ1Njc4OTAxMjM0NTY3ODkwMTIzNDU2Nzg5MDE=}]}}]\n", nil},
		{"secrets not listed", "- resources: [configmaps]\n  providers: [{kms: {apiVersion: v2, name: vault, endpoint: 'unix:///k.sock'}}]\n", []string{"encryption-secrets-not-encrypted"}},
		{"kms v1", "- resources: [secrets]\n  providers: [{kms: {name: old, endpoint: 'unix:///k.sock', cachesize: 100}}]\n", []string{"encryption-weak-provider"}},
		{"aesgcm", "- resources: [secrets]\n  providers: [{aesgcm: {keys: [{name: k, secret: MDEyMzQ1Njc4OTAxMjM0NQ==}]}}]\n", []string{"encryption-aesgcm-rotation"}},
		{"bad key", "- resources: [secrets]\n  providers: [{secretbox: {keys: [{name: k, secret: c2hvcnQ=}]}}]\n", []string{"encryption-config-invalid"}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := ids(checktest.Run(t, cs, check.Options{}, head+tc.body))
			if len(got) != len(tc.fire) {
				t.Errorf("got %v, want %v", got, tc.fire)
			}
			for _, id := range tc.fire {
				if got[id] == "" {
					t.Errorf("%s did not fire; got %v", id, got)
				}
			}
			for _, msg := range got {
				if strings.Contains(msg, "c2hvcnQ=") || strings.Contains(msg, "MDEy") {
					t.Errorf("a key in a message: %s", msg)
				}
			}
		})
	}
}

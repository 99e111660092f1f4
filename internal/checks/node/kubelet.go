// Package node holds the CIS Kubernetes Benchmark checks on nodes: the
// kubelet's effective configuration (section 4.2, flags merged over its
// config file as the kubelet does), kube-proxy (4.3), and the mode and
// owner of the files sections 1.1 and 4.1 name.
package node

import (
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// Checks returns the node catalogue.
func Checks() ([]*check.Check, error) {
	return append(kubeletChecks(), fileChecks()...), nil
}

func kubeletRule(id, cis string, sev check.Severity, title, desc, fix string, eval nc.Eval) *check.Check {
	m := check.Metadata{ID: id, Title: title, Severity: sev, Category: check.Node, Description: desc, Remediation: fix}
	if cis != "" {
		m.Frameworks.CIS = []string{cis}
	}
	return nc.ComponentRule{Metadata: m, Component: nodeconfig.Kubelet, Eval: eval}.Check()
}

// violation locates a kubelet setting's problem at its flag when a flag
// set it.
func violation(v nodeconfig.Value, format string, args ...any) nc.Violation {
	return nc.Violation{Message: fmt.Sprintf(format, args...), Path: v.Path, Line: v.Line, File: v.File}
}

// want judges one kubelet setting with ok.
func want(s nodeconfig.KubeletSetting, ok func(string) bool, fix string) nc.Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		v := c.Kubelet(s)
		if ok(v.Value) {
			return nil
		}
		return []nc.Violation{violation(v, "%s is %s; %s", settingName(s), v.Describe(), fix)}
	}
}

func settingName(s nodeconfig.KubeletSetting) string {
	if s.Field != "" {
		return s.Field
	}
	return "--" + s.Flag
}

func is(want string) func(string) bool {
	return func(v string) bool { return nodeconfig.SameValue(v, want) }
}

func kubeletChecks() []*check.Check {
	return []*check.Check{
		kubeletRule("kubelet-anonymous-auth", "4.2.1", check.High, "Kubelet accepts anonymous requests",
			"With anonymous authentication on (the kubelet's default without a config file) anyone who reaches port 10250 is system:anonymous; with AlwaysAllow authorization that is exec into every pod on the node.",
			"Set authentication.anonymous.enabled: false in the kubelet config file (or --anonymous-auth=false).",
			want(nodeconfig.KubeletAnonymousAuth, is("false"), "set it to false")),
		kubeletRule("kubelet-authorization-always-allow", "4.2.2", check.Critical, "Kubelet authorizes every request",
			"With authorization mode AlwaysAllow (the default without a config file) every authenticated or anonymous caller may exec into pods, read logs and port-forward through the kubelet API.",
			"Set authorization.mode: Webhook in the kubelet config file (or --authorization-mode=Webhook) and authentication.webhook.enabled: true.",
			want(nodeconfig.KubeletAuthorizationMode, func(v string) bool { return !strings.EqualFold(v, "AlwaysAllow") }, "use Webhook")),
		kubeletRule("kubelet-client-ca", "4.2.3", check.Medium, "Kubelet does not verify client certificates",
			"Without a client CA the kubelet cannot authenticate the API server's client certificate, so it must fall back to tokens or anonymous access.",
			"Set authentication.x509.clientCAFile in the kubelet config file (or --client-ca-file) to the cluster CA.",
			want(nodeconfig.KubeletClientCAFile, func(v string) bool { return v != "" }, "set it to the cluster CA")),
		kubeletRule("kubelet-read-only-port", "4.2.4", check.Medium, "Kubelet serves its read-only port",
			"The read-only port (10255 by default without a config file) serves pod specs, environment and metrics without any authentication.",
			"Set readOnlyPort: 0 in the kubelet config file (or --read-only-port=0).",
			want(nodeconfig.KubeletReadOnlyPort, is("0"), "set it to 0")),
		kubeletRule("kubelet-streaming-idle-timeout", "4.2.5", check.Low, "Kubelet streaming connections never time out",
			"streamingConnectionIdleTimeout: 0 keeps idle exec, attach and port-forward sessions open forever.",
			"Set streamingConnectionIdleTimeout to a positive duration (the default is 4h; 5m is common).",
			want(nodeconfig.KubeletStreamingIdle, func(v string) bool {
				d, err := time.ParseDuration(v)
				return err != nil || d != 0
			}, "set a positive duration")),
		kubeletRule("kubelet-iptables-util-chains", "4.2.6", check.Low, "Kubelet does not manage its iptables chains",
			"With makeIPTablesUtilChains: false the kubelet does not keep its iptables utility chains in step with pod networking.",
			"Set makeIPTablesUtilChains: true (the default).",
			want(nodeconfig.KubeletIPTablesUtilChains, is("true"), "set it to true")),
		kubeletRule("kubelet-hostname-override", "4.2.7", check.Low, "Kubelet overrides its hostname",
			"--hostname-override makes the node's name differ from its hostname, which breaks TLS between the API server and the kubelet when serving certificates are verified.",
			"Remove --hostname-override (on clouds, let the cloud provider set the node name).",
			func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
				if v := c.Kubelet(nodeconfig.KubeletHostnameOverride); v.Origin == nodeconfig.FromFlag {
					return []nc.Violation{violation(v, "--hostname-override=%s is set", v.Value)}
				}
				return nil
			}),
		kubeletRule("kubelet-tls-cert", "4.2.9", check.Medium, "Kubelet serves a self-signed certificate",
			"Without tlsCertFile and tlsPrivateKeyFile, and without serverTLSBootstrap, the kubelet generates a self-signed serving certificate the API server cannot verify.",
			"Set serverTLSBootstrap: true (and approve kubelet-serving CSRs), or tlsCertFile and tlsPrivateKeyFile.",
			func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
				if b := c.Kubelet(nodeconfig.KubeletServerTLSBootstrap); nodeconfig.SameValue(b.Value, "true") {
					return nil
				}
				cert, key := c.Kubelet(nodeconfig.KubeletTLSCertFile), c.Kubelet(nodeconfig.KubeletTLSKeyFile)
				if cert.IsSet() && key.IsSet() {
					return nil
				}
				return []nc.Violation{{Message: "neither tlsCertFile and tlsPrivateKeyFile nor serverTLSBootstrap is set: the kubelet serves a self-signed certificate"}}
			}),
		kubeletRule("kubelet-rotate-certificates", "4.2.10", check.Low, "Kubelet client certificate is not rotated",
			"With rotateCertificates false (the KubeletConfiguration default; kubeadm sets true) the kubelet's client certificate is never renewed: it expires, or lives as long as it was issued for.",
			"Set rotateCertificates: true in the kubelet config file (or --rotate-certificates).",
			want(nodeconfig.KubeletRotateCertificates, is("true"), "set it to true")),
		kubeletRule("kubelet-server-cert-rotation-disabled", "4.2.11", check.Low, "Kubelet serving certificate rotation is disabled",
			"The RotateKubeletServerCertificate feature gate (on by default) lets the kubelet renew its serving certificate through CSRs; turned off, serverTLSBootstrap has no effect.",
			"Remove RotateKubeletServerCertificate=false from the kubelet's feature gates.",
			func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
				if on, where := c.KubeletFeatureGate("RotateKubeletServerCertificate", true); !on {
					f := c.Flag("feature-gates")
					return []nc.Violation{{Message: "RotateKubeletServerCertificate is false (" + where + ")", Path: f.Path, Line: f.Line}}
				}
				return nil
			}),
		kubeletRule("kubelet-tls-cipher-suites", "4.2.12", check.Low, "Kubelet allows weak TLS cipher suites",
			"Without tlsCipherSuites the kubelet uses Go's defaults, which include CBC-mode suites; the benchmark asks for AEAD suites only.",
			"Set tlsCipherSuites to ECDHE suites with AES-GCM or ChaCha20-Poly1305 only.",
			func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
				v := c.Kubelet(nodeconfig.KubeletTLSCipherSuites)
				if !v.IsSet() {
					return []nc.Violation{{Message: "tlsCipherSuites is not set: Go's default suites include CBC-mode ones"}}
				}
				if weak := nc.WeakCipherSuites(nodeconfig.Flag{Value: v.Value}.List()); len(weak) > 0 {
					res := violation(v, "tlsCipherSuites allows weak suites: %s (%s)", strings.Join(weak, ", "), v.Where)
					res.Severity = check.Medium
					return []nc.Violation{res}
				}
				return nil
			}),
		kubeletRule("kubelet-pod-pids-limit", "4.2.13", check.Low, "Pods may create unlimited processes",
			"Without podPidsLimit one pod can fork-bomb its node and starve every other pod of process IDs.",
			"Set podPidsLimit (for example 4096) in the kubelet config file (or --pod-max-pids).",
			want(nodeconfig.KubeletPodPidsLimit, func(v string) bool {
				n, err := strconv.ParseInt(v, 10, 64)
				return err == nil && n > 0
			}, "set a positive limit")),
		kubeletRule("kubelet-seccomp-default", "4.2.14", check.Low, "Kubelet does not apply RuntimeDefault seccomp",
			"Without seccompDefault: true, containers that set no seccomp profile run unconfined, with every system call available.",
			"Set seccompDefault: true in the kubelet config file (or --seccomp-default).",
			want(nodeconfig.KubeletSeccompDefault, is("true"), "set it to true")),
		kubeletRule("kubelet-protect-kernel-defaults", "", check.Low, "Kubelet does not protect kernel defaults",
			"With protectKernelDefaults: false the kubelet silently changes kernel parameters it needs instead of failing when the host was hardened differently.",
			"Set protectKernelDefaults: true and set the kernel parameters the kubelet needs on the host.",
			want(nodeconfig.KubeletProtectKernel, is("true"), "set it to true")),
		nc.ComponentRule{
			Metadata: check.Metadata{ID: "kube-proxy-metrics-bind-address", Title: "kube-proxy serves metrics on every interface", Severity: check.Low, Category: check.Node,
				Frameworks:  check.Frameworks{CIS: []string{"4.3.1"}},
				Description: "kube-proxy's metrics endpoint (port 10249, on 127.0.0.1 by default) needs no network exposure; bound to 0.0.0.0 it reveals the node's service topology to anything that reaches the node. With --config, kube-proxy ignores the flag and reads metricsBindAddress from the file.",
				Remediation: "Set metricsBindAddress: 127.0.0.1:10249 in the KubeProxyConfiguration (or --metrics-bind-address without --config)."},
			Component: nodeconfig.Proxy,
			Eval:      proxyMetricsBind,
		}.Check(),
	}
}

// proxyMetricsBind judges kube-proxy's metrics address with kube-proxy's
// rules: with --config the file's metricsBindAddress (flags are ignored),
// otherwise --metrics-bind-address; both default to 127.0.0.1:10249.
func proxyMetricsBind(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
	addr, where, v := "127.0.0.1:10249", "default", nc.Violation{}
	switch {
	case c.ProxyConfig != nil:
		if a, ok := c.ProxyConfig.Config["metricsBindAddress"].(string); ok && a != "" {
			addr, where, v.Path, v.File = a, "metricsBindAddress", "metricsBindAddress", c.ProxyConfig.Path
		}
	case c.Flag("config").Set:
		return nil // the config file was not readable here: the node's problems say so
	default:
		if f := c.Flag("metrics-bind-address"); f.Set {
			addr, where, v.Path, v.Line = f.Value, "--metrics-bind-address", f.Path, f.Line
		}
	}
	host := addr
	if h, _, err := net.SplitHostPort(addr); err == nil {
		host = h
	}
	if ip := net.ParseIP(host); (ip != nil && ip.IsLoopback()) || host == "localhost" {
		return nil
	}
	v.Message = fmt.Sprintf("metrics are served on %s (%s), not a loopback address", addr, where)
	return []nc.Violation{v}
}

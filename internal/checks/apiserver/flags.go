package apiserver

import (
	"fmt"
	"slices"
	"time"

	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// rule is a component rule of the api-server category.
func rule(kind nodeconfig.Kind, id, cis string, sev check.Severity, title, desc, fix string, eval nc.Eval) *check.Check {
	m := check.Metadata{ID: id, Title: title, Severity: sev, Category: check.APIServer, Description: desc, Remediation: fix}
	if cis != "" {
		m.Frameworks.CIS = []string{cis}
	}
	return nc.ComponentRule{Metadata: m, Component: kind, Eval: eval}.Check()
}

// apiServerFlagChecks are the CIS section 1.2 items on kube-apiserver's
// command line.
func apiServerFlagChecks() []*check.Check {
	api := nodeconfig.APIServer
	return []*check.Check{
		rule(api, "apiserver-anonymous-auth", "1.2.1", check.High, "API server accepts anonymous requests",
			"Without --anonymous-auth=false every unauthenticated request is served as system:anonymous, and any RBAC grant to it or to system:unauthenticated is open to the network. The structured authentication configuration (--authentication-config) may instead limit anonymous access to health endpoints, which is accepted.",
			"Set --anonymous-auth=false, or in the AuthenticationConfiguration allow anonymous only with conditions on /healthz, /livez and /readyz.",
			anonymousAuth),
		rule(api, "apiserver-token-auth-file", "1.2.2", check.Medium, "API server authenticates static tokens",
			"--token-auth-file keeps long-lived bearer tokens in a plain file; they cannot be revoked without a restart and never expire.",
			"Remove --token-auth-file and use client certificates, OIDC or service account tokens.",
			nc.Unset("token-auth-file")),
		rule(api, "apiserver-deny-external-ips", "1.2.3", check.Low, "Service externalIPs are not denied",
			"Without the DenyServiceExternalIPs admission plugin any user who may create Services can set externalIPs and intercept traffic to those addresses (CVE-2020-8554).",
			"Add DenyServiceExternalIPs to --enable-admission-plugins.",
			pluginOn("DenyServiceExternalIPs")),
		rule(api, "apiserver-kubelet-client-cert", "1.2.4", check.High, "API server has no client certificate for kubelets",
			"Without --kubelet-client-certificate and --kubelet-client-key the API server calls kubelets (exec, logs, port-forward) unauthenticated, so kubelets must allow anonymous requests.",
			"Set --kubelet-client-certificate and --kubelet-client-key to a client certificate the kubelets accept.",
			nc.Set("kubelet-client-certificate", "kubelet-client-key")),
		rule(api, "apiserver-kubelet-ca", "1.2.5", check.Medium, "API server does not verify kubelet serving certificates",
			"Without --kubelet-certificate-authority the API server does not verify the kubelets' serving certificates; a man in the middle between control plane and nodes sees exec sessions and logs.",
			"Set --kubelet-certificate-authority to the CA that signs kubelet serving certificates (with serverTLSBootstrap, the cluster CA).",
			nc.Set("kubelet-certificate-authority")),
		rule(api, "apiserver-authorization-always-allow", "1.2.6", check.Critical, "API server authorizes every request",
			"The AlwaysAllow authorizer (the default when no mode is set) permits every request from every authenticated user.",
			"Set --authorization-mode=Node,RBAC (or an AuthorizationConfiguration with Node and RBAC authorizers).",
			authorization(func(modes []string) string {
				if slices.Contains(modes, "AlwaysAllow") {
					return "AlwaysAllow is among the authorizers"
				}
				return ""
			})),
		rule(api, "apiserver-authorization-node", "1.2.7", check.Medium, "API server does not use the Node authorizer",
			"The Node authorizer limits each kubelet to the objects of pods scheduled on its node; without it a compromised node can read every Secret its RBAC role allows.",
			"Add Node to --authorization-mode (before RBAC), together with the NodeRestriction admission plugin.",
			authorization(missing("Node"))),
		rule(api, "apiserver-authorization-rbac", "1.2.8", check.High, "API server does not use RBAC",
			"Without the RBAC authorizer, Roles and bindings have no effect and access is decided by whatever else is configured.",
			"Add RBAC to --authorization-mode.",
			authorization(missing("RBAC"))),
		rule(api, "apiserver-event-rate-limit", "1.2.9", check.Low, "API server does not rate-limit events",
			"Without the EventRateLimit admission plugin a noisy or malicious client can flood the API server and etcd with Events.",
			"Add EventRateLimit to --enable-admission-plugins and configure its limits in --admission-control-config-file.",
			pluginOn("EventRateLimit")),
		rule(api, "apiserver-always-admit", "1.2.10", check.Critical, "AlwaysAdmit admission plugin is enabled",
			"AlwaysAdmit admits every request without running the other admission checks' intent; it is deprecated and must not be used.",
			"Remove AlwaysAdmit from --enable-admission-plugins.",
			pluginOff("AlwaysAdmit")),
		rule(api, "apiserver-always-pull-images", "1.2.11", check.Low, "Cached private images are usable by any pod",
			"Without AlwaysPullImages a pod can run a private image already pulled on its node without the pull secret that would authorize it. The plugin makes every pod start depend on the registry, which is why the benchmark leaves it to judgement.",
			"Add AlwaysPullImages to --enable-admission-plugins on multi-tenant clusters (or use the kubelet's image credential verification).",
			pluginOn("AlwaysPullImages")),
		rule(api, "apiserver-serviceaccount-plugin", "1.2.12", check.Medium, "ServiceAccount admission plugin is disabled",
			"The ServiceAccount plugin assigns service accounts to pods and enforces that they exist; without it pods run with arbitrary or missing identities.",
			"Remove ServiceAccount from --disable-admission-plugins.",
			pluginOn("ServiceAccount")),
		rule(api, "apiserver-namespacelifecycle-plugin", "1.2.13", check.Medium, "NamespaceLifecycle admission plugin is disabled",
			"NamespaceLifecycle refuses objects in namespaces being deleted or not existing and protects the system namespaces from deletion.",
			"Remove NamespaceLifecycle from --disable-admission-plugins.",
			pluginOn("NamespaceLifecycle")),
		rule(api, "apiserver-noderestriction-plugin", "1.2.14", check.High, "NodeRestriction admission plugin is not enabled",
			"NodeRestriction limits what a kubelet may change to its own Node and its own pods; without it a compromised node can relabel other nodes and steer workloads to itself.",
			"Add NodeRestriction to --enable-admission-plugins (with the Node authorizer).",
			pluginOn("NodeRestriction")),
		rule(api, "apiserver-podsecurity-plugin", "5.2.1", check.Medium, "PodSecurity admission plugin is disabled",
			"The PodSecurity plugin enforces the Pod Security Standards per namespace (pod-security.kubernetes.io labels). Disabled, and without an equivalent policy webhook, nothing stops privileged pods.",
			"Remove PodSecurity from --disable-admission-plugins, or run an equivalent policy engine (kubeharden webhook, Kyverno, Gatekeeper).",
			pluginOn("PodSecurity")),
		rule(api, "apiserver-profiling", "1.2.15", check.Low, "API server profiling is enabled",
			"/debug/pprof exposes the API server's internals and can be used to slow it down; it is on by default.",
			"Set --profiling=false.",
			nc.Equals("profiling", "false", "true")),
		rule(api, "apiserver-audit-log", "1.2.16", check.Medium, "API server writes no audit log",
			"Without --audit-log-path (or an audit webhook) there is no record of who did what: incidents cannot be investigated and kubeharden's audit detections have nothing to read.",
			"Set --audit-log-path (and --audit-policy-file), or --audit-webhook-config-file.",
			auditBackend),
		rule(api, "apiserver-audit-log-maxage", "1.2.17", check.Low, "Audit logs are not kept 30 days",
			"--audit-log-maxage is how many days rotated audit logs are kept; the benchmark asks for 30 unless logs are shipped elsewhere.",
			"Set --audit-log-maxage=30 (or as your retention policy requires).",
			whenAuditFile(nc.AtLeast("audit-log-maxage", 30))),
		rule(api, "apiserver-audit-log-maxbackup", "1.2.18", check.Low, "Fewer than 10 audit log backups are kept",
			"--audit-log-maxbackup is how many rotated audit log files are kept.",
			"Set --audit-log-maxbackup=10 (or as appropriate).",
			whenAuditFile(nc.AtLeast("audit-log-maxbackup", 10))),
		rule(api, "apiserver-audit-log-maxsize", "1.2.19", check.Low, "Audit logs rotate below 100 MB",
			"--audit-log-maxsize is the size in megabytes at which the audit log rotates; small files with few backups lose history quickly.",
			"Set --audit-log-maxsize=100 (or as appropriate).",
			whenAuditFile(nc.AtLeast("audit-log-maxsize", 100))),
		rule(api, "apiserver-request-timeout", "1.2.20", check.Low, "API server request timeout is unbounded or very long",
			"--request-timeout (default 60s) bounds how long a non-watch request may hold the server; 0 or a very long timeout lets slow clients exhaust it. The benchmark leaves the value to judgement; kubeharden flags 0, negative values and more than 5 minutes.",
			"Leave --request-timeout at its default (60s) or set it to at most 300s.",
			requestTimeout),
		rule(api, "apiserver-service-account-lookup", "1.2.21", check.Medium, "Service account tokens are not checked against etcd",
			"With --service-account-lookup=false a token stays valid after its ServiceAccount or Secret is deleted.",
			"Set --service-account-lookup=true (the default).",
			nc.Equals("service-account-lookup", "true", "true")),
		rule(api, "apiserver-service-account-key-file", "1.2.22", check.Medium, "Service account verification key is not set",
			"--service-account-key-file names the public keys tokens are verified with; without it the serving key is used, so rotating the serving certificate invalidates every token.",
			"Set --service-account-key-file to the public key(s) of the service account signing key.",
			nc.Set("service-account-key-file")),
		rule(api, "apiserver-etcd-client-cert", "1.2.23", check.High, "API server does not authenticate to etcd",
			"Without --etcd-certfile and --etcd-keyfile the API server talks to etcd without a client certificate, so etcd must accept unauthenticated clients: anyone who reaches etcd reads every Secret.",
			"Set --etcd-certfile and --etcd-keyfile, and --client-cert-auth=true on etcd.",
			nc.Set("etcd-certfile", "etcd-keyfile")),
		rule(api, "apiserver-tls-cert", "1.2.24", check.Medium, "API server serving certificate is not set",
			"Without --tls-cert-file and --tls-private-key-file the API server serves a self-signed certificate that clients cannot verify.",
			"Set --tls-cert-file and --tls-private-key-file.",
			nc.Set("tls-cert-file", "tls-private-key-file")),
		rule(api, "apiserver-client-ca", "1.2.25", check.Medium, "API server does not verify client certificates",
			"Without --client-ca-file client certificate authentication is off and kubelets, controllers and administrators need other credentials.",
			"Set --client-ca-file to the cluster CA.",
			nc.Set("client-ca-file")),
		rule(api, "apiserver-etcd-ca", "1.2.26", check.High, "API server does not verify etcd's certificate",
			"Without --etcd-cafile the API server cannot verify it talks to the real etcd.",
			"Set --etcd-cafile to the etcd CA.",
			nc.Set("etcd-cafile")),
		rule(api, "apiserver-encryption-config", "1.2.27", check.High, "Secrets are stored unencrypted in etcd",
			"Without --encryption-provider-config the API server writes Secrets to etcd in plain text: etcd backups and disk images hold every credential of the cluster.",
			"Create an EncryptionConfiguration (kms v2, aesgcm or secretbox for secrets), set --encryption-provider-config, and rewrite existing Secrets (kubectl get secrets -A -o json | kubectl replace -f -). Check with `kubeharden etcd verify-encryption`.",
			nc.Set("encryption-provider-config")),
		rule(api, "apiserver-tls-cipher-suites", "1.2.29", check.Low, "API server allows weak TLS cipher suites",
			"Without --tls-cipher-suites the API server uses Go's defaults, which include CBC-mode suites; the benchmark asks for AEAD suites only. TLS 1.3 suites are not configurable and are all strong.",
			"Set --tls-cipher-suites to ECDHE suites with AES-GCM or ChaCha20-Poly1305 only, and --tls-min-version=VersionTLS12 or later.",
			nc.CipherSuites("tls-cipher-suites")),
		rule(api, "apiserver-extend-token-expiration", "1.2.30", check.Low, "Service account tokens get extended lifetimes",
			"With --service-account-extend-token-expiration (on by default) projected tokens are issued valid for a year while the kubelet refreshes them hourly, so a stolen token stays usable long after it should have expired.",
			"Set --service-account-extend-token-expiration=false once workloads use client libraries that reload projected tokens.",
			nc.Equals("service-account-extend-token-expiration", "false", "true")),
	}
}

func anonymousAuth(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
	a := c.AnonymousAuth()
	if !a.Known || !a.Enabled {
		return nil
	}
	for _, p := range a.Paths {
		if p != "/healthz" && p != "/livez" && p != "/readyz" {
			return []nc.Violation{{Message: fmt.Sprintf("anonymous requests are allowed on %s (%s); allow only /healthz, /livez and /readyz", p, a.Where)}}
		}
	}
	if len(a.Paths) > 0 {
		return nil
	}
	f := c.Flag("anonymous-auth")
	return []nc.Violation{{Message: "anonymous requests are accepted: " + a.Where, Path: f.Path, Line: f.Line}}
}

// authorization judges the authorizer list; bad returns the problem or "".
func authorization(bad func(modes []string) string) nc.Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		modes, where, ok := c.AuthorizationModes()
		if !ok {
			return nil // the authorization configuration file was not readable: see the node's problems
		}
		if msg := bad(modes); msg != "" {
			f := c.Flag("authorization-mode")
			return []nc.Violation{{Message: msg + ": " + where, Path: f.Path, Line: f.Line}}
		}
		return nil
	}
}

func missing(mode string) func([]string) string {
	return func(modes []string) string {
		if slices.Contains(modes, mode) {
			return ""
		}
		return mode + " is not among the authorizers"
	}
}

func pluginOn(name string) nc.Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		on, why := c.AdmissionPlugin(name)
		if on {
			return nil
		}
		msg := name + " is not enabled"
		if slices.Contains(c.Flag("disable-admission-plugins").List(), name) {
			msg = name + " is disabled by --disable-admission-plugins"
		} else if why.Set {
			msg += " (--enable-admission-plugins=" + why.Value + ")"
		}
		return []nc.Violation{{Message: msg, Path: why.Path, Line: why.Line}}
	}
}

func pluginOff(name string) nc.Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		if on, why := c.AdmissionPlugin(name); on {
			return []nc.Violation{{Message: name + " is enabled (--enable-admission-plugins=" + why.Value + ")", Path: why.Path, Line: why.Line}}
		}
		return nil
	}
}

func auditBackend(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
	if f := c.Flag("audit-log-path"); f.Set && f.Value != "" {
		return nil
	}
	if f := c.Flag("audit-webhook-config-file"); f.Set && f.Value != "" {
		return nil
	}
	return []nc.Violation{{Message: "neither --audit-log-path nor --audit-webhook-config-file is set"}}
}

// whenAuditFile applies eval only when the audit log goes to a file (not
// stdout, "-", where retention is the log collector's job).
func whenAuditFile(eval nc.Eval) nc.Eval {
	return func(n *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		if f := c.Flag("audit-log-path"); !f.Set || f.Value == "" || f.Value == "-" {
			return nil
		}
		return eval(n, c)
	}
}

func requestTimeout(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
	f := c.Flag("request-timeout")
	if !f.Set {
		return nil
	}
	d, err := time.ParseDuration(f.Value)
	switch {
	case err != nil:
		return []nc.Violation{{Message: fmt.Sprintf("--request-timeout=%s is not a duration", f.Value), Path: f.Path, Line: f.Line}}
	case d <= 0:
		return []nc.Violation{{Message: fmt.Sprintf("--request-timeout=%s disables the timeout", f.Value), Path: f.Path, Line: f.Line}}
	case d > 5*time.Minute:
		return []nc.Violation{{Message: fmt.Sprintf("--request-timeout=%s is longer than 5 minutes", f.Value), Path: f.Path, Line: f.Line}}
	}
	return nil
}

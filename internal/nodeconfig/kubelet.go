package nodeconfig

import (
	"fmt"
	"strconv"
	"strings"
)

// ConfigFile is a component's --config file (a KubeletConfiguration or
// KubeProxyConfiguration), decoded.
type ConfigFile struct {
	// Path is the file on the node; empty when the component is the file
	// itself (a KubeletConfiguration given to scan).
	Path string `json:"path,omitempty"`
	// Config is the decoded file.
	Config map[string]any `json:"config"`
}

// KubeletSetting names a kubelet setting that can come from a flag or the
// configuration file.
type KubeletSetting struct {
	// Flag is the command-line flag ("" when the setting is config-only).
	Flag string
	// Field is the KubeletConfiguration field path ("" when flag-only).
	Field string
	// Default is the value when neither sets it and the kubelet runs with
	// a --config file (the v1beta1 defaults); LegacyDefault when it runs
	// on flags alone (the kubelet's legacy flag defaults, which are
	// insecure for authentication and the read-only port).
	Default, LegacyDefault string
}

// The kubelet settings the benchmark reads, with the defaults of
// k8s.io/kubernetes pkg/kubelet/apis/config/v1beta1 (SetDefaults) and
// cmd/kubelet/app/options (applyLegacyDefaults).
var (
	KubeletAnonymousAuth      = KubeletSetting{Flag: "anonymous-auth", Field: "authentication.anonymous.enabled", Default: "false", LegacyDefault: "true"}
	KubeletAuthorizationMode  = KubeletSetting{Flag: "authorization-mode", Field: "authorization.mode", Default: "Webhook", LegacyDefault: "AlwaysAllow"}
	KubeletClientCAFile       = KubeletSetting{Flag: "client-ca-file", Field: "authentication.x509.clientCAFile"}
	KubeletReadOnlyPort       = KubeletSetting{Flag: "read-only-port", Field: "readOnlyPort", Default: "0", LegacyDefault: "10255"}
	KubeletStreamingIdle      = KubeletSetting{Flag: "streaming-connection-idle-timeout", Field: "streamingConnectionIdleTimeout", Default: "4h0m0s", LegacyDefault: "4h0m0s"}
	KubeletIPTablesUtilChains = KubeletSetting{Flag: "make-iptables-util-chains", Field: "makeIPTablesUtilChains", Default: "true", LegacyDefault: "true"}
	KubeletHostnameOverride   = KubeletSetting{Flag: "hostname-override"}
	KubeletEventQPS           = KubeletSetting{Flag: "event-qps", Field: "eventRecordQPS", Default: "50", LegacyDefault: "50"}
	KubeletTLSCertFile        = KubeletSetting{Flag: "tls-cert-file", Field: "tlsCertFile"}
	KubeletTLSKeyFile         = KubeletSetting{Flag: "tls-private-key-file", Field: "tlsPrivateKeyFile"}
	KubeletRotateCertificates = KubeletSetting{Flag: "rotate-certificates", Field: "rotateCertificates", Default: "false", LegacyDefault: "false"}
	KubeletServerTLSBootstrap = KubeletSetting{Flag: "rotate-server-certificates", Field: "serverTLSBootstrap", Default: "false", LegacyDefault: "false"}
	KubeletTLSCipherSuites    = KubeletSetting{Flag: "tls-cipher-suites", Field: "tlsCipherSuites"}
	KubeletPodPidsLimit       = KubeletSetting{Flag: "pod-max-pids", Field: "podPidsLimit", Default: "-1", LegacyDefault: "-1"}
	KubeletSeccompDefault     = KubeletSetting{Flag: "seccomp-default", Field: "seccompDefault", Default: "false", LegacyDefault: "false"}
	KubeletProtectKernel      = KubeletSetting{Flag: "protect-kernel-defaults", Field: "protectKernelDefaults", Default: "false", LegacyDefault: "false"}
	KubeletKubeconfig         = KubeletSetting{Flag: "kubeconfig"}
	KubeletStaticPodPath      = KubeletSetting{Flag: "pod-manifest-path", Field: "staticPodPath"}
)

// Origin says where an effective setting came from.
type Origin int

// Origins, in the kubelet's precedence order (a flag wins).
const (
	FromDefault Origin = iota
	FromConfigFile
	FromFlag
)

// Value is an effective setting with where it came from.
type Value struct {
	Value  string
	Origin Origin
	// Where is "--flag" or "FILE: field" for flags and config files, and
	// "default" otherwise; Path and Line locate the flag.
	Where string
	Path  string
	Line  int
	// File is the config file when the value came from one (Path is then
	// the field).
	File string
}

// IsSet reports whether the setting has a non-empty value.
func (v Value) IsSet() bool { return v.Value != "" }

// Describe is "VALUE (WHERE)" for messages.
func (v Value) Describe() string {
	val := v.Value
	if val == "" {
		val = "unset"
	}
	return val + " (" + v.Where + ")"
}

// Kubelet returns the effective value of s for a kubelet component: the
// flag when set, then the configuration file, then the default for how the
// kubelet runs. The kubelet lets flags override its config file.
func (c *Component) Kubelet(s KubeletSetting) Value {
	if s.Flag != "" {
		if f := c.Flag(s.Flag); f.Set {
			return Value{Value: f.Value, Origin: FromFlag, Where: "--" + s.Flag, Path: f.Path, Line: f.Line}
		}
	}
	if c.KubeletConfig != nil && s.Field != "" {
		if v, ok := lookup(c.KubeletConfig.Config, s.Field); ok {
			where := s.Field
			if c.KubeletConfig.Path != "" {
				where = c.KubeletConfig.Path + ": " + s.Field
			}
			return Value{Value: v, Origin: FromConfigFile, Where: where, File: c.KubeletConfig.Path, Path: s.Field}
		}
	}
	if c.KubeletConfig != nil || c.Flag("config").Set {
		return Value{Value: s.Default, Where: "default"}
	}
	return Value{Value: s.LegacyDefault, Where: "default without --config"}
}

// KubeletFeatureGate returns whether gate is on, from --feature-gates or
// the config file's featureGates, and def otherwise.
func (c *Component) KubeletFeatureGate(gate string, def bool) (bool, string) {
	if on, set := c.FeatureGate(gate); set {
		return on, "--feature-gates"
	}
	if c.KubeletConfig != nil {
		if gates, ok := c.KubeletConfig.Config["featureGates"].(map[string]any); ok {
			if on, ok := gates[gate].(bool); ok {
				return on, strings.TrimPrefix(c.KubeletConfig.Path+": ", ": ") + "featureGates." + gate
			}
		}
	}
	return def, "default"
}

// lookup reads a dotted field of a decoded document as text.
func lookup(doc map[string]any, field string) (string, bool) {
	var cur any = doc
	for _, part := range strings.Split(field, ".") {
		m, ok := cur.(map[string]any)
		if !ok {
			return "", false
		}
		if cur, ok = m[part]; !ok {
			return "", false
		}
	}
	switch v := cur.(type) {
	case nil:
		return "", false
	case string:
		return v, true
	case bool:
		return strconv.FormatBool(v), true
	case float64:
		return strconv.FormatFloat(v, 'f', -1, 64), true
	case int, int64:
		return fmt.Sprint(v), true
	case []any:
		parts := make([]string, 0, len(v))
		for _, e := range v {
			parts = append(parts, fmt.Sprint(e))
		}
		return strings.Join(parts, ","), true
	default:
		return fmt.Sprint(v), true
	}
}

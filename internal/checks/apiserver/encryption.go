package apiserver

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// encryptionCheck judges an EncryptionConfiguration, wherever it comes
// from: the file an API server's --encryption-provider-config names (node
// facts) or a file given to scan.
func encryptionCheck(m check.Metadata, judge func(cfg *nodeconfig.EncryptionConfig) []check.Result) *check.Check {
	return &check.Check{
		Metadata: m,
		Kinds:    []string{"EncryptionConfiguration"},
		Object: func(env *check.Env, obj *source.Object) []check.Result {
			cfg := encryptionConfigOf(env, obj)
			if cfg == nil {
				return nil
			}
			return judge(cfg)
		},
		Node: func(_ *check.Env, n *nodeconfig.Node) []check.Result {
			var out []check.Result
			for _, c := range n.Components {
				if c.Kind != nodeconfig.APIServer || c.Encryption == nil {
					continue
				}
				for _, r := range judge(c.Encryption) {
					r.Object = nc.FileRef(c.Encryption.Path)
					r.Source = &check.Source{File: c.Encryption.Path}
					out = append(out, r)
				}
			}
			return out
		},
	}
}

type encryptionMemo struct{ obj *source.Object }

// encryptionConfigOf decodes an EncryptionConfiguration object once per
// run; nil when it is not one or does not decode (the invalid check
// reports that).
func encryptionConfigOf(env *check.Env, obj *source.Object) *nodeconfig.EncryptionConfig {
	if obj.Group() != "apiserver.config.k8s.io" {
		return nil
	}
	v := env.Memo(encryptionMemo{obj}, func() any {
		data, err := json.Marshal(obj.Body())
		if err != nil {
			return (*nodeconfig.EncryptionConfig)(nil)
		}
		cfg, err := nodeconfig.ParseEncryptionConfig(obj.Source.File, data)
		if err != nil {
			return &nodeconfig.EncryptionConfig{Path: obj.Source.File, Invalid: []string{err.Error()}}
		}
		return cfg
	})
	return v.(*nodeconfig.EncryptionConfig)
}

func encryptionChecks() []*check.Check {
	meta := func(id string, sev check.Severity, title, desc, fix string) check.Metadata {
		return check.Metadata{ID: id, Title: title, Severity: sev, Category: check.APIServer, Frameworks: check.Frameworks{CIS: []string{"1.2.28"}}, Description: desc, Remediation: fix}
	}
	return []*check.Check{
		encryptionCheck(meta("encryption-secrets-not-encrypted", check.High, "Secrets are not encrypted at rest",
			"The EncryptionConfiguration leaves Secrets in plain text in etcd: no resources entry covers them, or the first provider of the entry that does is identity (the first provider encrypts new writes; the others only decrypt).",
			"Add secrets to a resources entry whose first provider is kms (apiVersion v2), aesgcm or secretbox; keep identity last only while existing Secrets are rewritten."),
			func(cfg *nodeconfig.EncryptionConfig) []check.Result {
				if len(cfg.Invalid) > 0 && len(cfg.Rules) == 0 {
					return nil
				}
				rule, ok := cfg.RuleFor("secrets", "")
				if !ok {
					return []check.Result{{Path: "resources", Message: "no resources entry covers secrets: they are written to etcd unencrypted"}}
				}
				if w := rule.Writer(); w.Type == "identity" {
					return []check.Result{{Path: "resources", Message: fmt.Sprintf("the entry for %s writes with identity first: new Secrets are stored unencrypted", strings.Join(rule.Resources, ", "))}}
				}
				return nil
			}),
		encryptionCheck(meta("encryption-weak-provider", check.Medium, "Secrets are encrypted with a deprecated provider",
			"aescbc is no longer recommended (vulnerable to padding-oracle attacks) and KMS v1 is deprecated and disabled by default since Kubernetes 1.29; KMS v2 rotates data keys by itself.",
			"Make kms with apiVersion v2 (or secretbox, or aesgcm with rotation) the first provider for secrets, and rewrite existing Secrets."),
			func(cfg *nodeconfig.EncryptionConfig) []check.Result {
				rule, ok := cfg.RuleFor("secrets", "")
				if !ok {
					return nil
				}
				switch w := rule.Writer(); {
				case w.Type == "aescbc":
					return []check.Result{{Path: "resources", Message: "secrets are written with aescbc, which is no longer recommended"}}
				case w.Type == "kms" && w.KMSAPIVersion == "v1":
					return []check.Result{{Path: "resources", Message: fmt.Sprintf("secrets are written with KMS v1 (plugin %q), which is deprecated", w.Name)}}
				}
				return nil
			}),
		encryptionCheck(meta("encryption-aesgcm-rotation", check.Info, "aesgcm keys need rotation every 200,000 writes",
			"aesgcm uses a random nonce per write: with one key the nonce collision risk grows with every write, so the key must be rotated about every 200,000 writes, by hand.",
			"Prefer kms v2 or secretbox; with aesgcm, rotate the key regularly (add a new first key, restart the API servers, rewrite Secrets, drop the old key)."),
			func(cfg *nodeconfig.EncryptionConfig) []check.Result {
				rule, ok := cfg.RuleFor("secrets", "")
				if !ok || rule.Writer().Type != "aesgcm" {
					return nil
				}
				return []check.Result{{Path: "resources", Message: fmt.Sprintf("secrets are written with aesgcm key %q: rotate it every 200,000 writes", firstKeyName(rule.Writer()))}}
			}),
		encryptionCheck(meta("encryption-config-invalid", check.High, "Encryption configuration is invalid",
			"The API server validates its EncryptionConfiguration at start-up and refuses to run with any error: a key that is not base64 or not 16, 24 or 32 bytes (32 for secretbox), a provider without keys, a KMS plugin without a name or endpoint.",
			"Fix the errors the message lists; generate keys with `head -c 32 /dev/urandom | base64`."),
			func(cfg *nodeconfig.EncryptionConfig) []check.Result {
				var out []check.Result
				for _, msg := range cfg.Invalid {
					path, _, _ := strings.Cut(msg, ": ")
					if strings.ContainsAny(path, " /") {
						path = "" // not a field path: a decoding error naming the file
					}
					out = append(out, check.Result{Path: path, Message: msg})
				}
				return out
			}),
	}
}

func firstKeyName(p nodeconfig.EncryptionProvider) string {
	if len(p.Keys) == 0 {
		return ""
	}
	return p.Keys[0].Name
}

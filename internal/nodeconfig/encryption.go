package nodeconfig

import (
	"encoding/base64"
	"errors"
	"fmt"
	"strings"

	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/serializer"
	"k8s.io/apiserver/pkg/apis/apiserver"
	apiserverinstall "k8s.io/apiserver/pkg/apis/apiserver/install"
	apiservervalidation "k8s.io/apiserver/pkg/apis/apiserver/validation"
)

// EncryptionConfig is an EncryptionConfiguration reduced to what can be
// judged without its secrets: the resources, their providers in order, and
// each key's name, decoded length and validity. Key material is never kept.
type EncryptionConfig struct {
	Path  string           `json:"path"`
	Rules []EncryptionRule `json:"rules"`
	// Invalid are the API server's own validation errors (secrets
	// redacted by the validator); the API server refuses to start with any.
	Invalid []string `json:"invalid,omitempty"`
}

// EncryptionRule is one resources entry: the first provider encrypts new
// writes, every provider can decrypt.
type EncryptionRule struct {
	Resources []string             `json:"resources"`
	Providers []EncryptionProvider `json:"providers"`
}

// EncryptionProvider is one provider with its keys' shape.
type EncryptionProvider struct {
	// Type is aesgcm, aescbc, secretbox, kms or identity.
	Type string `json:"type"`
	// Name is the KMS plugin name; KMSAPIVersion its v1 or v2.
	Name          string `json:"name,omitempty"`
	KMSAPIVersion string `json:"kmsAPIVersion,omitempty"`
	Keys          []Key  `json:"keys,omitempty"`
}

// Key is a key's name and the length of its decoded secret.
type Key struct {
	Name        string `json:"name"`
	Bytes       int    `json:"bytes"`
	ValidBase64 bool   `json:"validBase64"`
}

// ParseEncryptionConfig decodes an EncryptionConfiguration
// (apiserver.config.k8s.io/v1) and validates it as the API server does.
func ParseEncryptionConfig(path string, data []byte) (*EncryptionConfig, error) {
	scheme := runtime.NewScheme()
	apiserverinstall.Install(scheme)
	obj, gvk, err := serializer.NewCodecFactory(scheme).UniversalDecoder().Decode(data, nil, nil)
	if err != nil {
		return nil, fmt.Errorf("%s: not an EncryptionConfiguration: %w", path, redactDecodeError(err))
	}
	cfg, ok := obj.(*apiserver.EncryptionConfiguration)
	if !ok {
		return nil, fmt.Errorf("%s: got %s, want an EncryptionConfiguration", path, gvk.Kind)
	}
	out := &EncryptionConfig{Path: path}
	for _, e := range apiservervalidation.ValidateEncryptionConfiguration(cfg, false) {
		out.Invalid = append(out.Invalid, e.Error())
	}
	for _, r := range cfg.Resources {
		rule := EncryptionRule{Resources: r.Resources}
		for _, p := range r.Providers {
			rule.Providers = append(rule.Providers, summarizeProvider(p))
		}
		out.Rules = append(out.Rules, rule)
	}
	return out, nil
}

// redactDecodeError keeps a decoder's message from echoing the input: a
// message that quotes anything may quote key material.
func redactDecodeError(err error) error {
	if strings.ContainsAny(err.Error(), "\"'`") {
		return errors.New("the file could not be decoded (details withheld: they quote the file, which holds keys)")
	}
	return err
}

func summarizeProvider(p apiserver.ProviderConfiguration) EncryptionProvider {
	keys := func(ks []apiserver.Key) []Key {
		out := make([]Key, 0, len(ks))
		for _, k := range ks {
			raw, err := base64.StdEncoding.DecodeString(k.Secret)
			out = append(out, Key{Name: k.Name, Bytes: len(raw), ValidBase64: err == nil && k.Secret != ""})
		}
		return out
	}
	switch {
	case p.AESGCM != nil:
		return EncryptionProvider{Type: "aesgcm", Keys: keys(p.AESGCM.Keys)}
	case p.AESCBC != nil:
		return EncryptionProvider{Type: "aescbc", Keys: keys(p.AESCBC.Keys)}
	case p.Secretbox != nil:
		return EncryptionProvider{Type: "secretbox", Keys: keys(p.Secretbox.Keys)}
	case p.KMS != nil:
		v := p.KMS.APIVersion
		if v == "" {
			v = "v1"
		}
		return EncryptionProvider{Type: "kms", Name: p.KMS.Name, KMSAPIVersion: v}
	case p.Identity != nil:
		return EncryptionProvider{Type: "identity"}
	}
	return EncryptionProvider{Type: "unknown"}
}

// RuleFor returns the rule that applies to resource in group ("" for the
// core group), with the API server's matching: an exact "resource.group"
// (core: "resource" or "resource."), "*.group" (core: "*."), or "*.*";
// the first matching rule wins.
func (c *EncryptionConfig) RuleFor(resource, group string) (*EncryptionRule, bool) {
	for i := range c.Rules {
		for _, r := range c.Rules[i].Resources {
			if resourceMatches(r, resource, group) {
				return &c.Rules[i], true
			}
		}
	}
	return nil, false
}

func resourceMatches(pattern, resource, group string) bool {
	if pattern == "*.*" {
		return true
	}
	res, grp, hasDot := strings.Cut(pattern, ".")
	if !hasDot {
		return group == "" && res == resource
	}
	return grp == group && (res == "*" || res == resource)
}

// Writer is the provider that encrypts new writes under rule: the first.
func (r *EncryptionRule) Writer() EncryptionProvider {
	if len(r.Providers) == 0 {
		return EncryptionProvider{Type: "identity"}
	}
	return r.Providers[0]
}

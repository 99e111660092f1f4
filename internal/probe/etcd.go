// Package probe holds active, read-only probes of endpoints a user names:
// reading how etcd stores Secrets, to prove encryption at rest.
package probe

import (
	"bytes"
	"cmp"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	clientv3 "go.etcd.io/etcd/client/v3"
	"go.uber.org/zap"
)

// EtcdOptions say how to reach etcd.
type EtcdOptions struct {
	Endpoints []string
	// CACert, Cert and Key are PEM files; all empty for plain HTTP.
	CACert, Cert, Key string
	// Prefix is the API server's --etcd-prefix ("/registry").
	Prefix  string
	Timeout time.Duration
}

// SecretStorage is how one Secret is stored in etcd. It never holds the
// value, only what its first bytes say.
type SecretStorage struct {
	Namespace string `json:"namespace"`
	Name      string `json:"name"`
	Key       string `json:"key"`
	Encrypted bool   `json:"encrypted"`
	// Provider is aescbc, aesgcm, secretbox or kms, and Version its
	// format version (v1, v2); KeyName the key or KMS plugin name.
	Provider string `json:"provider,omitempty"`
	Version  string `json:"version,omitempty"`
	KeyName  string `json:"keyName,omitempty"`
	// Format says what an unencrypted value is (protobuf, json).
	Format string `json:"format,omitempty"`
}

// Classify reads the storage format from a stored value's prefix: the API
// server's encrypting transformers write "k8s:enc:PROVIDER:VERSION:KEY:",
// and unencrypted objects are protobuf ("k8s\x00") or JSON.
func Classify(value []byte) SecretStorage {
	var s SecretStorage
	if rest, ok := bytes.CutPrefix(value, []byte("k8s:enc:")); ok {
		parts := strings.SplitN(string(rest[:min(len(rest), 256)]), ":", 4)
		s.Encrypted = true
		if len(parts) > 0 {
			s.Provider = parts[0]
		}
		if len(parts) > 1 {
			s.Version = parts[1]
		}
		if len(parts) > 3 {
			s.KeyName = parts[2]
		}
		return s
	}
	switch {
	case bytes.HasPrefix(value, []byte("k8s\x00")):
		s.Format = "protobuf"
	case bytes.HasPrefix(bytes.TrimSpace(value), []byte("{")):
		s.Format = "json"
	default:
		s.Format = "unknown"
	}
	return s
}

// VerifyEncryption reports how Secrets are stored: the one named
// (namespace/name) or, with name empty, up to limit Secrets found by a
// keys-only listing. It reads only the Secrets' values, classifies their
// first bytes and drops them.
func VerifyEncryption(ctx context.Context, o EtcdOptions, namespace, name string, limit int) ([]SecretStorage, error) {
	cli, err := connect(o)
	if err != nil {
		return nil, err
	}
	defer cli.Close()
	prefix := strings.TrimSuffix(cmp.Or(o.Prefix, "/registry"), "/") + "/secrets/"
	ctx, cancel := context.WithTimeout(ctx, cmp.Or(o.Timeout, 10*time.Second))
	defer cancel()

	var keys []string
	if name != "" {
		keys = []string{prefix + namespace + "/" + name}
	} else {
		from := prefix
		if namespace != "" {
			from += namespace + "/"
		}
		resp, err := cli.Get(ctx, from, clientv3.WithPrefix(), clientv3.WithKeysOnly(), clientv3.WithLimit(int64(limit)))
		if err != nil {
			return nil, fmt.Errorf("listing %s in etcd: %w", from, err)
		}
		for _, kv := range resp.Kvs {
			keys = append(keys, string(kv.Key))
		}
		if len(keys) == 0 {
			return nil, fmt.Errorf("no Secrets under %s in etcd (wrong --prefix, or an empty cluster)", from)
		}
	}
	out := make([]SecretStorage, 0, len(keys))
	for _, key := range keys {
		resp, err := cli.Get(ctx, key)
		if err != nil {
			return nil, fmt.Errorf("reading %s from etcd: %w", key, err)
		}
		if len(resp.Kvs) == 0 {
			return nil, fmt.Errorf("%s: no such key in etcd", key)
		}
		s := Classify(resp.Kvs[0].Value)
		s.Key = key
		s.Namespace, s.Name, _ = strings.Cut(strings.TrimPrefix(key, prefix), "/")
		out = append(out, s)
	}
	return out, nil
}

func connect(o EtcdOptions) (*clientv3.Client, error) {
	if len(o.Endpoints) == 0 {
		return nil, errors.New("no etcd endpoints (--endpoints)")
	}
	cfg := clientv3.Config{Endpoints: o.Endpoints, DialTimeout: cmp.Or(o.Timeout, 10*time.Second), Logger: zap.NewNop()}
	if o.CACert != "" || o.Cert != "" || o.Key != "" {
		tc := &tls.Config{MinVersion: tls.VersionTLS12}
		if o.CACert != "" {
			pem, err := os.ReadFile(o.CACert)
			if err != nil {
				return nil, fmt.Errorf("--cacert: %w", err)
			}
			tc.RootCAs = x509.NewCertPool()
			if !tc.RootCAs.AppendCertsFromPEM(pem) {
				return nil, fmt.Errorf("--cacert %s: no PEM certificate", o.CACert)
			}
		}
		if o.Cert != "" || o.Key != "" {
			pair, err := tls.LoadX509KeyPair(o.Cert, o.Key)
			if err != nil {
				return nil, fmt.Errorf("--cert/--key: %w", err)
			}
			tc.Certificates = []tls.Certificate{pair}
		}
		cfg.TLS = tc
	}
	cli, err := clientv3.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("connecting to etcd %s: %w", strings.Join(o.Endpoints, ","), err)
	}
	return cli, nil
}

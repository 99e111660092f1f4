// Package testcluster builds (once per machine, cached by version) and
// starts a real etcd and kube-apiserver on 127.0.0.1 for integration tests:
// TLS, RBAC, an admin client certificate, token users, an audit policy and
// log, and whatever extra flags a test asks for.
package testcluster

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"time"
)

// Versions of the control plane; they must match hack/controlplane/go.mod.
const (
	KubernetesVersion = "v1.37.2"
	EtcdVersion       = "v3.7.0"
)

// Binaries are the paths of the built control-plane programs.
type Binaries struct {
	APIServer, Etcd string
}

// CacheDir is where the binaries are kept: $KUBEHARDEN_CONTROLPLANE_CACHE,
// or the user cache directory, in a folder named after the versions.
func CacheDir() (string, error) {
	base := os.Getenv("KUBEHARDEN_CONTROLPLANE_CACHE")
	if base == "" {
		dir, err := os.UserCacheDir()
		if err != nil {
			return "", fmt.Errorf("finding the user cache directory: %w", err)
		}
		base = filepath.Join(dir, "kubeharden", "controlplane")
	}
	return filepath.Join(base, "kubernetes-"+KubernetesVersion+"_etcd-"+EtcdVersion), nil
}

// EnsureBinaries returns the cached binaries, building them from the Go
// module proxy first if they are missing. The first build takes about 15
// minutes on two cores; concurrent callers (parallel test packages) wait
// for one build through a lock file.
func EnsureBinaries(ctx context.Context, log *slog.Logger) (Binaries, error) {
	dir, err := CacheDir()
	if err != nil {
		return Binaries{}, err
	}
	bins := Binaries{APIServer: filepath.Join(dir, "kube-apiserver"), Etcd: filepath.Join(dir, "etcd")}
	if bins.present() {
		return bins, nil
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return Binaries{}, fmt.Errorf("creating the control-plane cache: %w", err)
	}
	lock, err := os.OpenFile(filepath.Join(dir, ".lock"), os.O_CREATE|os.O_RDWR, 0o644)
	if err != nil {
		return Binaries{}, fmt.Errorf("opening the build lock: %w", err)
	}
	defer lock.Close()
	if err := syscall.Flock(int(lock.Fd()), syscall.LOCK_EX); err != nil {
		return Binaries{}, fmt.Errorf("taking the build lock: %w", err)
	}
	defer syscall.Flock(int(lock.Fd()), syscall.LOCK_UN)
	if bins.present() { // built by another process while we waited
		return bins, nil
	}
	src, err := toolsModule()
	if err != nil {
		return Binaries{}, err
	}
	log.Info("building the test control plane; the first build takes about 15 minutes on two cores",
		"kubernetes", KubernetesVersion, "etcd", EtcdVersion, "cache", dir)
	start := time.Now()
	ldflags := strings.Join([]string{
		"-s", "-w",
		"-X k8s.io/component-base/version.gitVersion=" + KubernetesVersion,
		"-X k8s.io/component-base/version.gitMajor=1",
		"-X k8s.io/component-base/version.gitMinor=" + minor(KubernetesVersion),
		"-X k8s.io/component-base/version.gitTreeState=clean",
		"-X k8s.io/component-base/version.buildDate=1970-01-01T00:00:00Z",
	}, " ")
	for _, b := range []struct{ pkg, out, ldflags string }{
		{"k8s.io/kubernetes/cmd/kube-apiserver", bins.APIServer, ldflags},
		{"go.etcd.io/etcd/server/v3", bins.Etcd, "-s -w"},
	} {
		tmp := b.out + ".tmp"
		cmd := exec.CommandContext(ctx, "go", "build", "-trimpath", "-ldflags="+b.ldflags, "-o", tmp, b.pkg)
		cmd.Dir = src
		cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
		if out, err := cmd.CombinedOutput(); err != nil {
			return Binaries{}, fmt.Errorf("building %s: %w\n%s", b.pkg, err, out)
		}
		if err := os.Rename(tmp, b.out); err != nil {
			return Binaries{}, err
		}
	}
	log.Info("test control plane built", "elapsed", time.Since(start).Round(time.Second))
	return bins, nil
}

func (b Binaries) present() bool {
	for _, p := range []string{b.APIServer, b.Etcd} {
		info, err := os.Stat(p)
		if err != nil || info.Mode()&0o111 == 0 {
			return false
		}
	}
	return true
}

// toolsModule finds hack/controlplane: $KUBEHARDEN_CONTROLPLANE_SRC, or
// the first parent of the working directory that holds it.
func toolsModule() (string, error) {
	if dir := os.Getenv("KUBEHARDEN_CONTROLPLANE_SRC"); dir != "" {
		return dir, nil
	}
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		candidate := filepath.Join(dir, "hack", "controlplane")
		if _, err := os.Stat(filepath.Join(candidate, "go.mod")); err == nil {
			return candidate, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", errors.New("hack/controlplane not found above the working directory (set KUBEHARDEN_CONTROLPLANE_SRC)")
		}
		dir = parent
	}
}

// minor returns "37" for "v1.37.2".
func minor(v string) string {
	parts := strings.Split(strings.TrimPrefix(v, "v"), ".")
	if len(parts) < 2 {
		return ""
	}
	return parts[1]
}

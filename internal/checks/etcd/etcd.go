// Package etcd holds the CIS Kubernetes Benchmark section 2 checks on
// etcd's configuration, and the etcd data directory's mode and owner
// (section 1.1).
package etcd

import (
	"net/url"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// Checks returns the etcd catalogue.
func Checks() ([]*check.Check, error) {
	rule := func(id, cis string, sev check.Severity, title, desc, fix string, eval nc.Eval) *check.Check {
		return nc.ComponentRule{
			Metadata:  check.Metadata{ID: id, Title: title, Severity: sev, Category: check.Etcd, Frameworks: check.Frameworks{CIS: []string{cis}}, Description: desc, Remediation: fix},
			Component: nodeconfig.Etcd,
			Eval:      eval,
		}.Check()
	}
	file := func(id, cis, title, desc, fix string, r nc.FileRule) *check.Check {
		r.Metadata = check.Metadata{ID: id, Title: title, Severity: check.Medium, Category: check.Etcd, Frameworks: check.Frameworks{CIS: []string{cis}}, Description: desc, Remediation: fix}
		r.Roles = []nodeconfig.FileRole{nodeconfig.RoleEtcdDataDir}
		return r.Check()
	}
	return []*check.Check{
		rule("etcd-tls", "2.1", check.High, "etcd serves clients without TLS",
			"Without --cert-file and --key-file etcd serves its clients over plain HTTP: the API server's traffic, every Secret included, crosses the network readable. Not applicable to an etcd in a pod without host networking that listens on loopback only (a sidecar only its pod reaches).",
			"Set --cert-file and --key-file on etcd and use https:// in --listen-client-urls and --advertise-client-urls.",
			whenClientsOutsidePod(nc.Set("cert-file", "key-file"))),
		rule("etcd-client-cert-auth", "2.2", check.High, "etcd accepts clients without certificates",
			"Without --client-cert-auth=true anyone who reaches etcd's client port reads and writes the whole cluster state, every Secret included. Not applicable to an etcd in a pod without host networking that listens on loopback only.",
			"Set --client-cert-auth=true and --trusted-ca-file on etcd.",
			whenClientsOutsidePod(nc.Equals("client-cert-auth", "true", "false"))),
		rule("etcd-auto-tls", "2.3", check.Medium, "etcd serves clients with a self-signed certificate",
			"--auto-tls makes etcd generate a self-signed serving certificate that clients cannot verify.",
			"Remove --auto-tls (or set it to false) and set --cert-file and --key-file.",
			nc.NotEquals("auto-tls", "true", "false")),
		rule("etcd-peer-tls", "2.4", check.High, "etcd members replicate without TLS",
			"Without --peer-cert-file and --peer-key-file etcd members replicate the cluster state in plain text. Not applicable to a single member whose peer URLs are loopback only.",
			"Set --peer-cert-file and --peer-key-file and use https:// peer URLs.",
			whenPeers(nc.Set("peer-cert-file", "peer-key-file"))),
		rule("etcd-peer-client-cert-auth", "2.5", check.High, "etcd accepts peers without certificates",
			"Without --peer-client-cert-auth=true anything that reaches the peer port can join or impersonate a member. Not applicable to a single member whose peer URLs are loopback only.",
			"Set --peer-client-cert-auth=true and --peer-trusted-ca-file.",
			whenPeers(nc.Equals("peer-client-cert-auth", "true", "false"))),
		rule("etcd-peer-auto-tls", "2.6", check.Medium, "etcd peers use self-signed certificates",
			"--peer-auto-tls makes etcd generate self-signed peer certificates that members cannot verify.",
			"Remove --peer-auto-tls and set --peer-cert-file and --peer-key-file.",
			nc.NotEquals("peer-auto-tls", "true", "false")),
		rule("etcd-shared-ca", "2.7", check.Medium, "etcd trusts the cluster's client CA",
			"When etcd's --trusted-ca-file is the CA the API server trusts for clients (--client-ca-file), every client certificate of the cluster (each kubelet's, each administrator's) is also an etcd client certificate with full access to etcd.",
			"Give etcd its own CA and issue the API server's etcd client certificate from it.",
			sharedCA),
		file("file-etcd-data-dir-mode", "1.1.11", "etcd data directory is readable by others",
			"etcd's data directory holds the whole cluster state; only etcd's user should read it.",
			"chmod 700 the etcd data directory (--data-dir, /var/lib/etcd by kubeadm).",
			nc.FileRule{MaxMode: 0o700}),
		file("file-etcd-data-dir-owner", "1.1.12", "etcd data directory is not owned by etcd's user",
			"The data directory should belong to the user etcd runs as (etcd:etcd where etcd runs as its own user, root:root where it runs as root as kubeadm's static pod does).",
			"chown the etcd data directory to the user etcd runs as (etcd:etcd on distributions that run etcd unprivileged).",
			nc.FileRule{OwnerOf: dataDirOwners}),
	}, nil
}

// whenClientsOutsidePod applies eval unless etcd listens for clients on
// loopback only inside a pod without host networking (a sidecar etcd that
// only its own pod can reach). On a host, loopback is open to every local
// process, so the client items apply.
func whenClientsOutsidePod(eval nc.Eval) nc.Eval {
	return func(n *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		if c.PodLoopback && loopbackOnly(c.Flag("listen-client-urls")) {
			return nil
		}
		return eval(n, c)
	}
}

// whenPeers applies eval only when etcd has peers: more than one member
// in --initial-cluster, or a peer URL that is not loopback.
func whenPeers(eval nc.Eval) nc.Eval {
	return func(n *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		members := c.Flag("initial-cluster").List()
		if len(members) <= 1 && loopbackOnly(c.Flag("listen-peer-urls")) && loopbackOnly(c.Flag("initial-advertise-peer-urls")) {
			return nil
		}
		return eval(n, c)
	}
}

// loopbackOnly reports whether every URL of a URL-list flag is on a
// loopback host; an unset flag is etcd's default, localhost:2380.
func loopbackOnly(f nodeconfig.Flag) bool {
	for _, raw := range f.List() {
		u, err := url.Parse(raw)
		if err != nil {
			return false
		}
		switch h := u.Hostname(); {
		case h == "localhost", h == "::1", strings.HasPrefix(h, "127."):
		default:
			return false
		}
	}
	return true
}

func sharedCA(n *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
	etcdCA := c.Flag("trusted-ca-file")
	if !etcdCA.Set {
		return nil // no client verification at all: etcd-client-cert-auth says so
	}
	for _, api := range n.Components {
		if api.Kind != nodeconfig.APIServer {
			continue
		}
		if clientCA := api.Flag("client-ca-file"); clientCA.Set && filepath.Clean(clientCA.Value) == filepath.Clean(etcdCA.Value) {
			return []nc.Violation{{Message: "--trusted-ca-file=" + etcdCA.Value + " is also kube-apiserver's --client-ca-file", Path: etcdCA.Path, Line: etcdCA.Line}}
		}
	}
	return nil
}

// dataDirOwners are the owners the data directory may have: the user
// etcd runs as when known (root:root for kubeadm's static pod, etcd:etcd on
// distributions that run it unprivileged), otherwise either of those.
func dataDirOwners(n *nodeconfig.Node, f *nodeconfig.File) []string {
	c := n.Component(nodeconfig.Etcd)
	switch {
	case c == nil || c.UID < 0:
		return []string{"root:root", "etcd:etcd"}
	case c.UID == 0:
		return []string{"root:root"}
	case f.UID == c.UID:
		return nil // owned by the user etcd runs as
	}
	return []string{"the user etcd runs as (uid " + strconv.Itoa(c.UID) + ")"}
}

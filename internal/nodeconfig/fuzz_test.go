package nodeconfig

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

// FuzzParsers feeds arbitrary bytes to every parser of node facts: command
// lines, unit files, encryption configurations, audit policies and static
// pod manifests. Nothing may panic or hang, and every component found
// names its object.
func FuzzParsers(f *testing.F) {
	for _, s := range []string{
		"apiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources:\n- resources: [secrets]\n  providers:\n  - aesgcm: {keys: [{name: k, secret: c2VjcmV0IGlzIHNlY3VyZQ==}]}\n",
		"apiVersion: audit.k8s.io/v1\nkind: Policy\nomitStages: [RequestReceived]\nrules:\n- level: Metadata\n  resources: [{group: '', resources: [secrets]}]\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec:\n  containers:\n  - name: kube-apiserver\n    command: [kube-apiserver, --a=b, --profiling, --x, y]\n",
		"Environment=\"KUBELET_ARGS=--config=/x --read-only-port=0\"\nExecStart=/usr/bin/kubelet $KUBELET_ARGS\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		text := string(data)
		argv := strings.Fields(text)
		args := ParseArgs(argv, processPath)
		c := &Component{Kind: Kubelet, Args: args}
		for _, s := range []KubeletSetting{KubeletAnonymousAuth, KubeletReadOnlyPort, KubeletAuthorizationMode} {
			_ = c.Kubelet(s)
		}
		_, _, _ = c.AuthorizationModes()
		_ = c.AnonymousAuth()
		_, _ = c.AdmissionPlugin("NodeRestriction")
		for line := range strings.Lines(text) {
			_ = unitFlags(line)
		}
		if cfg, err := ParseEncryptionConfig("f.yaml", data); err == nil {
			if _, err := json.Marshal(cfg); err != nil {
				t.Fatalf("the model does not serialise: %v", err)
			}
			_, _ = cfg.RuleFor("secrets", "")
		}
		if p, err := ParseAuditPolicy("p.yaml", data); err == nil {
			_ = p.Evaluate(AuditRequest{User: "u", Verb: "get", Resource: "secrets"})
			_ = p.Evaluate(AuditRequest{User: "u", Verb: "get", Path: "/api"})
		}
		res := source.ParseBytes("fuzz.yaml", data)
		if n := FromObjects(res.Objects); n != nil {
			for _, comp := range n.Components {
				if comp.Ref.Kind == "" {
					t.Fatalf("component without a reference: %+v", comp)
				}
			}
		}
	})
}

package checks

import (
	"context"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/source"
)

// FuzzScan runs arbitrary input through the loader, the pod-spec view and
// the whole catalogue. Nothing may panic, and every finding must name its
// check, object and message.
func FuzzScan(f *testing.F) {
	for _, s := range []string{
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec:\n  hostPID: true\n  containers:\n  - name: c\n    image: x\n    securityContext: {privileged: true, capabilities: {add: [SYS_ADMIN]}}\n  volumes:\n  - {name: v, hostPath: {path: /var/run/docker.sock}}\n",
		"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d, annotations: {kubeharden.io/ignore: '*'}}\nspec:\n  template:\n    spec:\n      containers: [{name: c, image: 'r:5000/x'}]\n",
		"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec: {jobTemplate: {spec: {template: {spec: {containers: []}}}}}\n",
		"apiVersion: example.com/v1\nkind: Rollout\nmetadata: {name: r}\nspec: {template: {spec: {containers: [{name: a}]}}}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {containers: [{name: c, ports: [{containerPort: '80'}]}]}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: p}\nspec: {securityContext: {sysctls: [{name: kernel.x}]}, ephemeralContainers: [{name: e, image: y}]}\n",
		"apiVersion: policy.networking.k8s.io/v1alpha1\nkind: AdminNetworkPolicy\nmetadata: {name: a}\nspec:\n  priority: 5\n  subject: {namespaces: {}}\n  ingress: [{action: Deny, from: [{pods: {namespaceSelector: {}, podSelector: {matchLabels: {a: b}}}}], ports: [{namedPort: http}, {portRange: {start: 1, end: 9}}]}]\n  egress: [{action: Pass, to: [{networks: [10.0.0.0/8, 'fd00::/8']}]}]\n---\napiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec: {template: {metadata: {labels: {a: b}}, spec: {containers: [{name: c, ports: [{name: http, containerPort: 80}]}]}}}\n",
		"apiVersion: networking.k8s.io/v1\nkind: Ingress\nmetadata: {name: i}\nspec: {rules: [{http: {paths: [{backend: {service: {name: s, port: {name: web}}}}]}}]}\n---\napiVersion: v1\nkind: Service\nmetadata: {name: s}\nspec: {selector: {a: b}, ports: [{name: web, port: 80, targetPort: http}]}\n---\napiVersion: route.openshift.io/v1\nkind: Route\nmetadata: {name: r}\nspec: {to: {kind: Service, name: s}, port: {targetPort: 80}}\n",
		"apiVersion: v1\nkind: Pod\nmetadata: {name: kube-apiserver, namespace: kube-system}\nspec: {containers: [{name: kube-apiserver, command: [kube-apiserver, --authorization-mode=AlwaysAllow, --enable-admission-plugins]}]}\n---\napiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nauthentication: {anonymous: {enabled: true}}\n---\napiVersion: audit.k8s.io/v1\nkind: Policy\nrules: [{level: None}]\n---\napiVersion: apiserver.config.k8s.io/v1\nkind: EncryptionConfiguration\nresources: [{resources: [secrets], providers: [{identity: {}}]}]\n",
		"apiVersion: security.istio.io/v1\nkind: PeerAuthentication\nmetadata: {name: p, namespace: x}\nspec: {mtls: {mode: PERMISSIVE}, portLevelMtls: {'80': {mode: DISABLE}}}\n---\napiVersion: v1\nkind: Namespace\nmetadata: {name: x, labels: {istio-injection: enabled}}\n",
	} {
		f.Add([]byte(s))
	}
	reg, err := Registry()
	if err != nil {
		f.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{Workers: 1, IncludeControlPlane: true})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		res := source.ParseBytes("fuzz.yaml", data)
		out, _, err := runner.Evaluate(context.Background(), res.Objects, check.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		for _, f := range out.Findings {
			if f.Check == "" || f.Message == "" || f.Object == nil || f.Object.Kind == "" {
				t.Fatalf("incomplete finding %+v", f)
			}
		}
	})
}

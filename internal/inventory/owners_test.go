package inventory

import (
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/source"
)

const ownedChain = `apiVersion: apps/v1
kind: Deployment
metadata: {name: web, namespace: ns, uid: d1}
spec:
  template:
    spec:
      containers: [{name: app, image: 'nginx:1', securityContext: {runAsNonRoot: true}}]
---
apiVersion: apps/v1
kind: ReplicaSet
metadata:
  name: web-1
  namespace: ns
  uid: r1
  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: web, uid: d1, controller: true}]
spec:
  template:
    spec:
      containers: [{name: app, image: 'nginx:1', securityContext: {runAsNonRoot: true}}]
---
apiVersion: v1
kind: Pod
metadata:
  name: web-1-a
  namespace: ns
  uid: p1
  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: web-1, uid: r1, controller: true}]
spec:
  nodeName: node-1
  tolerations: [{key: node.kubernetes.io/not-ready, operator: Exists, effect: NoExecute}]
  containers:
  - name: app
    image: 'nginx:1'
    securityContext: {runAsNonRoot: true}
    volumeMounts: [{name: kube-api-access-x, mountPath: /var/run/secrets/kubernetes.io/serviceaccount}]
  volumes: [{name: kube-api-access-x, projected: {sources: []}}]
`

func names(objs []*source.Object) string {
	var out []string
	for _, o := range objs {
		out = append(out, o.Kind()+"/"+o.Name())
	}
	return strings.Join(out, ",")
}

func TestCollapseOwned(t *testing.T) {
	objs := source.ParseBytes("c.yaml", []byte(ownedChain)).Objects
	kept, dropped := CollapseOwned(objs)
	if names(kept) != "Deployment/web" || dropped != 2 {
		t.Errorf("kept %s, dropped %d; want only the Deployment", names(kept), dropped)
	}

	// A pod changed after creation (here: privileged) is reported itself.
	changed := strings.Replace(ownedChain, "    securityContext: {runAsNonRoot: true}\n    volumeMounts", "    securityContext: {runAsNonRoot: true, privileged: true}\n    volumeMounts", 1)
	kept, _ = CollapseOwned(source.ParseBytes("c.yaml", []byte(changed)).Objects)
	if names(kept) != "Deployment/web,Pod/web-1-a" {
		t.Errorf("kept %s; a pod that differs from its template must stay", names(kept))
	}

	// Without the owner in the set (e.g. --kinds Pod), nothing collapses.
	podOnly := ownedChain[strings.LastIndex(ownedChain, "---"):]
	kept, _ = CollapseOwned(source.ParseBytes("c.yaml", []byte(podOnly)).Objects)
	if names(kept) != "Pod/web-1-a" {
		t.Errorf("kept %s", names(kept))
	}
}

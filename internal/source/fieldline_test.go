package source

import "testing"

func TestFieldLine(t *testing.T) {
	doc := `apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  labels:
    pod-security.kubernetes.io/enforce: privileged
spec:
  template:
    spec:
      volumes:
      - name: data
        hostPath: {path: /var/run/docker.sock}
      containers:
      - name: app
        image: nginx
        securityContext:
          privileged: true
      -
        name: sidecar
        ports:
        - containerPort: 80
          hostPort: 80
`
	cases := map[string]int{
		"spec.template.spec.containers[0].securityContext.privileged":             17,
		"spec.template.spec.containers[0].image":                                  15,
		"spec.template.spec.containers[0].securityContext.readOnlyRootFilesystem": 16, // missing: deepest existing
		"spec.template.spec.containers[1].ports":                                  20,
		"spec.template.spec.containers[1].ports[0].hostPort":                      22,
		"spec.template.spec.volumes[0].hostPath.path":                             12, // inside a flow mapping: its key
		"spec.template.spec.automountServiceAccountToken":                         9,
		"metadata.labels.pod-security.kubernetes.io/enforce":                      6,
		"spec.template.spec.containers[5]":                                        13,
		"status":                                                                  0,
	}
	for path, want := range cases {
		if got := fieldLine([]byte(doc), path); got != want {
			t.Errorf("%s: line %d, want %d", path, got, want)
		}
	}
}

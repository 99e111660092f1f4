package workload

import (
	"context"
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
	"github.com/kubeharden/kubeharden/internal/source"
)

// hardenedPod is a pod that passes every check; cases tweak it.
const hardenedPod = `
apiVersion: v1
kind: Pod
metadata: {name: p, namespace: ns}
spec:
  serviceAccountName: app
  automountServiceAccountToken: false
  securityContext:
    runAsNonRoot: true
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: app
    image: registry.example.com/app:1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000
    securityContext:
      allowPrivilegeEscalation: false
      readOnlyRootFilesystem: true
      capabilities: {drop: [ALL]}
    resources:
      requests: {cpu: 10m, memory: 10Mi}
      limits: {cpu: 100m, memory: 100Mi}
`

// tweak applies text replacements to hardenedPod.
func tweak(pairs ...string) string {
	return strings.NewReplacer(pairs...).Replace(hardenedPod)
}

const containerSC = "      allowPrivilegeEscalation: false\n"

type checkCase struct {
	name     string
	check    string
	manifest string
	// wantPaths are the field paths expected, in order; nil means quiet.
	wantPaths []string
}

func checkCases() []checkCase {
	return []checkCase{
		{"privileged fires", "privileged-container", tweak(containerSC, containerSC+"      privileged: true\n"), []string{"spec.containers[0].securityContext.privileged"}},
		{"privileged false is quiet", "privileged-container", tweak(containerSC, containerSC+"      privileged: false\n"), nil},
		{"hostPID fires", "host-namespaces", tweak("  serviceAccountName: app\n", "  serviceAccountName: app\n  hostPID: true\n"), []string{"spec.hostPID"}},
		{"no host namespaces is quiet", "host-namespaces", hardenedPod, nil},
		{"hostPath volume fires", "host-path-volume", hardenedPod + "  volumes:\n  - name: v\n    hostPath: {path: /data}\n", []string{"spec.volumes[0].hostPath"}},
		{"emptyDir is quiet", "host-path-volume", hardenedPod + "  volumes:\n  - name: v\n    emptyDir: {}\n", nil},
		{"hostPort fires", "host-ports", hardenedPod + "    ports:\n    - containerPort: 80\n      hostPort: 80\n", []string{"spec.containers[0].ports"}},
		{"containerPort only is quiet", "host-ports", hardenedPod + "    ports:\n    - containerPort: 80\n", nil},
		{"SYS_ADMIN fires baseline capabilities", "capabilities-baseline", tweak("drop: [ALL]", "drop: [ALL], add: [SYS_ADMIN]"), []string{"spec.containers[0].securityContext.capabilities.add"}},
		{"NET_BIND_SERVICE is quiet for baseline", "capabilities-baseline", tweak("drop: [ALL]", "drop: [ALL], add: [NET_BIND_SERVICE]"), nil},
		{"AppArmor unconfined fires", "apparmor-profile", tweak(containerSC, containerSC+"      appArmorProfile: {type: Unconfined}\n"), []string{"spec.containers[0].securityContext.appArmorProfile"}},
		{"AppArmor RuntimeDefault is quiet", "apparmor-profile", tweak(containerSC, containerSC+"      appArmorProfile: {type: RuntimeDefault}\n"), nil},
		{"SELinux custom type fires", "selinux-options", tweak(containerSC, containerSC+"      seLinuxOptions: {type: spc_t}\n"), []string{"spec.containers[0].securityContext.seLinuxOptions"}},
		{"SELinux container_t is quiet", "selinux-options", tweak(containerSC, containerSC+"      seLinuxOptions: {type: container_t}\n"), nil},
		{"Unmasked procMount fires", "proc-mount", tweak(containerSC, containerSC+"      procMount: Unmasked\n"), []string{"spec.containers[0].securityContext.procMount"}},
		{"Default procMount is quiet", "proc-mount", tweak(containerSC, containerSC+"      procMount: Default\n"), nil},
		{"Unmasked procMount fires restricted", "proc-mount-restricted", tweak(containerSC, containerSC+"      procMount: Unmasked\n"), []string{"spec.containers[0].securityContext.procMount"}},
		{"Default procMount is quiet restricted", "proc-mount-restricted", hardenedPod, nil},
		{"pod seccomp Unconfined fires once, at the pod", "seccomp-unconfined", tweak("type: RuntimeDefault", "type: Unconfined"), []string{"spec.securityContext.seccompProfile"}},
		{"seccomp RuntimeDefault is quiet", "seccomp-unconfined", hardenedPod, nil},
		{"unsafe sysctl fires", "unsafe-sysctls", tweak("    runAsNonRoot: true\n", "    runAsNonRoot: true\n    sysctls: [{name: net.core.somaxconn, value: '1024'}]\n"), []string{"spec.securityContext.sysctls"}},
		{"safe sysctl is quiet", "unsafe-sysctls", tweak("    runAsNonRoot: true\n", "    runAsNonRoot: true\n    sysctls: [{name: net.ipv4.tcp_syncookies, value: '1'}]\n"), nil},
		{"Windows HostProcess fires", "windows-host-process", tweak("    runAsNonRoot: true\n", "    runAsNonRoot: true\n    windowsOptions: {hostProcess: true}\n"), []string{"spec.securityContext.windowsOptions.hostProcess"}},
		{"no HostProcess is quiet", "windows-host-process", hardenedPod, nil},
		{"probe host fires", "host-probes-lifecycle", hardenedPod + "    livenessProbe:\n      httpGet: {host: 10.0.0.1, port: 80}\n", []string{"spec.containers[0]"}},
		{"probe without host is quiet", "host-probes-lifecycle", hardenedPod + "    livenessProbe:\n      httpGet: {port: 80}\n", nil},
		{"nfs volume fires restricted volumes", "restricted-volume-types", hardenedPod + "  volumes:\n  - name: v\n    nfs: {server: s, path: /p}\n", []string{"spec.volumes[0]"}},
		{"volume without source defaults to emptyDir", "restricted-volume-types", hardenedPod + "  volumes:\n  - name: v\n", nil},
		{"allowPrivilegeEscalation unset fires", "allow-privilege-escalation", tweak(containerSC, ""), []string{"spec.containers[0].securityContext.allowPrivilegeEscalation"}},
		{"allowPrivilegeEscalation false is quiet", "allow-privilege-escalation", hardenedPod, nil},
		{"runAsNonRoot unset fires", "run-as-non-root", tweak("    runAsNonRoot: true\n", ""), []string{"spec.containers[0].securityContext.runAsNonRoot"}},
		{"runAsNonRoot at pod level is quiet", "run-as-non-root", hardenedPod, nil},
		{"runAsUser 0 fires", "run-as-user-root", tweak(containerSC, containerSC+"      runAsUser: 0\n"), []string{"spec.containers[0].securityContext.runAsUser"}},
		{"runAsUser 1000 is quiet", "run-as-user-root", tweak(containerSC, containerSC+"      runAsUser: 1000\n"), nil},
		{"no seccomp profile fires", "seccomp-profile-missing", tweak("    seccompProfile: {type: RuntimeDefault}\n", ""), []string{"spec.containers[0].securityContext.seccompProfile"}},
		{"seccomp at pod level is quiet", "seccomp-profile-missing", hardenedPod, nil},
		{"capabilities not dropped fires", "capabilities-restricted", tweak("capabilities: {drop: [ALL]}", "capabilities: {}"), []string{"spec.containers[0].securityContext.capabilities"}},
		{"drop ALL is quiet", "capabilities-restricted", hardenedPod, nil},
		{"writable root filesystem fires", "read-only-root-filesystem", tweak("readOnlyRootFilesystem: true", "readOnlyRootFilesystem: false"), []string{"spec.containers[0].securityContext.readOnlyRootFilesystem"}},
		{"read-only root filesystem is quiet", "read-only-root-filesystem", hardenedPod, nil},
		{"missing memory limit fires", "memory-limit-missing", tweak("cpu: 100m, memory: 100Mi", "cpu: 100m"), []string{"spec.containers[0].resources.limits.memory"}},
		{"pod-level resources satisfy it", "memory-limit-missing", tweak("cpu: 100m, memory: 100Mi", "cpu: 100m", "  serviceAccountName: app\n", "  serviceAccountName: app\n  resources: {limits: {memory: 1Gi}}\n"), nil},
		{"missing memory request fires", "memory-request-missing", tweak("requests: {cpu: 10m, memory: 10Mi}", "requests: {cpu: 10m}", "cpu: 100m, memory: 100Mi", "cpu: 100m"), []string{"spec.containers[0].resources.requests.memory"}},
		{"a memory limit defaults the request", "memory-request-missing", tweak("requests: {cpu: 10m, memory: 10Mi}", "requests: {cpu: 10m}"), nil},
		{"missing CPU request fires", "cpu-request-missing", tweak("requests: {cpu: 10m, memory: 10Mi}", "requests: {memory: 10Mi}", "cpu: 100m, memory: 100Mi", "memory: 100Mi"), []string{"spec.containers[0].resources.requests.cpu"}},
		{"CPU request is quiet", "cpu-request-missing", hardenedPod, nil},
		{"missing CPU limit fires", "cpu-limit-missing", tweak("cpu: 100m, memory: 100Mi", "memory: 100Mi"), []string{"spec.containers[0].resources.limits.cpu"}},
		{"CPU limit is quiet", "cpu-limit-missing", hardenedPod, nil},
		{"token automount unset fires", "automount-service-account-token", tweak("  automountServiceAccountToken: false\n", ""), []string{"spec.automountServiceAccountToken"}},
		{"service account with automount false is quiet", "automount-service-account-token",
			tweak("  automountServiceAccountToken: false\n", "") + "---\napiVersion: v1\nkind: ServiceAccount\nmetadata: {name: app, namespace: ns}\nautomountServiceAccountToken: false\n", nil},
		{"default service account fires", "default-service-account", tweak("  serviceAccountName: app\n", ""), []string{"spec.serviceAccountName"}},
		{"dedicated service account is quiet", "default-service-account", hardenedPod, nil},
		{"SYS_PTRACE and CAP_NET_ADMIN fire", "dangerous-capabilities", tweak("drop: [ALL]", "drop: [ALL], add: [CHOWN, SYS_PTRACE, CAP_NET_ADMIN]"),
			[]string{"spec.containers[0].securityContext.capabilities.add[1]", "spec.containers[0].securityContext.capabilities.add[2]"}},
		{"NET_BIND_SERVICE is not dangerous", "dangerous-capabilities", tweak("drop: [ALL]", "drop: [ALL], add: [NET_BIND_SERVICE]"), nil},
		{"docker socket fires", "sensitive-host-path", hardenedPod + "  volumes:\n  - name: v\n    hostPath: {path: /var/run/docker.sock}\n", []string{"spec.volumes[0].hostPath.path"}},
		{"a data directory is not sensitive", "sensitive-host-path", hardenedPod + "  volumes:\n  - name: v\n    hostPath: {path: /mnt/data}\n", nil},
		{"shareProcessNamespace fires", "share-process-namespace", tweak("  serviceAccountName: app\n", "  serviceAccountName: app\n  shareProcessNamespace: true\n"), []string{"spec.shareProcessNamespace"}},
		{"shareProcessNamespace false is quiet", "share-process-namespace", tweak("  serviceAccountName: app\n", "  serviceAccountName: app\n  shareProcessNamespace: false\n"), nil},
		{"untagged image fires", "image-tag-latest", tweak("registry.example.com/app:1.0@sha256:0000000000000000000000000000000000000000000000000000000000000000", "registry.example.com:5000/app"), []string{"spec.containers[0].image"}},
		{"version tag is quiet", "image-tag-latest", tweak("@sha256:0000000000000000000000000000000000000000000000000000000000000000", ""), nil},
		{"tag without digest fires", "image-not-pinned-by-digest", tweak("@sha256:0000000000000000000000000000000000000000000000000000000000000000", ""), []string{"spec.containers[0].image"}},
		{"digest is quiet", "image-not-pinned-by-digest", hardenedPod, nil},
		{"IfNotPresent with a mutable tag fires", "image-pull-policy-mutable-tag", tweak("@sha256:0000000000000000000000000000000000000000000000000000000000000000", "\n    imagePullPolicy: IfNotPresent"), []string{"spec.containers[0].image"}},
		{"namespace without enforce label fires", "namespace-pod-security-not-enforced", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop}\n", []string{"metadata.labels"}},
		{"namespace enforcing privileged fires", "namespace-pod-security-not-enforced", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: privileged}}\n", []string{"metadata.labels.pod-security.kubernetes.io/enforce"}},
		{"restricted namespace is quiet", "namespace-pod-security-not-enforced", "apiVersion: v1\nkind: Namespace\nmetadata: {name: shop, labels: {pod-security.kubernetes.io/enforce: restricted}}\n", nil},
		{"kube-system is not checked", "namespace-pod-security-not-enforced", "apiVersion: v1\nkind: Namespace\nmetadata: {name: kube-system}\n", nil},
		{"IfNotPresent with a digest is quiet", "image-pull-policy-mutable-tag", tweak("0000000000000000000000000000000000000000000000000000000000000000", "0000000000000000000000000000000000000000000000000000000000000000\n    imagePullPolicy: IfNotPresent"), nil},
	}
}

func runCheck(t *testing.T, id, manifest string) []check.Finding {
	t.Helper()
	all, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	return checktest.Run(t, all, check.Options{Selection: check.Selection{Only: []string{id}}}, manifest)
}

func TestChecks(t *testing.T) {
	fires, quiet := map[string]bool{}, map[string]bool{}
	for _, tc := range checkCases() {
		t.Run(tc.check+"/"+tc.name, func(t *testing.T) {
			got := runCheck(t, tc.check, tc.manifest)
			var paths []string
			for _, f := range got {
				paths = append(paths, f.Path)
				if f.Message == "" || f.Check != tc.check || f.Object == nil {
					t.Errorf("incomplete finding: %+v", f)
				}
			}
			if strings.Join(paths, "|") != strings.Join(tc.wantPaths, "|") {
				t.Errorf("paths = %q, want %q\nfindings: %+v", paths, tc.wantPaths, got)
			}
		})
		if tc.wantPaths == nil {
			quiet[tc.check] = true
		} else {
			fires[tc.check] = true
		}
	}
	all, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range all {
		if !fires[c.ID] || !quiet[c.ID] {
			t.Errorf("check %s needs a case that fires (%v) and one that stays quiet (%v)", c.ID, fires[c.ID], quiet[c.ID])
		}
	}
}

// TestHardenedPodIsClean guards the fixture the cases above start from.
func TestHardenedPodIsClean(t *testing.T) {
	all, _ := Checks()
	for _, c := range all {
		if got := runCheck(t, c.ID, hardenedPod); len(got) > 0 {
			t.Errorf("%s fires on the hardened pod: %+v", c.ID, got)
		}
	}
}

func TestWorkloadKinds(t *testing.T) {
	tmpl := "    metadata: {labels: {a: b}}\n    spec:\n      containers:\n      - {name: c, image: 'x:1', securityContext: {privileged: true}}\n"
	cases := map[string]struct{ manifest, path string }{
		"Deployment":  {"apiVersion: apps/v1\nkind: Deployment\nmetadata: {name: d}\nspec:\n  template:\n" + tmpl, "spec.template.spec.containers[0].securityContext.privileged"},
		"CronJob":     {"apiVersion: batch/v1\nkind: CronJob\nmetadata: {name: c}\nspec:\n  jobTemplate:\n    spec:\n      template:\n" + indent(tmpl, 4), "spec.jobTemplate.spec.template.spec.containers[0].securityContext.privileged"},
		"PodTemplate": {"apiVersion: v1\nkind: PodTemplate\nmetadata: {name: t}\ntemplate:\n" + indent(tmpl, -2), "template.spec.containers[0].securityContext.privileged"},
		"Argo Rollout (custom resource)": {"apiVersion: argoproj.io/v1alpha1\nkind: Rollout\nmetadata: {name: r}\nspec:\n  template:\n" + tmpl,
			"spec.template.spec.containers[0].securityContext.privileged"},
	}
	for name, tc := range cases {
		t.Run(name, func(t *testing.T) {
			got := runCheck(t, "privileged-container", tc.manifest)
			if len(got) != 1 || got[0].Path != tc.path {
				t.Fatalf("findings = %+v, want one at %s", got, tc.path)
			}
		})
	}
}

func indent(s string, n int) string {
	lines := strings.Split(strings.TrimSuffix(s, "\n"), "\n")
	for i, l := range lines {
		if n >= 0 {
			lines[i] = strings.Repeat(" ", n) + l
		} else {
			lines[i] = l[-n:]
		}
	}
	return strings.Join(lines, "\n") + "\n"
}

// TestControlPlaneStaticPod: a kubeadm kube-apiserver manifest needs host
// networking, host paths and root; by default only the checks marked for
// control-plane pods run on it.
func TestControlPlaneStaticPod(t *testing.T) {
	manifest := `apiVersion: v1
kind: Pod
metadata:
  name: kube-apiserver
  namespace: kube-system
  labels: {component: kube-apiserver, tier: control-plane}
spec:
  hostNetwork: true
  priorityClassName: system-node-critical
  securityContext:
    seccompProfile: {type: RuntimeDefault}
  containers:
  - name: kube-apiserver
    image: registry.k8s.io/kube-apiserver:v1.37.2
    command: [kube-apiserver, --advertise-address=10.0.0.1]
    resources: {requests: {cpu: 250m}}
    volumeMounts:
    - {name: k8s-certs, mountPath: /etc/kubernetes/pki, readOnly: true}
  volumes:
  - name: k8s-certs
    hostPath: {path: /etc/kubernetes/pki, type: DirectoryOrCreate}
`
	all, _ := Checks()
	reg, _ := check.NewRegistry(all...)
	for _, include := range []bool{false, true} {
		runner, err := check.NewRunner(reg, check.Options{IncludeControlPlane: include})
		if err != nil {
			t.Fatal(err)
		}
		res := source.ParseBytes("kube-apiserver.yaml", []byte(manifest))
		out, _, err := runner.Evaluate(context.Background(), res.Objects, check.Settings{})
		if err != nil {
			t.Fatal(err)
		}
		if !include && len(out.Findings) != 0 {
			t.Errorf("default: %d findings on a kubeadm static pod, want 0: %+v", len(out.Findings), out.Findings)
		}
		if include && len(out.Findings) < 5 {
			t.Errorf("--include-control-plane: %d findings, want the full set", len(out.Findings))
		}
	}
	// A privileged control-plane pod is still reported.
	priv := strings.Replace(manifest, "    resources:", "    securityContext: {privileged: true}\n    resources:", 1)
	if got := runCheck(t, "privileged-container", priv); len(got) != 1 {
		t.Errorf("privileged control-plane pod: %d findings, want 1", len(got))
	}
}

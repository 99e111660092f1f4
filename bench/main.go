// Command bench is kubeharden's scale harness. It generates synthetic
// clusters of the requested sizes (a realistic mix of kinds, as manifest
// files), runs `kubeharden scan` on each, and prints wall time, objects/s,
// peak RSS and RSS per object.
//
//	go run ./bench                       # 1k, 10k and 100k objects
//	go run ./bench -sizes 1000000        # 1M objects (about 1.4 GB of YAML)
//	go run ./bench -rbac                 # the RBAC world: 50k roles and bindings, 20k service accounts
//	go run ./bench -webhook              # admission webhook latency at 500 and 2,000 requests/s, 5-minute soak
package main

import (
	"bufio"
	"context"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

func main() {
	var (
		sizes  = flag.String("sizes", "1000,10000,100000", "comma-separated object counts")
		bin    = flag.String("bin", "", "kubeharden binary (built from this checkout when empty)")
		work   = flag.String("dir", "", "where to generate clusters (a temporary directory when empty)")
		output = flag.String("o", "json", "report format the scan writes (to /dev/null)")
		keep   = flag.Bool("keep", false, "keep the generated clusters")
		rbacW  = flag.Bool("rbac", false, "measure the rbac commands and access-control checks on a generated RBAC world instead")
		hook   = flag.Bool("webhook", false, "measure the admission webhook under load instead")
		rates  = flag.String("rates", "500,2000", "with -webhook: request rates per second")
		phase  = flag.Duration("phase", 30*time.Second, "with -webhook: how long each rate runs")
		soak   = flag.Duration("soak", 5*time.Minute, "with -webhook: soak duration at 1,000 requests/s (0 to skip)")
	)
	flag.Parse()
	log := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if *hook {
		if err := runWebhook(context.Background(), *bin, *work, *rates, *phase, *soak); err != nil {
			log.Error("bench failed", "err", err)
			os.Exit(1)
		}
		return
	}
	if *rbacW {
		if err := runRBAC(context.Background(), *bin, *work); err != nil {
			log.Error("bench failed", "err", err)
			os.Exit(1)
		}
		return
	}
	if err := run(context.Background(), *sizes, *bin, *work, *output, *keep); err != nil {
		log.Error("bench failed", "err", err)
		os.Exit(1)
	}
}

func run(ctx context.Context, sizeList, bin, work, output string, keep bool) error {
	if work == "" {
		dir, err := os.MkdirTemp("", "kubeharden-bench-")
		if err != nil {
			return err
		}
		work = dir
		if !keep {
			defer os.RemoveAll(dir)
		}
	}
	bin, err := buildBinary(ctx, bin, work)
	if err != nil {
		return err
	}
	fmt.Printf("%-10s %10s %10s %12s %12s %14s %10s %12s %12s\n", "objects", "files", "wall", "objects/s", "peak RSS", "RSS/object", "findings", "of it: anon", "file")
	for _, s := range strings.Split(sizeList, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if err != nil || n <= 0 {
			return fmt.Errorf("bad size %q", s)
		}
		dir := filepath.Join(work, fmt.Sprintf("cluster-%d", n))
		files, err := generate(dir, n)
		if err != nil {
			return fmt.Errorf("generating %d objects: %w", n, err)
		}
		// Write the generated files out now, or the kernel writes them back
		// while the scan is timed, on the same two cores.
		syscall.Sync()
		m, err := measure(ctx, bin, dir, output)
		if err != nil {
			return err
		}
		fmt.Printf("%-10d %10d %9.2fs %12.0f %11.1fM %13.2fK %10d %12s %12s\n", n, files, m.wall.Seconds(),
			float64(n)/m.wall.Seconds(), float64(m.maxRSS)/(1<<20), float64(m.maxRSS)/float64(n)/1024, m.findings,
			m.peak.megabytes(m.peak.Anon), m.peak.megabytes(m.peak.File))
		if !keep {
			os.RemoveAll(dir)
		}
	}
	return nil
}

// workDir is work, or a fresh temporary directory removed by cleanup.
func workDir(work, prefix string) (dir string, cleanup func(), err error) {
	if work != "" {
		return work, func() {}, nil
	}
	if dir, err = os.MkdirTemp("", prefix); err != nil {
		return "", nil, err
	}
	return dir, func() { os.RemoveAll(dir) }, nil
}

// releaseTags are the build tags of a release binary (see the README):
// kustomize without Go plugin support, so that Go's plugin package, which
// exports every symbol and keeps every method, stays out of the binary.
const releaseTags = "kustomize_disable_go_plugin_support"

// buildBinary builds kubeharden into work unless bin names one.
func buildBinary(ctx context.Context, bin, work string) (string, error) {
	if bin != "" {
		return bin, nil
	}
	bin = filepath.Join(work, "kubeharden")
	build := exec.CommandContext(ctx, "go", "build", "-tags", releaseTags, "-o", bin, "./cmd/kubeharden")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		return "", fmt.Errorf("building kubeharden: %w", err)
	}
	return bin, nil
}

// runRBAC generates the RBAC world and times the commands that read it
// whole: each run loads every file, builds the world and answers.
func runRBAC(ctx context.Context, bin, work string) error {
	work, cleanup, err := workDir(work, "kubeharden-bench-rbac-")
	if err != nil {
		return err
	}
	defer cleanup()
	if bin, err = buildBinary(ctx, bin, work); err != nil {
		return err
	}
	dir := filepath.Join(work, "rbac-world")
	n, err := generateRBACWorld(dir, defaultRBACWorld, 1)
	if err != nil {
		return err
	}
	fmt.Printf("RBAC world: %d objects (%+v)\n", n, defaultRBACWorld)
	fmt.Printf("%-60s %9s %11s\n", "command", "wall", "peak RSS")
	for _, args := range [][]string{
		{"rbac", "who-can", "get", "secrets", "-n", "team-7", "-f", dir},
		{"rbac", "can", "serviceaccount:team-7:svc-3", "-f", dir},
		{"rbac", "paths", "--all", "-f", dir, "-o", "json"},
		{"scan", dir, "--categories", "access-control", "--fail-on", "none", "-o", "json"},
	} {
		m, err := measureCommand(ctx, bin, args...)
		if err != nil {
			return err
		}
		shown := strings.ReplaceAll(strings.Join(args, " "), dir, "WORLD")
		fmt.Printf("%-60s %8.2fs %10.1fM\n", shown, m.wall.Seconds(), float64(m.maxRSS)/(1<<20))
	}
	return nil
}

// measureCommand runs kubeharden with args, output discarded, and returns
// its wall time and peak RSS.
func measureCommand(ctx context.Context, bin string, args ...string) (measurement, error) {
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = os.Stderr
	start := time.Now()
	if err := cmd.Run(); err != nil {
		return measurement{}, fmt.Errorf("%v: %w", args, err)
	}
	m := measurement{wall: time.Since(start)}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss * 1024
	}
	return m, nil
}

type measurement struct {
	wall     time.Duration
	maxRSS   int64 // bytes
	peak     peakMemory
	findings int
}

// measure runs one scan and reads the child's peak RSS from its rusage,
// and, where /proc has it, its peak anonymous and file-backed memory.
func measure(ctx context.Context, bin, dir, output string) (measurement, error) {
	cmd := exec.CommandContext(ctx, bin, "scan", dir, "-o", output, "--fail-on", "none")
	devnull, err := os.Create(os.DevNull)
	if err != nil {
		return measurement{}, err
	}
	defer devnull.Close()
	cmd.Stdout, cmd.Stderr = devnull, os.Stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		return measurement{}, fmt.Errorf("scan of %s: %w", dir, err)
	}
	stop := make(chan struct{})
	sampled := peakResidentMemory(cmd.Process.Pid, 10*time.Millisecond, stop)
	err = cmd.Wait()
	close(stop)
	peak := <-sampled
	if err != nil {
		return measurement{}, fmt.Errorf("scan of %s: %w", dir, err)
	}
	m := measurement{wall: time.Since(start), peak: peak}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		m.maxRSS = ru.Maxrss * 1024 // kilobytes on Linux
	}
	// Count findings with a second, cheap run of the summary line.
	out, err := exec.CommandContext(ctx, bin, "scan", dir, "--fail-on", "none", "--color", "never").Output()
	if err == nil {
		lines := strings.Split(strings.TrimSpace(string(out)), "\n")
		for _, l := range lines {
			if strings.Contains(l, "objects scanned,") {
				fmt.Sscanf(l[strings.Index(l, ",")+1:], "%d", &m.findings)
			}
		}
	}
	return m, nil
}

// generate writes n objects into dir as multi-document files of about 100
// objects each, and returns the number of files. Each "application" is a
// namespace-scoped set: a Deployment with its ReplicaSet and three Pods, a
// Service, two ConfigMaps, a Secret, a ServiceAccount, a Role, a
// RoleBinding and a NetworkPolicy; every fourth application is hardened.
func generate(dir string, n int) (int, error) {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return 0, err
	}
	var (
		files   int
		w       *bufio.Writer
		f       *os.File
		inFile  int
		written int
	)
	flush := func() error {
		if f == nil {
			return nil
		}
		if err := w.Flush(); err != nil {
			return err
		}
		return f.Close()
	}
	for app := 0; written < n; app++ {
		for _, doc := range application(app) {
			if written == n {
				break
			}
			if f == nil || inFile >= 100 {
				if err := flush(); err != nil {
					return 0, err
				}
				var err error
				f, err = os.Create(filepath.Join(dir, fmt.Sprintf("part-%06d.yaml", files)))
				if err != nil {
					return 0, err
				}
				w = bufio.NewWriterSize(f, 256<<10)
				files++
				inFile = 0
			}
			if inFile > 0 {
				w.WriteString("---\n")
			}
			w.WriteString(doc)
			inFile++
			written++
		}
	}
	return files, flush()
}

func application(i int) []string {
	ns := fmt.Sprintf("team-%d", i/20)
	name := fmt.Sprintf("app-%d", i)
	hardened := i%4 == 0
	sc := "        securityContext:\n          privileged: false\n"
	podSC := ""
	image := fmt.Sprintf("registry.example.com/%s:1.%d.0", name, i%10)
	automount := ""
	if hardened {
		sc = "        securityContext:\n          allowPrivilegeEscalation: false\n          readOnlyRootFilesystem: true\n          capabilities: {drop: [ALL]}\n"
		podSC = "      securityContext:\n        runAsNonRoot: true\n        seccompProfile: {type: RuntimeDefault}\n"
		image += "@sha256:" + strings.Repeat(fmt.Sprintf("%x", i%16), 64)
		automount = "      automountServiceAccountToken: false\n"
	}
	labels := fmt.Sprintf("{app: %s, team: %s, tier: backend}", name, ns)
	podSpec := func(indent string) string {
		s := "spec:\n" + automount + podSC + "  serviceAccountName: " + name + "\n  containers:\n  - name: main\n    image: " + image + "\n    ports:\n    - containerPort: 8080\n" +
			strings.ReplaceAll(sc, "        ", "    ") +
			"    resources:\n      requests: {cpu: 100m, memory: 128Mi}\n      limits: {cpu: 500m, memory: 256Mi}\n" +
			"    env:\n    - {name: LOG_LEVEL, value: info}\n    - {name: DB_HOST, value: db." + ns + ".svc}\n" +
			"    readinessProbe:\n      httpGet: {path: /healthz, port: 8080}\n"
		s = strings.ReplaceAll(s, "      automountServiceAccountToken", "  automountServiceAccountToken")
		s = strings.ReplaceAll(s, "      securityContext:\n        runAsNonRoot", "  securityContext:\n    runAsNonRoot")
		s = strings.ReplaceAll(s, "        seccompProfile", "    seccompProfile")
		var b strings.Builder
		for _, line := range strings.Split(strings.TrimSuffix(s, "\n"), "\n") {
			b.WriteString(indent + line + "\n")
		}
		return b.String()
	}
	meta := func(kind, apiVersion, n string) string {
		return fmt.Sprintf("apiVersion: %s\nkind: %s\nmetadata:\n  name: %s\n  namespace: %s\n  labels: %s\n", apiVersion, kind, n, ns, labels)
	}
	docs := []string{
		meta("Deployment", "apps/v1", name) + "spec:\n  replicas: 3\n  selector:\n    matchLabels: {app: " + name + "}\n  template:\n    metadata:\n      labels: " + labels + "\n" + podSpec("    "),
		meta("ReplicaSet", "apps/v1", name+"-5d8f7c9b4") + "  ownerReferences: [{apiVersion: apps/v1, kind: Deployment, name: " + name + ", uid: u, controller: true}]\nspec:\n  replicas: 3\n  selector:\n    matchLabels: {app: " + name + "}\n  template:\n    metadata:\n      labels: " + labels + "\n" + podSpec("    "),
	}
	for p := 0; p < 3; p++ {
		docs = append(docs, meta("Pod", "v1", fmt.Sprintf("%s-5d8f7c9b4-%d", name, p))+"  ownerReferences: [{apiVersion: apps/v1, kind: ReplicaSet, name: "+name+"-5d8f7c9b4, uid: u, controller: true}]\n"+podSpec(""))
	}
	docs = append(docs,
		meta("Service", "v1", name)+"spec:\n  selector: {app: "+name+"}\n  ports:\n  - {port: 80, targetPort: 8080}\n",
		meta("ConfigMap", "v1", name+"-config")+"data:\n  config.yaml: |\n    listen: :8080\n    log: info\n    features: [a, b, c]\n",
		meta("ConfigMap", "v1", name+"-env")+"data:\n  MODE: production\n  REGION: eu-west-1\n",
		meta("Secret", "v1", name+"-creds")+"type: Opaque\ndata:\n  password: c2VjcmV0\n",
		meta("ServiceAccount", "v1", name),
		meta("Role", "rbac.authorization.k8s.io/v1", name)+"rules:\n- apiGroups: [\"\"]\n  resources: [configmaps]\n  verbs: [get, list, watch]\n",
		meta("RoleBinding", "rbac.authorization.k8s.io/v1", name)+"roleRef: {apiGroup: rbac.authorization.k8s.io, kind: Role, name: "+name+"}\nsubjects:\n- {kind: ServiceAccount, name: "+name+", namespace: "+ns+"}\n",
		meta("NetworkPolicy", "networking.k8s.io/v1", name)+"spec:\n  podSelector: {matchLabels: {app: "+name+"}}\n  ingress:\n  - from:\n    - podSelector: {matchLabels: {tier: frontend}}\n    ports:\n    - {port: 8080}\n",
	)
	return docs
}

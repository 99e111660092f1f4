package nodeconfig

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"

	"sigs.k8s.io/yaml"

	"github.com/kubeharden/kubeharden/internal/source"
)

// maxConfigSize bounds every configuration file read (manifests, kubelet
// config, audit policy, encryption config, unit files).
const maxConfigSize = 4 << 20

// Well-known locations (kubeadm's, which the benchmark uses).
const (
	DefaultManifestDir  = "/etc/kubernetes/manifests"
	DefaultPKIDir       = "/etc/kubernetes/pki"
	DefaultAdminConf    = "/etc/kubernetes/admin.conf"
	DefaultSuperAdmin   = "/etc/kubernetes/super-admin.conf"
	DefaultKubeletConf  = "/etc/kubernetes/kubelet.conf"
	DefaultSchedConf    = "/etc/kubernetes/scheduler.conf"
	DefaultCMConf       = "/etc/kubernetes/controller-manager.conf"
	DefaultEtcdDataDir  = "/var/lib/etcd"
	DefaultCNIConfigDir = "/etc/cni/net.d"
)

// kubeletUnits are where distributions and kubeadm put the kubelet's
// systemd unit and drop-ins; kubeletEnvFiles hold its extra flags.
var (
	kubeletUnits = []string{
		"/etc/systemd/system/kubelet.service",
		"/etc/systemd/system/kubelet.service.d/10-kubeadm.conf",
		"/lib/systemd/system/kubelet.service",
		"/usr/lib/systemd/system/kubelet.service",
		"/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf",
	}
	kubeletEnvFiles = []string{"/var/lib/kubelet/kubeadm-flags.env", "/etc/default/kubelet", "/etc/sysconfig/kubelet"}
)

// Options choose what Collect reads.
type Options struct {
	// Root is the directory the node's filesystem is under ("/" or "" for
	// this host; a captured filesystem otherwise).
	Root string
	// PIDs restricts process discovery to these processes (all when
	// empty).
	PIDs []int
	// NoProcesses skips /proc (a captured filesystem's /proc is stale).
	NoProcesses bool
	// ManifestDir overrides where static pod manifests are read.
	ManifestDir string
}

// Collect discovers the components on a node and the facts the benchmark
// needs. Unreadable files are Problems; a missing component is simply not
// in the result.
func Collect(ctx context.Context, opts Options) (*Node, error) {
	root := opts.Root
	if root == "" {
		root = "/"
	}
	if info, err := os.Stat(root); err != nil || !info.IsDir() {
		return nil, fmt.Errorf("--root %s: not a directory", root)
	}
	c := &collector{node: &Node{SchemaVersion: SchemaVersion, Root: root}, stater: newFileStater(root), seen: map[string]*File{}}
	if root == "/" {
		c.node.Hostname, _ = os.Hostname()
	} else if h, err := os.ReadFile(filepath.Join(root, "etc/hostname")); err == nil {
		c.node.Hostname = strings.TrimSpace(string(h))
	}
	if !opts.NoProcesses {
		if err := c.processes(ctx, opts.PIDs); err != nil {
			return nil, err
		}
	}
	c.manifests(opts.ManifestDir)
	if c.node.Component(Kubelet) == nil && len(opts.PIDs) == 0 {
		// With --pid the user named the components; otherwise a kubelet
		// that is not running is read from its unit files.
		c.kubeletFromUnits()
	}
	for _, comp := range c.node.Components {
		c.referencedFiles(comp)
	}
	c.wellKnownFiles()
	slices.SortFunc(c.node.Components, func(a, b *Component) int {
		return slices.Index(Kinds, a.Kind) - slices.Index(Kinds, b.Kind)
	})
	return c.node, ctx.Err()
}

type collector struct {
	node   *Node
	stater *fileStater
	seen   map[string]*File
}

func (c *collector) problem(src string, err error) {
	c.node.Problems = append(c.node.Problems, Problem{Source: src, Message: err.Error()})
}

// read reads a node path under the root, bounded.
func (c *collector) read(path string) ([]byte, error) {
	f, err := os.Open(rebase(c.node.Root, path))
	if err != nil {
		return nil, err
	}
	defer f.Close()
	data, err := io.ReadAll(io.LimitReader(f, maxConfigSize+1))
	if err != nil {
		return nil, err
	}
	if len(data) > maxConfigSize {
		return nil, fmt.Errorf("%s: larger than %d bytes", path, maxConfigSize)
	}
	return data, nil
}

// file records the owner and mode of path for role.
func (c *collector) file(path string, role FileRole, owner Kind) *File {
	if path == "" {
		return nil
	}
	if !filepath.IsAbs(path) {
		return nil // relative to a process's working directory: unknowable here
	}
	path = filepath.Clean(path)
	f := c.seen[path]
	if f == nil {
		var err error
		if f, err = c.stater.stat(path); err != nil {
			c.problem(path, err)
		}
		c.seen[path] = f
		c.node.Files = append(c.node.Files, f)
	}
	if !slices.Contains(f.Roles, role) {
		f.Roles = append(f.Roles, role)
	}
	if f.Component == "" {
		f.Component = owner
	}
	return f
}

// processes reads /proc/*/cmdline for the components.
func (c *collector) processes(ctx context.Context, only []int) error {
	procDir := rebase(c.node.Root, "/proc")
	entries, err := os.ReadDir(procDir)
	if err != nil {
		return nil // no /proc (a captured filesystem): not an error
	}
	byKind := map[Kind][]*Component{}
	for _, e := range entries {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		pid, err := strconv.Atoi(e.Name())
		if err != nil || (len(only) > 0 && !slices.Contains(only, pid)) {
			continue
		}
		raw, err := os.ReadFile(filepath.Join(procDir, e.Name(), "cmdline"))
		if err != nil || len(raw) == 0 {
			continue // exited, or a kernel thread
		}
		argv := strings.Split(strings.TrimRight(string(raw), "\x00"), "\x00")
		kind, ok := ParseKind(argv[0])
		if !ok {
			continue
		}
		src := fmt.Sprintf("/proc/%d/cmdline", pid)
		byKind[kind] = append(byKind[kind], &Component{
			Kind:   kind,
			Ref:    Ref{APIVersion: "kubeharden.io/v1", Kind: "Component", Name: string(kind)},
			Source: Position{File: src},
			PID:    pid,
			UID:    processUID(filepath.Join(procDir, e.Name(), "status")),
			Args:   ParseArgs(argv[1:], processPath),
		})
	}
	for _, k := range Kinds {
		list := byKind[k]
		if len(list) == 0 {
			continue
		}
		slices.SortFunc(list, func(a, b *Component) int { return a.PID - b.PID })
		if len(list) > 1 {
			pids := make([]string, len(list))
			for i, p := range list {
				pids[i] = strconv.Itoa(p.PID)
			}
			c.node.Notes = append(c.node.Notes, fmt.Sprintf("%d %s processes (PIDs %s): checked PID %d; choose with --pid", len(list), k, strings.Join(pids, ", "), list[0].PID))
		}
		c.node.Components = append(c.node.Components, list[0])
	}
	return nil
}

// processUID reads the real UID from /proc/PID/status, or -1.
func processUID(path string) int {
	data, err := os.ReadFile(path)
	if err != nil {
		return -1
	}
	for line := range strings.Lines(string(data)) {
		if rest, ok := strings.CutPrefix(line, "Uid:"); ok {
			if fields := strings.Fields(rest); len(fields) > 0 {
				if uid, err := strconv.Atoi(fields[0]); err == nil {
					return uid
				}
			}
		}
	}
	return -1
}

// manifests reads the static pod manifests. A component already found as
// a process keeps the process's flags (what runs), and the manifest is
// still recorded as its file.
func (c *collector) manifests(dir string) {
	if dir == "" {
		dir = DefaultManifestDir
		if k := c.node.Component(Kubelet); k != nil {
			if v := k.Kubelet(KubeletStaticPodPath); v.IsSet() {
				dir = v.Value
			}
		}
	}
	entries, err := os.ReadDir(rebase(c.node.Root, dir))
	if err != nil {
		return
	}
	for _, e := range entries {
		name := e.Name()
		if e.IsDir() || strings.HasPrefix(name, ".") || !(strings.HasSuffix(name, ".yaml") || strings.HasSuffix(name, ".yml") || strings.HasSuffix(name, ".json")) {
			continue
		}
		path := filepath.Join(dir, name)
		data, err := c.read(path)
		if err != nil {
			c.problem(path, err)
			continue
		}
		res := source.ParseBytes(path, data)
		for _, e := range res.Errors {
			c.problem(e.Source, e.Err)
		}
		for _, obj := range res.Objects {
			comp := FromWorkload(obj)
			if comp == nil {
				continue
			}
			c.file(path, RoleManifest, comp.Kind)
			for i := range comp.Args {
				comp.Args[i].Line = obj.FieldLine(comp.Args[i].Path)
			}
			running := c.node.Component(comp.Kind)
			switch {
			case running == nil:
				c.node.Components = append(c.node.Components, comp)
			case sameFlags(running.Args, comp.Args):
				// The process runs this manifest: report against the static
				// Pod, at the lines of its flags, as the benchmark's reader
				// would fix it.
				running.Ref, running.Source, running.Args, running.ArgsPath = comp.Ref, comp.Source, comp.Args, comp.ArgsPath
			default:
				c.node.Notes = append(c.node.Notes, fmt.Sprintf("%s runs with other flags than %s (edited since it started?): the running process is checked", comp.Kind, path))
			}
		}
	}
}

// sameFlags reports whether two argument lists set the same flags to the
// same values (in any order).
func sameFlags(a, b []Arg) bool {
	key := func(args []Arg) []string {
		out := make([]string, 0, len(args))
		for _, x := range args {
			out = append(out, x.Name+"="+x.Value)
		}
		slices.Sort(out)
		return out
	}
	return slices.Equal(key(a), key(b))
}

// kubeletFromUnits reads the kubelet's flags from its systemd unit,
// drop-ins and environment files when no kubelet process was found (a
// captured filesystem, or a node where it is stopped).
func (c *collector) kubeletFromUnits() {
	var comp *Component
	for _, path := range append(slices.Clone(kubeletUnits), kubeletEnvFiles...) {
		data, err := c.read(path)
		if err != nil {
			continue
		}
		if comp == nil {
			comp = &Component{Kind: Kubelet, Ref: Ref{APIVersion: "kubeharden.io/v1", Kind: "Component", Name: string(Kubelet)}, Source: Position{File: path}, UID: -1}
		}
		for i, line := range bytes.Split(data, []byte("\n")) {
			for _, tok := range unitFlags(string(line)) {
				lineNo := i + 1
				comp.Args = append(comp.Args, ParseArgs([]string{tok}, func(int) string { return path + ":" + strconv.Itoa(lineNo) })[0])
				comp.Args[len(comp.Args)-1].Line = lineNo
			}
		}
	}
	if comp != nil {
		c.node.Components = append(c.node.Components, comp)
	}
}

// unitFlags returns the "--flag[=value]" words of a unit or environment
// file line (Environment="K=--a=b --c", ExecStart=/usr/bin/kubelet --x,
// K="--a=b").
func unitFlags(line string) []string {
	line = strings.TrimSpace(line)
	if line == "" || strings.HasPrefix(line, "#") || strings.HasPrefix(line, ";") {
		return nil
	}
	var out []string
	for _, w := range strings.Fields(strings.NewReplacer(`"`, " ", `'`, " ", "=--", " --").Replace(line)) {
		if strings.HasPrefix(w, "--") && len(w) > 2 {
			out = append(out, w)
		}
	}
	return out
}

// referencedFiles reads the files a component's flags name.
func (c *collector) referencedFiles(comp *Component) {
	for _, a := range comp.Args {
		if a.Name != "" && strings.HasSuffix(a.Name, "-file") && looksLikePKIFlag(a.Name) {
			c.pkiFile(a.Value, comp.Kind)
		}
	}
	switch comp.Kind {
	case APIServer:
		if f := comp.Flag("encryption-provider-config"); f.Set {
			c.file(f.Value, RoleEncryptionConfig, comp.Kind)
			if data, err := c.read(f.Value); err != nil {
				c.problem(f.Value, err)
			} else if cfg, err := ParseEncryptionConfig(f.Value, data); err != nil {
				c.problem(f.Value, err)
			} else {
				comp.Encryption = cfg
			}
		}
		comp.AuditPolicy = c.textFile(comp.Flag("audit-policy-file"), RoleAuditPolicy, comp.Kind)
		comp.AuthenticationConfig = c.textFile(comp.Flag("authentication-config"), "", comp.Kind)
		comp.AuthorizationConfig = c.textFile(comp.Flag("authorization-config"), "", comp.Kind)
		if f := comp.Flag("admission-control-config-file"); f.Set {
			c.file(f.Value, RoleAPIServerAdmissionConfig, comp.Kind)
		}
	case Etcd:
		dir := DefaultEtcdDataDir
		if f := comp.Flag("data-dir"); f.Set {
			dir = f.Value
		}
		c.file(dir, RoleEtcdDataDir, comp.Kind)
	case Scheduler:
		c.file(flagOr(comp, "kubeconfig", DefaultSchedConf), RoleSchedulerKubeconfig, comp.Kind)
	case ControllerManager:
		c.file(flagOr(comp, "kubeconfig", DefaultCMConf), RoleControllerKubeconfig, comp.Kind)
	case Proxy:
		kubeconfig := comp.Flag("kubeconfig").Value
		if f := comp.Flag("config"); f.Set {
			comp.ProxyConfig = c.configFile(f.Value, "KubeProxyConfiguration")
			if comp.ProxyConfig != nil && kubeconfig == "" {
				kubeconfig, _ = lookup(comp.ProxyConfig.Config, "clientConnection.kubeconfig")
			}
		}
		c.file(kubeconfig, RoleProxyKubeconfig, comp.Kind)
	case Kubelet:
		if f := comp.Flag("config"); f.Set {
			c.file(f.Value, RoleKubeletConfig, comp.Kind)
			comp.KubeletConfig = c.configFile(f.Value, "KubeletConfiguration")
		}
		c.file(flagOr(comp, "kubeconfig", DefaultKubeletConf), RoleKubeletKubeconfig, comp.Kind)
		if v := comp.Kubelet(KubeletClientCAFile); v.IsSet() {
			c.file(v.Value, RoleKubeletClientCA, comp.Kind)
		}
		for _, path := range kubeletUnits {
			if f := c.file(path, RoleKubeletService, comp.Kind); f != nil && !f.Exists {
				c.forget(path)
			}
		}
	}
}

// configFile reads and decodes a component's --config file.
func (c *collector) configFile(path, kind string) *ConfigFile {
	data, err := c.read(path)
	if err != nil {
		c.problem(path, err)
		return nil
	}
	var cfg map[string]any
	if err := yaml.Unmarshal(data, &cfg); err != nil {
		c.problem(path, fmt.Errorf("not a %s: %w", kind, err))
		return nil
	}
	return &ConfigFile{Path: path, Config: cfg}
}

// forget drops a file fact that turned out not to exist and matters only
// when it does (the kubelet unit is in one of several places).
func (c *collector) forget(path string) {
	delete(c.seen, path)
	c.node.Files = slices.DeleteFunc(c.node.Files, func(f *File) bool { return f.Path == path })
}

func flagOr(comp *Component, name, def string) string {
	if f := comp.Flag(name); f.Set && f.Value != "" {
		return f.Value
	}
	return def
}

// looksLikePKIFlag reports whether a "-file" flag names a certificate or
// key ("tls-cert-file", "etcd-cafile", "service-account-key-file").
func looksLikePKIFlag(name string) bool {
	for _, w := range []string{"cert", "key", "ca"} {
		if strings.Contains(name, w) {
			return true
		}
	}
	return false
}

// textFile reads a secret-free configuration file named by flag.
func (c *collector) textFile(f Flag, role FileRole, owner Kind) *TextFile {
	if !f.Set || f.Value == "" {
		return nil
	}
	if role != "" {
		c.file(f.Value, role, owner)
	}
	data, err := c.read(f.Value)
	if err != nil {
		c.problem(f.Value, err)
		return nil
	}
	return &TextFile{Path: f.Value, Content: string(data)}
}

// pkiFile records a certificate or key file with the role its PEM header
// says (reading only the header line).
func (c *collector) pkiFile(path string, owner Kind) {
	if path == "" || !filepath.IsAbs(path) {
		return
	}
	role, ok := c.pemRole(path)
	if !ok {
		return
	}
	c.file(path, role, owner)
}

// pemRole classifies a PEM file by its first header: private keys are
// keys; certificates and public keys are certificates.
func (c *collector) pemRole(path string) (FileRole, bool) {
	f, err := os.Open(rebase(c.node.Root, path))
	if err != nil {
		return "", false
	}
	defer f.Close()
	sc := bufio.NewScanner(io.LimitReader(f, 64<<10))
	for sc.Scan() {
		line := sc.Text()
		if !strings.HasPrefix(line, "-----BEGIN ") {
			continue
		}
		if strings.Contains(line, "PRIVATE KEY") {
			return RolePKIKey, true
		}
		return RolePKICert, true
	}
	return "", false
}

// wellKnownFiles records the files the benchmark names by their kubeadm
// paths when they exist: admin kubeconfigs, the PKI directory, CNI files.
func (c *collector) wellKnownFiles() {
	for path, role := range map[string]FileRole{DefaultAdminConf: RoleAdminKubeconfig, DefaultSuperAdmin: RoleSuperAdminKubeconfig} {
		if f := c.file(path, role, ""); f != nil && !f.Exists {
			c.forget(path)
		}
	}
	if c.node.ControlPlaneVisible() {
		// The scheduler and controller-manager kubeconfigs are recorded
		// with their components; kubeadm writes them even when only the
		// manifests were captured.
		for path, role := range map[string]FileRole{DefaultSchedConf: RoleSchedulerKubeconfig, DefaultCMConf: RoleControllerKubeconfig} {
			if f := c.file(path, role, ""); f != nil && !f.Exists {
				c.forget(path)
			}
		}
	}
	pki := rebase(c.node.Root, DefaultPKIDir)
	if info, err := os.Stat(pki); err == nil && info.IsDir() {
		_ = filepath.WalkDir(pki, func(p string, d fs.DirEntry, err error) error {
			if err != nil {
				return nil
			}
			rel, _ := filepath.Rel(pki, p)
			nodePath := filepath.Join(DefaultPKIDir, rel)
			if d.IsDir() {
				c.file(nodePath, RolePKIDir, "")
				return nil
			}
			if d.Type().IsRegular() {
				if role, ok := c.pemRole(nodePath); ok {
					c.file(nodePath, role, "")
				}
			}
			return nil
		})
	}
	if entries, err := os.ReadDir(rebase(c.node.Root, DefaultCNIConfigDir)); err == nil {
		for _, e := range entries {
			if !e.IsDir() {
				c.file(filepath.Join(DefaultCNIConfigDir, e.Name()), RoleCNIConfig, "")
			}
		}
	}
}

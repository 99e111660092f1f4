package nodeconfig

import (
	"bufio"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// FileRole says why a file was looked at: which benchmark item names it.
type FileRole string

// The file roles of the CIS Kubernetes Benchmark (sections 1.1 and 4.1).
const (
	RoleManifest                 FileRole = "static-pod-manifest" // with the component in File.Component
	RoleCNIConfig                FileRole = "cni-config"
	RoleEtcdDataDir              FileRole = "etcd-data-dir"
	RoleAdminKubeconfig          FileRole = "admin-kubeconfig"
	RoleSuperAdminKubeconfig     FileRole = "super-admin-kubeconfig"
	RoleSchedulerKubeconfig      FileRole = "scheduler-kubeconfig"
	RoleControllerKubeconfig     FileRole = "controller-manager-kubeconfig"
	RolePKIDir                   FileRole = "pki-dir"
	RolePKICert                  FileRole = "pki-certificate"
	RolePKIKey                   FileRole = "pki-key"
	RoleKubeletService           FileRole = "kubelet-service"
	RoleProxyKubeconfig          FileRole = "proxy-kubeconfig"
	RoleKubeletKubeconfig        FileRole = "kubelet-kubeconfig"
	RoleKubeletClientCA          FileRole = "kubelet-client-ca"
	RoleKubeletConfig            FileRole = "kubelet-config"
	RoleEncryptionConfig         FileRole = "encryption-config"
	RoleAuditPolicy              FileRole = "audit-policy"
	RoleAPIServerAdmissionConfig FileRole = "admission-config"
)

// File is the owner and mode of one file or directory.
type File struct {
	// Path on the node (not rebased).
	Path  string     `json:"path"`
	Roles []FileRole `json:"roles"`
	// Component is the component the file belongs to, when one does.
	Component Kind `json:"component,omitempty"`
	Exists    bool `json:"exists"`
	Dir       bool `json:"dir,omitempty"`
	// Mode holds the permission bits (0o644).
	Mode  fs.FileMode `json:"mode"`
	UID   int         `json:"uid"`
	GID   int         `json:"gid"`
	User  string      `json:"user,omitempty"`
	Group string      `json:"group,omitempty"`
}

// ModeString is the mode in octal ("600").
func (f *File) ModeString() string { return strconv.FormatUint(uint64(f.Mode.Perm()), 8) }

// Owner is "user:group", names when known, otherwise numbers.
func (f *File) Owner() string {
	u, g := f.User, f.Group
	if u == "" {
		u = strconv.Itoa(f.UID)
	}
	if g == "" {
		g = strconv.Itoa(f.GID)
	}
	return u + ":" + g
}

// NumericOwner is "uid:gid" with ID 0 written "root", so an allowed owner
// "root:root" matches on a capture without /etc/passwd.
func (f *File) NumericOwner() string {
	return nameOrRoot(f.UID) + ":" + nameOrRoot(f.GID)
}

func nameOrRoot(id int) string {
	if id == 0 {
		return "root"
	}
	return strconv.Itoa(id)
}

// AtMost reports whether the permission bits grant nothing beyond max
// (600 allows 400 and 600, not 640 or 700).
func (f *File) AtMost(max fs.FileMode) bool { return f.Mode.Perm()&^max.Perm() == 0 }

// fileStater reads file facts under a root, resolving owner names from the
// root's own /etc/passwd and /etc/group (a captured filesystem's users, not
// the machine's running kubeharden).
type fileStater struct {
	root   string
	users  map[int]string
	groups map[int]string
}

func newFileStater(root string) *fileStater {
	return &fileStater{
		root:   root,
		users:  readIDNames(filepath.Join(root, "etc/passwd")),
		groups: readIDNames(filepath.Join(root, "etc/group")),
	}
}

// readIDNames reads name:x:id:... lines.
func readIDNames(path string) map[int]string {
	out := map[int]string{}
	f, err := os.Open(path)
	if err != nil {
		return out
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Split(sc.Text(), ":")
		if len(fields) < 3 || strings.HasPrefix(fields[0], "#") {
			continue
		}
		if id, err := strconv.Atoi(fields[2]); err == nil {
			if _, dup := out[id]; !dup {
				out[id] = fields[0]
			}
		}
	}
	return out
}

// rebase maps a node path onto the root.
func rebase(root, path string) string {
	if root == "" || root == "/" {
		return path
	}
	return filepath.Join(root, path)
}

// stat returns the fact for path (a node path). A missing file is a fact
// (Exists false), not an error.
func (s *fileStater) stat(path string) (*File, error) {
	f := &File{Path: path, UID: -1, GID: -1}
	info, err := os.Stat(rebase(s.root, path))
	if errors.Is(err, fs.ErrNotExist) {
		return f, nil
	}
	if err != nil {
		return f, fmt.Errorf("stat %s: %w", path, err)
	}
	f.Exists, f.Dir, f.Mode = true, info.IsDir(), info.Mode().Perm()
	if uid, gid, ok := owner(info); ok {
		f.UID, f.GID = uid, gid
		f.User, f.Group = s.users[f.UID], s.groups[f.GID]
	}
	return f, nil
}

package inventory

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"strconv"
	"strings"
	"unsafe"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	"github.com/kubeharden/kubeharden/internal/source"
	"github.com/kubeharden/kubeharden/internal/typed"
)

// Pod is the pod-spec view of a workload: the pod a controller would create
// from it (or the Pod itself), with the field path of the spec inside the
// object so findings can point at the exact field.
type Pod struct {
	Object *source.Object
	// Meta is the pod's labels and annotations (all of its metadata that
	// pod checks and Pod Security read): the template's for controllers,
	// the object's own for a Pod. Pods with the same labels and
	// annotations may share one value.
	Meta *metav1.ObjectMeta
	Spec *corev1.PodSpec
	// MetaPath and SpecPath are the dotted paths of the pod metadata and
	// spec inside the object, e.g. "spec.template.metadata" and
	// "spec.template.spec".
	MetaPath, SpecPath string

	containers []ContainerRef // built once; every container check reads it
}

// templatePaths lists where the built-in workload kinds keep their pod.
var templatePaths = map[string]templatePath{
	"Pod":                   newTemplatePath(),
	"PodTemplate":           newTemplatePath("template"),
	"ReplicationController": newTemplatePath("spec", "template"),
	"Deployment":            newTemplatePath("spec", "template"),
	"ReplicaSet":            newTemplatePath("spec", "template"),
	"StatefulSet":           newTemplatePath("spec", "template"),
	"DaemonSet":             newTemplatePath("spec", "template"),
	"Job":                   newTemplatePath("spec", "template"),
	"CronJob":               newTemplatePath("spec", "jobTemplate", "spec", "template"),
}

// templatePath is where an object keeps its pod (keys, empty for a Pod),
// with the dotted paths of the pod's metadata and spec made once for
// every view of that shape.
type templatePath struct {
	keys               []string
	metaPath, specPath string
}

func newTemplatePath(keys ...string) templatePath {
	return templatePath{keys: keys, metaPath: joinPath(keys, "metadata"), specPath: joinPath(keys, "spec")}
}

// builtinGroups are the API groups of the built-in workload kinds; a kind
// of the same name in another group is a custom resource.
var builtinGroups = map[string]bool{"": true, "apps": true, "batch": true, "extensions": true}

// genericTemplatePaths are tried, in order, on custom resources: the shapes
// used by Argo Rollouts, Knative, OpenKruise, Argo Workflows' templates and
// most operators that wrap a Deployment or Job.
var genericTemplatePaths = []templatePath{
	newTemplatePath("spec", "template"),
	newTemplatePath("spec", "jobTemplate", "spec", "template"),
	newTemplatePath("spec", "workloadTemplate"),
	newTemplatePath("spec", "podTemplate"),
}

// PodOf returns the pod-spec view of o, nil when o has none, or an error
// when o has a pod template that does not decode.
func PodOf(o *source.Object) (*Pod, error) { return podOf(o, &sharedViews{}) }

// podOf is PodOf, sharing views through shared.
func podOf(o *source.Object, shared *sharedViews) (*Pod, error) {
	kind := o.Kind()
	path, builtin := templatePaths[kind]
	if builtin && builtinGroups[o.Group()] {
		if kind == "Pod" {
			return decodePod(o, o.Field("spec"), o.MetadataField("labels"), o.MetadataField("annotations"), path, shared)
		}
		tmpl, ok := templateOf(o, path.keys)
		if !ok {
			return nil, nil // e.g. a Deployment with no template: invalid, but nothing to check
		}
		return decodeTemplate(o, tmpl, path, shared)
	}
	for _, p := range genericTemplatePaths {
		tmpl, ok := templateOf(o, p.keys)
		if !ok {
			continue
		}
		spec, ok := tmpl["spec"].(map[string]any)
		if !ok {
			continue
		}
		if _, ok := spec["containers"].([]any); !ok {
			continue
		}
		return decodeTemplate(o, tmpl, p, shared)
	}
	return nil, nil
}

// templateOf returns the mapping at path (at least one key) in o.
func templateOf(o *source.Object, path []string) (map[string]any, bool) {
	top, ok := o.Field(path[0]).(map[string]any)
	if !ok {
		return nil, false
	}
	return lookupMap(top, path[1:])
}

// decodeTemplate is decodePod for a pod template (metadata + spec).
func decodeTemplate(o *source.Object, tmpl map[string]any, at templatePath, shared *sharedViews) (*Pod, error) {
	md, _ := tmpl["metadata"].(map[string]any)
	return decodePod(o, tmpl["spec"], md["labels"], md["annotations"], at, shared)
}

// decodePod converts a pod's spec, labels and annotations (a Pod's own, or
// its template's) into typed form. Unknown fields are ignored, as the API
// server would prune them.
func decodePod(o *source.Object, specValue, labels, annotations any, at templatePath, shared *sharedViews) (*Pod, error) {
	spec, _ := specValue.(map[string]any)
	if spec == nil {
		if specValue != nil {
			return nil, fmt.Errorf("%s: %s is not a mapping", o, at.specPath)
		}
		if len(at.keys) == 0 {
			return nil, nil // a Pod without spec: nothing to check
		}
		spec = map[string]any{}
	}
	p := &Pod{
		Object:   o,
		MetaPath: at.metaPath,
		SpecPath: at.specPath,
	}
	var ok bool
	if p.Spec, ok = shared.specs.get(spec); !ok {
		p.Spec = &corev1.PodSpec{}
		if err := shared.maps.FromUnstructured(spec, p.Spec); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", o, p.SpecPath, explainDecodeError(spec, &corev1.PodSpec{}, err))
		}
		shared.resources.shareContainers(spec, p.Spec)
		applyAPIDefaults(p.Spec)
		shared.specs.keep(spec, p.Spec)
	}
	p.containers = containerRefs(p.Spec, p.SpecPath)
	key, shareable := podMetaKeyOf(labels, annotations)
	if p.Meta, ok = shared.metas[key]; !ok || !shareable {
		md := make(map[string]any, 2)
		if labels != nil {
			md["labels"] = labels
		}
		if annotations != nil {
			md["annotations"] = annotations
		}
		var pm podMetadata
		if err := shared.maps.FromUnstructured(md, &pm); err != nil {
			return nil, fmt.Errorf("%s: %s: %w", o, p.MetaPath, explainDecodeError(md, &podMetadata{}, err))
		}
		p.Meta = &metav1.ObjectMeta{Labels: pm.Labels, Annotations: pm.Annotations}
		if shareable && shared.metas != nil && len(shared.metas) < maxSharedViews {
			shared.metas[key] = p.Meta
		}
	}
	return p, nil
}

// sharedViews is what one decoding worker shares between the pod views it
// decodes: the maps decoded from one source map, equal container resource
// lists, and the typed spec and metadata of a template that is the very
// same decoded value as one decoded before. The loader hands out one value
// for equal nested blocks, as when a ReplicaSet carries its Deployment's
// template or a Deployment's pods its spec; views are read-only, so those
// objects can share one typed spec. The zero value shares nothing.
type sharedViews struct {
	// maps shares the Go maps decoded from one decoded map (labels,
	// resource lists, node selectors) between views.
	maps      *typed.MapCache
	resources *resourceLists
	specs     viewsByMap[corev1.PodSpec]
	metas     map[podMetaKey]*metav1.ObjectMeta
}

func newSharedViews() *sharedViews {
	return &sharedViews{maps: typed.NewMapCache(), resources: newResourceLists(), specs: viewsByMap[corev1.PodSpec]{}, metas: map[podMetaKey]*metav1.ObjectMeta{}}
}

// podMetadata is what a pod view decodes of a pod's metadata.
type podMetadata struct {
	Labels      map[string]string `json:"labels,omitempty"`
	Annotations map[string]string `json:"annotations,omitempty"`
}

// podMetaKey identifies a pod's labels and annotations by the decoded maps
// they were read from: the loader hands out one value for equal blocks, so
// a Deployment's template, its ReplicaSet's and their pods have one key
// (nil for a map the metadata leaves out).
type podMetaKey struct{ labels, annotations unsafe.Pointer }

// podMetaKeyOf returns the key of a pod's labels and annotations, and
// whether it names them: not when either is there but not a map (which
// decoding reports).
func podMetaKeyOf(labels, annotations any) (podMetaKey, bool) {
	l, ok := mapIdentity(labels)
	a, ok2 := mapIdentity(annotations)
	return podMetaKey{l, a}, ok && ok2
}

// mapIdentity returns the identity of the decoded map v, nil for nil, and
// false for anything else.
func mapIdentity(v any) (unsafe.Pointer, bool) {
	switch m := v.(type) {
	case nil:
		return nil, true
	case map[string]any:
		if len(m) == 0 {
			return nil, true
		}
		return reflect.ValueOf(m).UnsafePointer(), true
	}
	return nil, false
}

// viewsByMap holds typed views by the identity of the decoded map they
// were decoded from.
type viewsByMap[T any] map[unsafe.Pointer]*T

// maxSharedViews bounds a table: inputs with more distinct templates keep
// the rest unshared.
const maxSharedViews = 1 << 16

// get returns the view decoded from m before.
func (v viewsByMap[T]) get(m map[string]any) (*T, bool) {
	view, ok := v[reflect.ValueOf(m).UnsafePointer()]
	return view, ok
}

// keep remembers view as decoded from m; a nil table keeps nothing.
func (v viewsByMap[T]) keep(m map[string]any, view *T) {
	if v != nil && len(v) < maxSharedViews {
		v[reflect.ValueOf(m).UnsafePointer()] = view
	}
}

// explainDecodeError turns the unstructured converter's terse error
// ("unrecognized type: int32") into one naming the field, by decoding
// again through encoding/json, which reports field and types. It runs only
// on the error path.
func explainDecodeError(in map[string]any, into any, convErr error) error {
	data, err := json.Marshal(in)
	if err != nil {
		return convErr
	}
	if err := json.Unmarshal(data, into); err != nil {
		var typeErr *json.UnmarshalTypeError
		if errors.As(err, &typeErr) {
			return fmt.Errorf("field %s: got a JSON %s, want %s", typeErr.Field, typeErr.Value, typeErr.Type)
		}
		return err
	}
	return convErr
}

func lookupMap(m map[string]any, path []string) (map[string]any, bool) {
	cur := m
	for _, k := range path {
		next, ok := cur[k].(map[string]any)
		if !ok {
			return nil, false
		}
		cur = next
	}
	return cur, true
}

func joinPath(prefix []string, last string) string {
	if len(prefix) == 0 {
		return last
	}
	return strings.Join(prefix, ".") + "." + last
}

// ContainerRef is one container of a pod with its field path.
type ContainerRef struct {
	Container *corev1.Container
	// Path is e.g. "spec.template.spec.containers[0]".
	Path string
	// Init and Ephemeral say which list it is in.
	Init, Ephemeral bool
}

// Containers lists init, regular and ephemeral containers, in the order
// the pod-security-admission visitor uses. The slice is shared: read only.
func (p *Pod) Containers() []ContainerRef { return p.containers }

func containerRefs(spec *corev1.PodSpec, specPath string) []ContainerRef {
	out := make([]ContainerRef, 0, len(spec.InitContainers)+len(spec.Containers)+len(spec.EphemeralContainers))
	for i := range spec.InitContainers {
		out = append(out, ContainerRef{Container: &spec.InitContainers[i], Path: specPath + ".initContainers[" + strconv.Itoa(i) + "]", Init: true})
	}
	for i := range spec.Containers {
		out = append(out, ContainerRef{Container: &spec.Containers[i], Path: specPath + ".containers[" + strconv.Itoa(i) + "]"})
	}
	for i := range spec.EphemeralContainers {
		c := corev1.Container(spec.EphemeralContainers[i].EphemeralContainerCommon)
		out = append(out, ContainerRef{Container: &c, Path: specPath + ".ephemeralContainers[" + strconv.Itoa(i) + "]", Ephemeral: true})
	}
	return out
}

// controlPlaneComponents are the static pods kubeadm (and most installers)
// run on control-plane nodes.
var controlPlaneComponents = map[string]bool{
	"kube-apiserver": true, "kube-controller-manager": true, "kube-scheduler": true, "etcd": true,
}

// IsControlPlane reports whether p is a control-plane static pod: a Pod in
// kube-system (or with no namespace, as in /etc/kubernetes/manifests)
// labelled tier=control-plane with a known component label, using the
// host network. Their role requires host access, so most workload checks
// do not apply to them by default.
func (p *Pod) IsControlPlane() bool {
	o := p.Object
	if o.Kind() != "Pod" || o.Group() != "" || !p.Spec.HostNetwork {
		return false
	}
	if ns := o.Namespace(); ns != "" && ns != "kube-system" {
		return false
	}
	labels := p.Meta.Labels
	return labels["tier"] == "control-plane" && controlPlaneComponents[labels["component"]]
}

// applyAPIDefaults applies the API server's defaults that change what a
// pod is allowed to do, so a manifest is judged as the object admission
// would see: a volume with no source becomes emptyDir, and with
// hostNetwork every container port is also a host port.
func applyAPIDefaults(spec *corev1.PodSpec) {
	for i := range spec.Volumes {
		if spec.Volumes[i].VolumeSource == (corev1.VolumeSource{}) {
			spec.Volumes[i].EmptyDir = &corev1.EmptyDirVolumeSource{}
		}
	}
	if !spec.HostNetwork {
		return
	}
	for _, list := range [][]corev1.Container{spec.InitContainers, spec.Containers} {
		for i := range list {
			for j := range list[i].Ports {
				if list[i].Ports[j].HostPort == 0 {
					list[i].Ports[j].HostPort = list[i].Ports[j].ContainerPort
				}
			}
		}
	}
}

// ServiceAccount is the service account the pod runs as (default when the
// spec names none).
func (p *Pod) ServiceAccount() string {
	switch {
	case p.Spec.ServiceAccountName != "":
		return p.Spec.ServiceAccountName
	case p.Spec.DeprecatedServiceAccount != "":
		return p.Spec.DeprecatedServiceAccount
	}
	return "default"
}

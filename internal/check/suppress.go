package check

import (
	"strings"

	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Annotations users put on objects to silence findings.
const (
	// IgnoreAnnotation lists check IDs ("a,b") or "*" to ignore on the
	// object (on the object or on its pod template).
	IgnoreAnnotation = "kubeharden.io/ignore"
	// IgnoreContainerPrefix + container name ignores checks for one
	// container only: kubeharden.io/ignore.<container>: "a,b".
	IgnoreContainerPrefix = "kubeharden.io/ignore."
	// IgnoreReasonAnnotation documents why (optional, for reviewers).
	IgnoreReasonAnnotation = "kubeharden.io/ignore-reason"
)

// ignoreList is the parsed value of an ignore annotation.
type ignoreList struct {
	all bool
	ids map[string]bool
}

func parseIgnore(v string) ignoreList {
	l := ignoreList{ids: map[string]bool{}}
	for _, id := range strings.Split(v, ",") {
		id = strings.TrimSpace(id)
		switch id {
		case "":
		case "*", "all":
			l.all = true
		default:
			l.ids[id] = true
		}
	}
	return l
}

func (l ignoreList) has(id string) bool { return l.all || l.ids[id] }

// annotationSuppressor answers whether an object's annotations silence a
// finding. It merges the object's and its pod template's annotations.
type annotationSuppressor struct {
	object     ignoreList
	containers map[string]ignoreList
}

func newAnnotationSuppressor(obj *source.Object, pod *inventory.Pod) *annotationSuppressor {
	// Nearly no object has an ignore annotation: look before building.
	objAnn, _ := obj.MetadataField("annotations").(map[string]any)
	var podAnn map[string]string
	if pod != nil && pod.MetaPath != "metadata" {
		podAnn = pod.Meta.Annotations
	}
	if !mentionsIgnore(objAnn) && !mentionsIgnore(podAnn) {
		return nil
	}
	s := &annotationSuppressor{containers: map[string]ignoreList{}}
	add := func(ann map[string]string) {
		for k, v := range ann {
			if k == IgnoreAnnotation {
				mergeIgnore(&s.object, parseIgnore(v))
			} else if name, ok := strings.CutPrefix(k, IgnoreContainerPrefix); ok && name != "" {
				l := s.containers[name]
				mergeIgnore(&l, parseIgnore(v))
				s.containers[name] = l
			}
		}
	}
	add(source.StringMap(objAnn))
	add(podAnn)
	if !s.object.all && len(s.object.ids) == 0 && len(s.containers) == 0 {
		return nil
	}
	return s
}

// mentionsIgnore reports whether any key of ann starts with
// IgnoreAnnotation (the ignore, per-container ignore and reason keys).
func mentionsIgnore[V any](ann map[string]V) bool {
	for k := range ann {
		if strings.HasPrefix(k, IgnoreAnnotation) {
			return true
		}
	}
	return false
}

func mergeIgnore(dst *ignoreList, src ignoreList) {
	if dst.ids == nil {
		dst.ids = map[string]bool{}
	}
	dst.all = dst.all || src.all
	for id := range src.ids {
		dst.ids[id] = true
	}
}

func (s *annotationSuppressor) suppresses(checkID, container string) bool {
	if s == nil {
		return false
	}
	if s.object.has(checkID) {
		return true
	}
	if container != "" {
		if l, ok := s.containers[container]; ok && l.has(checkID) {
			return true
		}
	}
	return false
}

package inventory

import (
	"reflect"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubeharden/kubeharden/internal/source"
)

// CollapseOwned drops objects that a controller in objs created from its
// template (a Deployment's ReplicaSets, their Pods, a CronJob's Jobs, ...)
// so each finding is reported once, at the top-level owner. An owned
// object stays when its security-relevant pod spec differs from its
// owner's template: a debug container was added, or a mutating webhook or
// a hand edit changed it. It returns the objects kept and how many were
// dropped.
func CollapseOwned(objs []*source.Object) ([]*source.Object, int) {
	var byUID map[string]*source.Object // made at the first uid: manifests have none
	for _, o := range objs {
		if uid, _ := o.MetadataField("uid").(string); uid != "" {
			if byUID == nil {
				byUID = make(map[string]*source.Object, len(objs))
			}
			byUID[uid] = o
		}
	}
	if len(byUID) == 0 {
		return objs, 0
	}
	pods := map[*source.Object]*Pod{}
	podOf := func(o *source.Object) *Pod {
		if p, ok := pods[o]; ok {
			return p
		}
		p, _ := PodOf(o)
		pods[o] = p
		return p
	}
	kept := objs[:0:0]
	dropped := 0
	for _, o := range objs {
		owner := controllerOf(o, byUID)
		if owner != nil {
			if p, op := podOf(o), podOf(owner); p != nil && op != nil && sameSecurity(p.Spec, op.Spec) {
				dropped++
				continue
			}
		}
		kept = append(kept, o)
	}
	return kept, dropped
}

// controllerOf returns the object's controlling owner when it is in the set.
func controllerOf(o *source.Object, byUID map[string]*source.Object) *source.Object {
	refs, _ := o.MetadataField("ownerReferences").([]any)
	for _, r := range refs {
		ref, _ := r.(map[string]any)
		if isController, _ := ref["controller"].(bool); !isController {
			continue
		}
		uid, _ := ref["uid"].(string)
		return byUID[uid]
	}
	return nil
}

// sameSecurity compares the parts of two pod specs that checks look at.
// Everything else (scheduling, DNS, priority and what admission adds to
// every pod created from a template) is ignored.
func sameSecurity(a, b *corev1.PodSpec) bool {
	return reflect.DeepEqual(securityView(a), securityView(b))
}

func securityView(s *corev1.PodSpec) corev1.PodSpec {
	v := corev1.PodSpec{
		HostNetwork:                  s.HostNetwork,
		HostPID:                      s.HostPID,
		HostIPC:                      s.HostIPC,
		HostUsers:                    s.HostUsers,
		ShareProcessNamespace:        s.ShareProcessNamespace,
		SecurityContext:              s.SecurityContext,
		ServiceAccountName:           s.ServiceAccountName,
		AutomountServiceAccountToken: s.AutomountServiceAccountToken,
		RuntimeClassName:             s.RuntimeClassName,
		OS:                           s.OS,
		Resources:                    s.Resources,
		InitContainers:               containerViews(s.InitContainers),
		Containers:                   containerViews(s.Containers),
		EphemeralContainers:          s.EphemeralContainers,
	}
	for _, vol := range s.Volumes {
		if !strings.HasPrefix(vol.Name, "kube-api-access-") {
			v.Volumes = append(v.Volumes, vol)
		}
	}
	return v
}

func containerViews(cs []corev1.Container) []corev1.Container {
	out := make([]corev1.Container, 0, len(cs))
	for _, c := range cs {
		view := corev1.Container{
			Name:            c.Name,
			Image:           c.Image,
			ImagePullPolicy: c.ImagePullPolicy,
			SecurityContext: c.SecurityContext,
			Ports:           c.Ports,
			Resources:       c.Resources,
			Env:             c.Env,
			EnvFrom:         c.EnvFrom,
			LivenessProbe:   c.LivenessProbe,
			ReadinessProbe:  c.ReadinessProbe,
			StartupProbe:    c.StartupProbe,
			Lifecycle:       c.Lifecycle,
		}
		for _, m := range c.VolumeMounts {
			if !strings.HasPrefix(m.Name, "kube-api-access-") {
				view.VolumeMounts = append(view.VolumeMounts, m)
			}
		}
		out = append(out, view)
	}
	return out
}

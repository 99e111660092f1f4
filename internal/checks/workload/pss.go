package workload

import (
	"fmt"
	"strconv"
	"strings"
	"sync"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// The Pod Security Standards are evaluated by the upstream controls of
// k8s.io/pod-security-admission/policy, so verdicts are exactly the
// admission controller's. kubeharden adds what upstream does not return:
// which control failed (upstream's Evaluator drops the ID), and where
// (container and field path).
//
// Each upstream control is one catalogue check. At the restricted level
// upstream lets some restricted controls replace ("override") baseline
// ones; kubeharden evaluates both, because the restricted control is
// always the stricter one: the verdict is the same, and a pod that adds
// SYS_ADMIN keeps its high-severity baseline finding.

// pssControls returns the upstream controls by ID, validated the same way
// the admission plugin validates them.
func pssControls() (map[policy.CheckID]policy.Check, error) {
	checks := policy.DefaultChecks()
	if _, err := policy.NewEvaluator(checks, nil); err != nil {
		return nil, fmt.Errorf("upstream Pod Security checks: %w", err)
	}
	out := make(map[policy.CheckID]policy.Check, len(checks))
	for _, c := range checks {
		out[c.ID] = c
	}
	return out, nil
}

// ParsePSSVersion reads "latest" or "v1.N".
func ParsePSSVersion(s string) (psaapi.Version, error) {
	if s == "" {
		return psaapi.LatestVersion(), nil
	}
	v, err := psaapi.ParseVersion(s)
	if err != nil {
		return v, fmt.Errorf("--pss-version %q: want latest or v1.N: %w", s, err)
	}
	return v, nil
}

// versioned returns the revision of c that applies at version v, or nil
// when c did not exist yet at v.
func versioned(c policy.Check, v psaapi.Version) policy.CheckPodFn {
	var fn policy.CheckPodFn
	for _, vc := range c.Versions {
		if v.Latest() || !v.Older(vc.MinimumVersion) {
			fn = vc.CheckPod
		}
	}
	return fn
}

type pssVersionKey struct{}

// pssVersion parses the environment's version once per run.
func pssVersion(env *check.Env) psaapi.Version {
	return env.Memo(pssVersionKey{}, func() any {
		v, err := ParsePSSVersion(env.Settings.PSSVersion)
		if err != nil {
			return psaapi.LatestVersion() // the CLI validates it first; never reached there
		}
		return v
	}).(psaapi.Version)
}

// location says where a control's fields live, to turn a failed control
// into field paths.
type location struct {
	// containers is set for controls that look at containers;
	// containerField is the field under the container
	// ("securityContext.privileged"), or empty for the container itself.
	containers     bool
	containerField string
	// volumes is set for controls that look at volumes; volumeField is the
	// field under the volume ("hostPath"), or empty for the volume itself.
	volumes     bool
	volumeField string
	// pod returns where a pod-level violation is: a field under the pod's
	// spec or metadata path (base), or base itself when field is empty.
	pod func(p *inventory.Pod) (base, field string)

	// volumePath makes the path of volumeField under a volume (set by
	// pssCheck).
	volumePath *check.TextKind
}

// pssCheck makes the catalogue entry for one upstream control.
func pssCheck(controls map[policy.CheckID]policy.Check, id policy.CheckID, loc location, meta check.Metadata) (*check.Check, error) {
	control, ok := controls[id]
	if !ok {
		return nil, fmt.Errorf("upstream Pod Security control %q not found", id)
	}
	meta.Frameworks.PSS = []string{string(id)}
	loc.volumePath = check.NewTextKind(func(spec, index string) string {
		return joinField(spec+".volumes["+index+"]", loc.volumeField)
	})
	c := &check.Check{Metadata: meta}
	c.Pod = func(env *check.Env, p *inventory.Pod) []check.Result {
		if control.Level == psaapi.LevelRestricted && env.Settings.PSSLevel == string(psaapi.LevelBaseline) {
			return nil
		}
		fn := versioned(control, pssVersion(env))
		if fn == nil {
			return nil
		}
		whole := fn(p.Meta, p.Spec)
		if whole.Allowed {
			return nil
		}
		return locate(env, fn, whole, p, loc)
	}
	return c, nil
}

// scratchPod is locate's working copy of a pod.
type scratchPod struct {
	spec corev1.PodSpec
	meta metav1.ObjectMeta
}

var scratchPool = sync.Pool{New: func() any { return new(scratchPod) }}

// locate finds the containers, volumes and pod-level fields that make fn
// fail, by evaluating fn on the pod reduced to one of them at a time. If no
// part fails alone, the whole pod is reported at its spec. whole is fn's
// verdict on the whole pod.
func locate(env *check.Env, fn policy.CheckPodFn, whole policy.CheckResult, p *inventory.Pod, loc location) []check.Result {
	out := env.ResultBuffer()
	// One scratch copy of the spec is reused for every reduced pod; the
	// upstream functions do not keep the pointer. The copies come from a
	// pool: a failing control on every pod of a large cluster would
	// otherwise allocate a PodSpec each time.
	sc := scratchPool.Get().(*scratchPod)
	defer func() {
		*sc = scratchPod{} // drop the references into this pod
		scratchPool.Put(sc)
	}()
	sc.spec, sc.meta = *p.Spec, *p.Meta
	scratch, metaNoAnn := &sc.spec, &sc.meta
	scratch.InitContainers, scratch.Containers, scratch.EphemeralContainers = nil, nil, nil
	metaNoAnn.Annotations = nil

	if loc.containers {
		// A pod with a single container and no annotations reduced to
		// that container is the whole pod: its verdict is known.
		single := len(p.Meta.Annotations) == 0 &&
			len(p.Spec.InitContainers)+len(p.Spec.Containers)+len(p.Spec.EphemeralContainers) == 1
		// refs are in the order of the lists below, each with its path.
		refs := p.Containers()
		try := func() {
			r := whole
			if !single {
				r = fn(metaNoAnn, scratch)
			}
			ref := refs[0]
			refs = refs[1:]
			if !r.Allowed {
				out = append(out, check.Result{Container: ref.Container.Name, Path: env.Text(fieldPath, ref.Path, loc.containerField), Message: pssMessage(env, r)})
			}
		}
		for i := range p.Spec.InitContainers {
			scratch.InitContainers = p.Spec.InitContainers[i : i+1]
			try()
		}
		scratch.InitContainers = nil
		for i := range p.Spec.Containers {
			scratch.Containers = p.Spec.Containers[i : i+1]
			try()
		}
		scratch.Containers = nil
		for i := range p.Spec.EphemeralContainers {
			scratch.EphemeralContainers = p.Spec.EphemeralContainers[i : i+1]
			try()
		}
		scratch.EphemeralContainers = nil
	}
	if loc.volumes {
		for i := range p.Spec.Volumes {
			scratch.Volumes = p.Spec.Volumes[i : i+1]
			if r := fn(p.Meta, scratch); !r.Allowed {
				out = append(out, check.Result{Path: env.Text(loc.volumePath, p.SpecPath, strconv.Itoa(i)), Message: pssMessage(env, r)})
			}
		}
		scratch.Volumes = nil
	}
	if r := fn(p.Meta, scratch); !r.Allowed {
		path := p.SpecPath
		if loc.pod != nil {
			base, field := loc.pod(p)
			path = env.Text(fieldPath, base, field)
		}
		podResult := check.Result{Path: path, Message: pssMessage(env, r)}
		// Containers that fail only by inheriting the pod-level value
		// report the very same message: one finding, at the pod, is right.
		kept := out[:0]
		for _, c := range out {
			if c.Message != podResult.Message {
				kept = append(kept, c)
			}
		}
		out = append(kept, podResult)
	}
	if len(out) == 0 {
		out = append(out, check.Result{Path: p.SpecPath, Message: pssMessage(env, whole)})
	}
	return env.KeepResults(out)
}

// pssMessage is the finding's message for an upstream verdict: its reason
// and detail.
func pssMessage(env *check.Env, r policy.CheckResult) string {
	reason := r.ForbiddenReason
	if reason == "" {
		reason = policy.UnknownForbiddenReason
	}
	if r.ForbiddenDetail == "" {
		return reason
	}
	return env.Text(pssReasonDetail, reason, r.ForbiddenDetail)
}

var pssReasonDetail = check.NewTextKind(func(reason, detail string) string { return reason + ": " + detail })

func joinField(base, field string) string {
	if field == "" {
		return base
	}
	return base + "." + field
}

// podField returns a pod-level location function for a field under the
// pod spec.
func podField(field string) func(*inventory.Pod) (string, string) {
	return func(p *inventory.Pod) (string, string) { return p.SpecPath, field }
}

// hostNamespaceField names the first host namespace the pod shares.
func hostNamespaceField(p *inventory.Pod) (string, string) {
	switch {
	case p.Spec.HostNetwork:
		return p.SpecPath, "hostNetwork"
	case p.Spec.HostPID:
		return p.SpecPath, "hostPID"
	case p.Spec.HostIPC:
		return p.SpecPath, "hostIPC"
	}
	return p.SpecPath, ""
}

// appArmorField points at the pod-level profile, or at the legacy
// annotations when those are what is set.
func appArmorField(p *inventory.Pod) (string, string) {
	if sc := p.Spec.SecurityContext; sc != nil && sc.AppArmorProfile != nil {
		return p.SpecPath, "securityContext.appArmorProfile"
	}
	for k := range p.Meta.Annotations {
		if strings.HasPrefix(k, corev1.DeprecatedAppArmorBetaContainerAnnotationKeyPrefix) {
			return p.MetaPath, "annotations"
		}
	}
	return p.SpecPath, "securityContext"
}

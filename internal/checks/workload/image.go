package workload

import (
	"fmt"
	"strings"

	corev1 "k8s.io/api/core/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
)

// imageRef is a container image reference split into its parts.
type imageRef struct {
	name, tag, digest string
}

// parseImage splits "registry:5000/repo/name:tag@sha256:…". A colon
// before the last slash belongs to the registry's port, not the tag.
func parseImage(s string) imageRef {
	var r imageRef
	if i := strings.IndexByte(s, '@'); i >= 0 {
		r.digest, s = s[i+1:], s[:i]
	}
	slash, colon := strings.LastIndexByte(s, '/'), strings.LastIndexByte(s, ':')
	if colon > slash {
		r.name, r.tag = s[:colon], s[colon+1:]
	} else {
		r.name = s
	}
	return r
}

func (r imageRef) pinned() bool { return r.digest != "" }

// imageCheck runs fn on every container with an image (all kinds, ephemeral
// included: they pull images too). fn returns the kind of message to report,
// made from the container's name and image, or nil.
func imageCheck(meta check.Metadata, fn func(ref inventory.ContainerRef, img imageRef) *check.TextKind) *check.Check {
	meta.Category = check.SupplyChain
	return &check.Check{
		Metadata: meta,
		Pod: func(env *check.Env, p *inventory.Pod) []check.Result {
			out := env.ResultBuffer()
			for _, ref := range p.Containers() {
				image := strings.TrimSpace(ref.Container.Image)
				if image == "" {
					continue
				}
				if message := fn(ref, parseImage(image)); message != nil {
					out = append(out, check.Result{Container: ref.Container.Name, Path: env.Text(fieldPath, ref.Path, "image"),
						Message: env.Text(message, ref.Container.Name, ref.Container.Image)})
				}
			}
			return env.KeepResults(out)
		},
	}
}

// imageMessage makes the kind of message format fills with a container's
// name and image.
func imageMessage(format string) *check.TextKind {
	return check.NewTextKind(func(name, image string) string { return fmt.Sprintf(format, name, image) })
}

func imageChecks() []*check.Check {
	latest := imageCheck(check.Metadata{
		ID: "image-tag-latest", Title: "Image tag missing or latest", Severity: check.Medium, ControlPlane: true,
		Frameworks:  check.Frameworks{NSA: []string{nsaImages}, MITRE: []string{mitreSupplyChain}},
		Description: "An image without a tag, or tagged latest, changes under the workload without review; rollbacks and audits cannot tell what ran.",
		Remediation: "Use an immutable version tag, ideally with its digest: image: repo/name:1.2.3@sha256:….",
	}, func(_ inventory.ContainerRef, img imageRef) *check.TextKind {
		switch {
		case img.pinned():
			return nil
		case img.tag == "":
			return noTag
		case img.tag == "latest":
			return latestTag
		}
		return nil
	})
	digest := imageCheck(check.Metadata{
		ID: "image-not-pinned-by-digest", Title: "Image not pinned by digest", Severity: check.Low,
		Frameworks:  check.Frameworks{NSA: []string{nsaImages}, MITRE: []string{mitreSupplyChain}},
		Description: "Tags can be moved to other content by anyone who can push to the repository; only a digest names exactly one image.",
		Remediation: "Append the image digest: image: repo/name:1.2.3@sha256:… (tools like crane or skopeo print it).",
	}, func(_ inventory.ContainerRef, img imageRef) *check.TextKind {
		if img.pinned() {
			return nil
		}
		return notPinned
	})
	pullPolicy := imageCheck(check.Metadata{
		ID: "image-pull-policy-mutable-tag", Title: "Cached image for a mutable tag", Severity: check.Low,
		Frameworks:  check.Frameworks{NSA: []string{nsaImages}, MITRE: []string{mitreSupplyChain}},
		Description: "imagePullPolicy IfNotPresent or Never with a tag that is not pinned by digest lets nodes run different, stale or pre-seeded images under the same name.",
		Remediation: "Pin the image by digest, or set imagePullPolicy: Always.",
	}, func(ref inventory.ContainerRef, img imageRef) *check.TextKind {
		switch {
		case img.pinned():
			return nil
		case ref.Container.ImagePullPolicy == corev1.PullIfNotPresent:
			return cachedIfNotPresent
		case ref.Container.ImagePullPolicy == corev1.PullNever:
			return cachedNever
		}
		return nil
	})
	return []*check.Check{latest, digest, pullPolicy}
}

var (
	noTag              = imageMessage("container %q image %q has no tag, so it runs whatever :latest is at pull time")
	latestTag          = imageMessage("container %q image %q uses the mutable tag latest")
	notPinned          = imageMessage("container %q image %q is not pinned by digest")
	cachedIfNotPresent = imageMessage("container %q uses imagePullPolicy " + string(corev1.PullIfNotPresent) + " with mutable image %q")
	cachedNever        = imageMessage("container %q uses imagePullPolicy " + string(corev1.PullNever) + " with mutable image %q")
)

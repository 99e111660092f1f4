package admission

import (
	"bytes"
	"fmt"

	admissionregistrationv1 "k8s.io/api/admissionregistration/v1"
	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	networkingv1 "k8s.io/api/networking/v1"
	rbacv1 "k8s.io/api/rbac/v1"
	"k8s.io/apimachinery/pkg/api/resource"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/intstr"
	"k8s.io/utils/ptr"
	"sigs.k8s.io/yaml"
)

// ManifestOptions shape `webhook manifests`.
type ManifestOptions struct {
	Namespace string
	// Name prefixes every object (default kubeharden-webhook).
	Name string
	// Image is the kubeharden image, best pinned by digest.
	Image string
	// FailurePolicy is Fail (default: an unreachable webhook blocks the
	// matched requests) or Ignore (they are admitted unchecked).
	FailurePolicy string
	// TimeoutSeconds is the API server's wait for an answer (default 5).
	TimeoutSeconds int32
	// Mutate adds the MutatingWebhookConfiguration (secure defaults).
	Mutate bool
	// ReadRBAC grants the webhook read access to RBAC objects (for the
	// automount mutation) and mounts a projected token for it.
	ReadRBAC bool
	// CABundle is the PEM CA of the serving certificate; without it the
	// configurations carry cert-manager's inject-ca-from annotation.
	CABundle []byte
	// Replicas of the Deployment (default 2).
	Replicas int32
}

// webhookResources are the resources whose objects the catalogue checks.
var webhookResources = []admissionregistrationv1.RuleWithOperations{
	rule("", "v1", "pods", "pods/ephemeralcontainers", "replicationcontrollers", "podtemplates", "secrets", "namespaces"),
	rule("apps", "v1", "deployments", "replicasets", "statefulsets", "daemonsets"),
	rule("batch", "v1", "jobs", "cronjobs"),
	rule("rbac.authorization.k8s.io", "v1", "roles", "clusterroles", "rolebindings", "clusterrolebindings"),
	rule("admissionregistration.k8s.io", "v1", "validatingwebhookconfigurations", "mutatingwebhookconfigurations"),
}

func rule(group, version string, resources ...string) admissionregistrationv1.RuleWithOperations {
	return admissionregistrationv1.RuleWithOperations{
		Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create, admissionregistrationv1.Update},
		Rule: admissionregistrationv1.Rule{APIGroups: []string{group}, APIVersions: []string{version}, Resources: resources,
			Scope: ptr.To(admissionregistrationv1.AllScopes)},
	}
}

// matchConditions keep requests that cannot change the outcome inside the
// API server: the control plane's own controllers (kube-system service
// accounts, which create pods from templates already checked), and
// Secrets other than service-account tokens.
var matchConditions = []admissionregistrationv1.MatchCondition{
	{Name: "not-kube-system-controllers", Expression: `!request.userInfo.username.startsWith('system:serviceaccount:kube-system:')`},
	{Name: "only-token-secrets", Expression: `request.resource.resource != 'secrets' || (has(object.type) && object.type == 'kubernetes.io/service-account-token')`},
}

// Manifests writes the webhook's objects as one multi-document YAML.
func Manifests(o ManifestOptions) ([]byte, error) {
	if o.Namespace == "" || o.Image == "" {
		return nil, fmt.Errorf("webhook manifests need a namespace and an image")
	}
	if o.Name == "" {
		o.Name = "kubeharden-webhook"
	}
	if o.FailurePolicy == "" {
		o.FailurePolicy = string(admissionregistrationv1.Fail)
	}
	if o.FailurePolicy != string(admissionregistrationv1.Fail) && o.FailurePolicy != string(admissionregistrationv1.Ignore) {
		return nil, fmt.Errorf("failure policy %q: want Fail or Ignore", o.FailurePolicy)
	}
	if o.TimeoutSeconds == 0 {
		o.TimeoutSeconds = 5
	}
	if o.TimeoutSeconds < 1 || o.TimeoutSeconds > 30 {
		return nil, fmt.Errorf("timeout %ds: the API server allows 1 to 30", o.TimeoutSeconds)
	}
	if o.Replicas == 0 {
		o.Replicas = 2
	}
	labels := map[string]string{"app.kubernetes.io/name": "kubeharden-webhook", "app.kubernetes.io/instance": o.Name}
	meta := func(name string) metav1.ObjectMeta {
		return metav1.ObjectMeta{Name: name, Namespace: o.Namespace, Labels: labels}
	}
	var objs []any
	objs = append(objs, &corev1.ServiceAccount{
		TypeMeta:                     metav1.TypeMeta{APIVersion: "v1", Kind: "ServiceAccount"},
		ObjectMeta:                   meta(o.Name),
		AutomountServiceAccountToken: ptr.To(false),
	})
	if o.ReadRBAC {
		clusterMeta := metav1.ObjectMeta{Name: o.Name + "-rbac-reader", Labels: labels}
		objs = append(objs, &rbacv1.ClusterRole{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole"},
			ObjectMeta: clusterMeta,
			Rules: []rbacv1.PolicyRule{{APIGroups: []string{"rbac.authorization.k8s.io"},
				Resources: []string{"roles", "clusterroles", "rolebindings", "clusterrolebindings"}, Verbs: []string{"list"}}},
		}, &rbacv1.ClusterRoleBinding{
			TypeMeta:   metav1.TypeMeta{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRoleBinding"},
			ObjectMeta: clusterMeta,
			RoleRef:    rbacv1.RoleRef{APIGroup: "rbac.authorization.k8s.io", Kind: "ClusterRole", Name: clusterMeta.Name},
			Subjects:   []rbacv1.Subject{{Kind: "ServiceAccount", Name: o.Name, Namespace: o.Namespace}},
		})
	}
	config := "apiVersion: kubeharden.io/v1alpha1\nkind: WebhookConfiguration\n# Deny findings at or above this severity, warn on the rest (docs/webhook.md).\ndenyAt: high\n"
	if o.Mutate {
		config += "mutate:\n  seccompProfile: true\n  allowPrivilegeEscalation: true\n  dropAllCapabilities: true\n"
		if o.ReadRBAC {
			config += "  automountServiceAccountToken: true\n"
		}
	}
	objs = append(objs, &corev1.ConfigMap{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "ConfigMap"},
		ObjectMeta: meta(o.Name),
		Data:       map[string]string{"webhook.yaml": config},
	})
	objs = append(objs, &corev1.Service{
		TypeMeta:   metav1.TypeMeta{APIVersion: "v1", Kind: "Service"},
		ObjectMeta: meta(o.Name),
		Spec:       corev1.ServiceSpec{Selector: labels, Ports: []corev1.ServicePort{{Name: "https", Port: 443, TargetPort: intstr.FromString("https")}}},
	})
	objs = append(objs, deployment(o, labels, meta(o.Name)))
	// Only the API server calls the webhook, on its HTTPS port; its
	// address is not known here, so the port is what is restricted.
	objs = append(objs, &networkingv1.NetworkPolicy{
		TypeMeta:   metav1.TypeMeta{APIVersion: "networking.k8s.io/v1", Kind: "NetworkPolicy"},
		ObjectMeta: meta(o.Name),
		Spec: networkingv1.NetworkPolicySpec{
			PodSelector: metav1.LabelSelector{MatchLabels: labels},
			PolicyTypes: []networkingv1.PolicyType{networkingv1.PolicyTypeIngress},
			Ingress:     []networkingv1.NetworkPolicyIngressRule{{Ports: []networkingv1.NetworkPolicyPort{{Port: ptr.To(intstr.FromInt32(8443))}}}},
		},
	})
	service := func(path string) admissionregistrationv1.WebhookClientConfig {
		return admissionregistrationv1.WebhookClientConfig{CABundle: o.CABundle,
			Service: &admissionregistrationv1.ServiceReference{Namespace: o.Namespace, Name: o.Name, Path: ptr.To(path), Port: ptr.To[int32](443)}}
	}
	selector := &metav1.LabelSelector{MatchExpressions: []metav1.LabelSelectorRequirement{{
		Key: "kubernetes.io/metadata.name", Operator: metav1.LabelSelectorOpNotIn, Values: []string{"kube-system", o.Namespace},
	}}}
	configMeta := func(name string) metav1.ObjectMeta {
		m := metav1.ObjectMeta{Name: name, Labels: labels}
		if len(o.CABundle) == 0 {
			m.Annotations = map[string]string{"cert-manager.io/inject-ca-from": o.Namespace + "/" + o.Name}
		}
		return m
	}
	policy := admissionregistrationv1.FailurePolicyType(o.FailurePolicy)
	objs = append(objs, &admissionregistrationv1.ValidatingWebhookConfiguration{
		TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "ValidatingWebhookConfiguration"},
		ObjectMeta: configMeta(o.Name),
		Webhooks: []admissionregistrationv1.ValidatingWebhook{{
			Name: "validate.kubeharden.io", ClientConfig: service("/validate"), Rules: webhookResources,
			FailurePolicy: &policy, SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), TimeoutSeconds: ptr.To(o.TimeoutSeconds),
			AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector, MatchConditions: matchConditions,
			MatchPolicy: ptr.To(admissionregistrationv1.Equivalent),
		}},
	})
	if o.Mutate {
		objs = append(objs, &admissionregistrationv1.MutatingWebhookConfiguration{
			TypeMeta:   metav1.TypeMeta{APIVersion: "admissionregistration.k8s.io/v1", Kind: "MutatingWebhookConfiguration"},
			ObjectMeta: configMeta(o.Name),
			Webhooks: []admissionregistrationv1.MutatingWebhook{{
				Name: "mutate.kubeharden.io", ClientConfig: service("/mutate"),
				Rules: []admissionregistrationv1.RuleWithOperations{
					{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: webhookResources[0].Rule},
					{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: webhookResources[1].Rule},
					{Operations: []admissionregistrationv1.OperationType{admissionregistrationv1.Create}, Rule: webhookResources[2].Rule},
				},
				FailurePolicy: &policy, SideEffects: ptr.To(admissionregistrationv1.SideEffectClassNone), TimeoutSeconds: ptr.To(o.TimeoutSeconds),
				AdmissionReviewVersions: []string{"v1"}, NamespaceSelector: selector, MatchConditions: matchConditions[:1],
				MatchPolicy: ptr.To(admissionregistrationv1.Equivalent), ReinvocationPolicy: ptr.To(admissionregistrationv1.NeverReinvocationPolicy),
			}},
		})
	}
	var buf bytes.Buffer
	for i, obj := range objs {
		data, err := yaml.Marshal(obj)
		if err != nil {
			return nil, err
		}
		if i > 0 {
			buf.WriteString("---\n")
		}
		buf.Write(bytes.ReplaceAll(data, []byte("  creationTimestamp: null\n"), nil))
	}
	return buf.Bytes(), nil
}

// deployment is the hardened webhook Deployment: non-root, read-only root
// filesystem, no privilege escalation, no capabilities, RuntimeDefault
// seccomp, resource requests and limits, and no API token unless it must
// read RBAC (then a projected, expiring one).
func deployment(o ManifestOptions, labels map[string]string, meta metav1.ObjectMeta) *appsv1.Deployment {
	args := []string{"webhook", "serve", "--config", "/etc/kubeharden/config/webhook.yaml", "--tls-cert", "/etc/kubeharden/tls/tls.crt", "--tls-key", "/etc/kubeharden/tls/tls.key"}
	volumes := []corev1.Volume{
		{Name: "tls", VolumeSource: corev1.VolumeSource{Secret: &corev1.SecretVolumeSource{SecretName: o.Name + "-tls"}}},
		{Name: "config", VolumeSource: corev1.VolumeSource{ConfigMap: &corev1.ConfigMapVolumeSource{LocalObjectReference: corev1.LocalObjectReference{Name: o.Name}}}},
	}
	mounts := []corev1.VolumeMount{{Name: "tls", MountPath: "/etc/kubeharden/tls", ReadOnly: true}, {Name: "config", MountPath: "/etc/kubeharden/config", ReadOnly: true}}
	if o.ReadRBAC {
		args = append(args, "--read-rbac")
		volumes = append(volumes, corev1.Volume{Name: "api-token", VolumeSource: corev1.VolumeSource{Projected: &corev1.ProjectedVolumeSource{Sources: []corev1.VolumeProjection{
			{ServiceAccountToken: &corev1.ServiceAccountTokenProjection{Path: "token", ExpirationSeconds: ptr.To[int64](3600)}},
			{ConfigMap: &corev1.ConfigMapProjection{LocalObjectReference: corev1.LocalObjectReference{Name: "kube-root-ca.crt"}, Items: []corev1.KeyToPath{{Key: "ca.crt", Path: "ca.crt"}}}},
			{DownwardAPI: &corev1.DownwardAPIProjection{Items: []corev1.DownwardAPIVolumeFile{{Path: "namespace", FieldRef: &corev1.ObjectFieldSelector{FieldPath: "metadata.namespace"}}}}},
		}}}})
		mounts = append(mounts, corev1.VolumeMount{Name: "api-token", MountPath: "/var/run/secrets/kubernetes.io/serviceaccount", ReadOnly: true})
	}
	probe := func(path string) *corev1.Probe {
		return &corev1.Probe{ProbeHandler: corev1.ProbeHandler{HTTPGet: &corev1.HTTPGetAction{Path: path, Port: intstr.FromString("https"), Scheme: corev1.URISchemeHTTPS}}, PeriodSeconds: 10}
	}
	return &appsv1.Deployment{
		TypeMeta:   metav1.TypeMeta{APIVersion: "apps/v1", Kind: "Deployment"},
		ObjectMeta: meta,
		Spec: appsv1.DeploymentSpec{
			Replicas: ptr.To(o.Replicas),
			Selector: &metav1.LabelSelector{MatchLabels: labels},
			Template: corev1.PodTemplateSpec{
				ObjectMeta: metav1.ObjectMeta{Labels: labels},
				Spec: corev1.PodSpec{
					ServiceAccountName:           o.Name,
					AutomountServiceAccountToken: ptr.To(false),
					SecurityContext: &corev1.PodSecurityContext{RunAsNonRoot: ptr.To(true), RunAsUser: ptr.To[int64](65532), RunAsGroup: ptr.To[int64](65532),
						SeccompProfile: &corev1.SeccompProfile{Type: corev1.SeccompProfileTypeRuntimeDefault}},
					Containers: []corev1.Container{{
						Name: "webhook", Image: o.Image, ImagePullPolicy: corev1.PullIfNotPresent, Args: args,
						Ports: []corev1.ContainerPort{{Name: "https", ContainerPort: 8443}},
						SecurityContext: &corev1.SecurityContext{AllowPrivilegeEscalation: ptr.To(false), ReadOnlyRootFilesystem: ptr.To(true),
							RunAsNonRoot: ptr.To(true), Capabilities: &corev1.Capabilities{Drop: []corev1.Capability{"ALL"}}},
						Resources: corev1.ResourceRequirements{
							Requests: corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("100m"), corev1.ResourceMemory: resource.MustParse("128Mi")},
							Limits:   corev1.ResourceList{corev1.ResourceCPU: resource.MustParse("1"), corev1.ResourceMemory: resource.MustParse("256Mi")},
						},
						ReadinessProbe: probe("/readyz"), LivenessProbe: probe("/healthz"),
						VolumeMounts: mounts,
					}},
					Volumes: volumes,
				},
			},
		},
	}
}

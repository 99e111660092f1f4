package accesscontrol

import (
	"fmt"
	"slices"
	"strings"

	rbacv1 "k8s.io/api/rbac/v1"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

// permissionRisk is a permission that is dangerous to hold: a role rule
// that allows any of requests is reported.
type permissionRisk struct {
	check.Metadata
	// what the permission lets a holder do, for messages.
	what string
	// namespaced is the severity when the role only applies in namespaces
	// (a Role, or a ClusterRole bound only by RoleBindings); zero means
	// the same as Severity.
	namespaced check.Severity
	requests   []rbac.Request
}

func req(verb, group, resource, sub string) rbac.Request {
	return rbac.Request{Verb: verb, APIGroup: group, Resource: resource, Subresource: sub}
}

func each(verbs []string, group string, resources ...string) []rbac.Request {
	var out []rbac.Request
	for _, r := range resources {
		res, sub, _ := strings.Cut(r, "/")
		for _, v := range verbs {
			out = append(out, req(v, group, res, sub))
		}
	}
	return out
}

var (
	read  = []string{"get", "list", "watch"}
	write = []string{"create", "update", "patch", "delete", "deletecollection"}
)

const (
	mitreValidAccounts  = "T1078"
	mitreCredentials    = "T1552"
	mitrePrivEscalation = "T1068"
	nsaRBAC             = "Use RBAC with least privilege"
)

// permissionRisks is the catalogue of dangerous permissions. A rule with
// resources ["*"] is reported once, by rbac-wildcard, not by each of
// these.
func permissionRisks() []permissionRisk {
	return []permissionRisk{
		{
			Metadata: check.Metadata{ID: "rbac-secrets-read", Title: "Role can read Secrets", Severity: check.High,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.2"}, NSA: []string{nsaRBAC}, MITRE: []string{mitreCredentials}},
				Description: "get, list or watch on Secrets reads every Secret in scope: credentials, TLS keys and (legacy) service-account tokens.",
				Remediation: "Grant access to the named Secrets only (resourceNames) with get, or mount the Secrets the workload needs instead of reading them through the API."},
			what: "read Secrets", namespaced: check.Medium,
			requests: each(read, "", "secrets"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-workload-create", Title: "Role can create pods or workloads", Severity: check.High,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.4"}, NSA: []string{nsaRBAC}, MITRE: []string{mitrePrivEscalation}},
				Description: "Creating pods, or creating or changing any controller that creates them, runs arbitrary code as any service account of the namespace and, where Pod Security admission allows it, with host access.",
				Remediation: "Limit pod and workload creation to deployment tooling; give people read access and let CI/GitOps apply changes."},
			what: "create or change pods and workload controllers", namespaced: check.Medium,
			requests: append(each([]string{"create"}, "", "pods"), append(each([]string{"create", "update", "patch"}, "apps", "deployments", "statefulsets", "daemonsets", "replicasets"),
				append(each([]string{"create", "update", "patch"}, "batch", "jobs", "cronjobs"), each([]string{"create", "update", "patch"}, "", "replicationcontrollers")...)...)...),
		},
		{
			Metadata: check.Metadata{ID: "rbac-pod-exec", Title: "Role can exec, attach, debug or port-forward into pods", Severity: check.High,
				Frameworks:  check.Frameworks{NSA: []string{nsaRBAC}, MITRE: []string{"T1609"}},
				Description: "pods/exec, pods/attach, pods/ephemeralcontainers (kubectl debug) and pods/portforward give a shell in, or network access to, running containers, with their service-account tokens and mounted secrets.",
				Remediation: "Remove the exec, attach, ephemeralcontainers and portforward subresources from the role; grant them temporarily for debugging if needed."},
			what: "exec, attach, debug or port-forward into pods", namespaced: check.Medium,
			requests: append(each([]string{"create", "get"}, "", "pods/exec", "pods/attach", "pods/portforward"),
				each([]string{"patch", "update"}, "", "pods/ephemeralcontainers")...),
		},
		{
			Metadata: check.Metadata{ID: "rbac-nodes-proxy", Title: "Role can use the nodes/proxy subresource", Severity: check.Critical,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.10"}, NSA: []string{nsaRBAC}, MITRE: []string{mitrePrivEscalation}},
				Description: "nodes/proxy reaches the kubelet API of every node, whose exec and run endpoints bypass admission and audit: a shell in any pod, including control-plane pods.",
				Remediation: "Remove nodes/proxy; monitoring agents need nodes/metrics and nodes/stats only."},
			what:     "reach every kubelet's API through nodes/proxy",
			requests: each([]string{"get", "create"}, "", "nodes/proxy"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-escalation-verbs", Title: "Role grants bind, escalate or impersonate", Severity: check.Critical,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.8"}, NSA: []string{nsaRBAC}, MITRE: []string{mitrePrivEscalation}},
				Description: "bind and escalate bypass RBAC's escalation prevention (grant roles or permissions the holder does not have); impersonate lets the holder act as other users, groups or service accounts.",
				Remediation: "Remove bind, escalate and impersonate, or restrict them with resourceNames to the exact roles or identities required."},
			what: "bind or escalate roles, or impersonate", namespaced: check.High,
			requests: append(each([]string{"bind", "escalate"}, rbacv1.GroupName, "roles", "clusterroles"),
				each([]string{"impersonate"}, "", "users", "groups", "serviceaccounts")...),
		},
		{
			Metadata: check.Metadata{ID: "rbac-token-create", Title: "Role can create service-account tokens", Severity: check.High,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.13"}, NSA: []string{nsaRBAC}, MITRE: []string{mitreValidAccounts}},
				Description: "create on serviceaccounts/token issues tokens for service accounts, acting as them.",
				Remediation: "Remove serviceaccounts/token create, or restrict it with resourceNames to the service account that needs it."},
			what: "issue tokens for service accounts", namespaced: check.Medium,
			requests: each([]string{"create"}, "", "serviceaccounts/token"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-csr-approval", Title: "Role can approve or sign certificate requests", Severity: check.High,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.11"}, NSA: []string{nsaRBAC}, MITRE: []string{mitreValidAccounts}},
				Description: "Approving CertificateSigningRequests (certificatesigningrequests/approval, or approve on signers) can yield client certificates for any identity, system:masters included.",
				Remediation: "Leave approval to the controller manager and dedicated approvers; restrict approve on signers to the signer names needed."},
			what: "approve or sign certificate requests",
			requests: append(each([]string{"update", "patch"}, "certificates.k8s.io", "certificatesigningrequests/approval", "certificatesigningrequests/status"),
				each([]string{"approve", "sign"}, "certificates.k8s.io", "signers")...),
		},
		{
			Metadata: check.Metadata{ID: "rbac-admission-write", Title: "Role can change admission webhooks or policies", Severity: check.High,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.12"}, NSA: []string{nsaRBAC}, MITRE: []string{"T1562"}},
				Description: "Writing (Validating|Mutating)WebhookConfigurations, (Validating|Mutating)AdmissionPolicies, Gatekeeper ConstraintTemplates or Kyverno policies can switch off admission control or send every object to a server that rewrites it.",
				Remediation: "Limit admission configuration to cluster administrators and the controllers that own it (restrict with resourceNames)."},
			what: "change admission webhooks or policies",
			requests: append(append(each(write, "admissionregistration.k8s.io", "validatingwebhookconfigurations", "mutatingwebhookconfigurations",
				"validatingadmissionpolicies", "validatingadmissionpolicybindings", "mutatingadmissionpolicies", "mutatingadmissionpolicybindings"),
				each(write, "templates.gatekeeper.sh", "constrainttemplates")...),
				each(write, "kyverno.io", "clusterpolicies", "policies")...),
		},
		{
			Metadata: check.Metadata{ID: "rbac-rbac-write", Title: "Role can change RBAC", Severity: check.High,
				Frameworks:  check.Frameworks{NSA: []string{nsaRBAC}, MITRE: []string{"T1098"}},
				Description: "Writing Roles, ClusterRoles and their bindings lets the holder hand out every permission it holds (and, with bind or escalate, more) to anyone.",
				Remediation: "Limit RBAC changes to cluster administrators and GitOps tooling."},
			what: "create or change roles and bindings", namespaced: check.Medium,
			requests: each(write, rbacv1.GroupName, "roles", "clusterroles", "rolebindings", "clusterrolebindings"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-crd-write", Title: "Role can change CustomResourceDefinitions", Severity: check.Medium,
				Frameworks:  check.Frameworks{NSA: []string{nsaRBAC}},
				Description: "Writing CustomResourceDefinitions can delete every custom resource of a type or change its schema and conversion webhook.",
				Remediation: "Limit CRD changes to cluster administrators and the operators that own them."},
			what:     "create or change CustomResourceDefinitions",
			requests: each(write, "apiextensions.k8s.io", "customresourcedefinitions"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-namespace-write", Title: "Role can change namespaces", Severity: check.Medium,
				Frameworks:  check.Frameworks{NSA: []string{nsaRBAC}},
				Description: "Updating a Namespace can change its pod-security.kubernetes.io labels, switching Pod Security admission off for it; deleting one deletes everything in it.",
				Remediation: "Limit namespace changes to cluster administrators; tenants rarely need more than get."},
			what:     "change or delete namespaces (and their Pod Security labels)",
			requests: each([]string{"update", "patch", "delete"}, "", "namespaces"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-networkpolicy-write", Title: "Role can change NetworkPolicies", Severity: check.Medium,
				Frameworks:  check.Frameworks{NSA: []string{nsaRBAC, "Use network policies to isolate resources"}, MITRE: []string{"T1562"}},
				Description: "Creating, changing or deleting NetworkPolicies can lift the isolation of every workload they select.",
				Remediation: "Let platform owners or GitOps manage NetworkPolicies; application roles rarely need more than read access."},
			what: "change NetworkPolicies", namespaced: check.Low,
			requests: each(write, "networking.k8s.io", "networkpolicies"),
		},
		{
			Metadata: check.Metadata{ID: "rbac-persistentvolume-create", Title: "Role can create PersistentVolumes", Severity: check.Medium,
				Frameworks:  check.Frameworks{CIS: []string{"5.1.9"}, NSA: []string{nsaRBAC}, MITRE: []string{"T1611"}},
				Description: "A PersistentVolume can be a hostPath: whoever creates one can mount any directory of the node into a pod.",
				Remediation: "Use StorageClasses and dynamic provisioning; limit PersistentVolume creation to administrators."},
			what:     "create PersistentVolumes (which may be hostPaths)",
			requests: each([]string{"create"}, "", "persistentvolumes"),
		},
	}
}

// clusterWide reports whether a role's permissions may apply cluster-wide:
// a ClusterRole can be bound by a ClusterRoleBinding at any time; a Role
// applies in its namespace. Decided from the role alone, so a scan and the
// admission webhook (which sees one object) grade it alike.
func clusterWide(r *rbac.Role) bool { return r.Kind == "ClusterRole" }

// namesResource reports whether the rule names its resources
// rather than granting all of them with resources: ["*"].
func namesResource(rule *rbacv1.PolicyRule) bool {
	return !slices.Contains(rule.Resources, rbacv1.ResourceAll)
}

// reportableRole is the role o holds, unless Kubernetes owns it.
func reportableRole(env *check.Env, o *source.Object) *rbac.Role {
	if o.Group() != rbacv1.GroupName {
		return nil
	}
	// Thirteen checks read each role: make it once per run.
	return env.Memo(roleKey{o}, func() any {
		r, err := decodedRole(env, o)
		if err != nil {
			return (*rbac.Role)(nil)
		}
		if role := rbac.NewRole(o, r); !role.Bootstrap() {
			return role
		}
		return (*rbac.Role)(nil)
	}).(*rbac.Role)
}

type roleKey struct{ o *source.Object }

// roleCheck is a check of each own rule of every reportable Role and
// ClusterRole: eval returns the finding for rule i, or nil.
func roleCheck(m check.Metadata, eval func(r *rbac.Role, i int, rule *rbacv1.PolicyRule) *check.Result) *check.Check {
	m.Category = check.AccessControl
	return &check.Check{
		Metadata: m,
		Kinds:    []string{"Role", "ClusterRole"},
		Object: func(env *check.Env, o *source.Object) []check.Result {
			r := reportableRole(env, o)
			if r == nil {
				return nil
			}
			var out []check.Result
			for i := range r.OwnRules() {
				if res := eval(r, i, &r.OwnRules()[i]); res != nil {
					out = append(out, *res)
				}
			}
			return out
		},
	}
}

func (risk permissionRisk) check() *check.Check {
	return roleCheck(risk.Metadata, func(r *rbac.Role, i int, rule *rbacv1.PolicyRule) *check.Result {
		if !namesResource(rule) {
			return nil
		}
		var allowed []rbac.Request
		for _, q := range risk.requests {
			if rbac.RuleAllows(rule, q) {
				allowed = append(allowed, q)
			}
		}
		if len(allowed) == 0 {
			return nil
		}
		res := &check.Result{
			Path:    fmt.Sprintf("rules[%d]", i),
			Message: fmt.Sprintf("%s can %s (%s), %s", r.RoleRef, risk.what, summarize(allowed), scopeWord(r)),
		}
		if !clusterWide(r) && risk.namespaced != 0 {
			res.Severity = risk.namespaced
		}
		return res
	})
}

// summarize writes requests compactly: resources with the same verbs
// together ("create,update roles, clusterroles; get secrets").
func summarize(reqs []rbac.Request) string {
	var resources []string
	verbs := map[string][]string{}
	for _, q := range reqs {
		name := resourceName(q)
		if _, ok := verbs[name]; !ok {
			resources = append(resources, name)
		}
		if !slices.Contains(verbs[name], q.Verb) {
			verbs[name] = append(verbs[name], q.Verb)
		}
	}
	var groups []string
	byVerbs := map[string][]string{}
	for _, r := range resources {
		k := strings.Join(verbs[r], ",")
		if _, ok := byVerbs[k]; !ok {
			groups = append(groups, k)
		}
		byVerbs[k] = append(byVerbs[k], r)
	}
	parts := make([]string, 0, len(groups))
	for _, k := range groups {
		parts = append(parts, k+" "+strings.Join(byVerbs[k], ", "))
	}
	return strings.Join(parts, "; ")
}

func resourceName(q rbac.Request) string {
	s := q.Resource
	if q.Subresource != "" {
		s += "/" + q.Subresource
	}
	return s
}

func scopeWord(r *rbac.Role) string {
	if clusterWide(r) {
		return "cluster-wide when bound by a ClusterRoleBinding"
	}
	return "in namespace " + r.Namespace
}

func wildcardRule() *check.Check {
	return roleCheck(check.Metadata{
		ID: "rbac-wildcard", Title: "Role uses wildcards", Severity: check.High,
		Frameworks:  check.Frameworks{CIS: []string{"5.1.3"}, NSA: []string{nsaRBAC}, MITRE: []string{mitrePrivEscalation}},
		Description: "A \"*\" in verbs, resources, apiGroups or nonResourceURLs grants everything of that kind, including subresources, verbs and resource types added later (secrets, pods/exec, escalate, …).",
		Remediation: "List the verbs, API groups and resources the role needs.",
	}, func(r *rbac.Role, i int, rule *rbacv1.PolicyRule) *check.Result {
		var fields []string
		for _, f := range []struct {
			name   string
			values []string
		}{{"verbs", rule.Verbs}, {"apiGroups", rule.APIGroups}, {"resources", rule.Resources}, {"nonResourceURLs", rule.NonResourceURLs}} {
			if slices.Contains(f.values, "*") {
				fields = append(fields, f.name)
			}
		}
		if len(fields) == 0 {
			return nil
		}
		res := &check.Result{
			Path:    fmt.Sprintf("rules[%d].%s", i, fields[0]),
			Message: fmt.Sprintf("%s rules[%d] has \"*\" in %s, %s", r.RoleRef, i, strings.Join(fields, " and "), scopeWord(r)),
		}
		all := slices.Contains(rule.Verbs, "*") && slices.Contains(rule.Resources, "*") && slices.Contains(rule.APIGroups, "*")
		switch {
		case all && clusterWide(r):
			res.Severity = check.Critical
		case !clusterWide(r) && !all:
			res.Severity = check.Medium
		}
		return res
	})
}

// Package observability holds the checks on what the cluster records: the
// API server's audit policy (CIS section 3.2), judged with the API
// server's own policy evaluator against the requests kubeharden's audit
// detections need.
package observability

import (
	"encoding/json"
	"fmt"
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// Checks returns the observability catalogue.
func Checks() ([]*check.Check, error) {
	return []*check.Check{auditPolicyMissing(), policyCheck(recordsNothing), policyCheck(logsSecretData), policyCheck(requestReceived), policyCheck(coverage)}, nil
}

// user is an ordinary authenticated user; controller the ReplicaSet
// controller, which creates most pods.
var (
	user       = nodeconfig.AuditRequest{User: "jane", Groups: []string{"system:authenticated"}, Namespace: "default"}
	controller = nodeconfig.AuditRequest{User: "system:serviceaccount:kube-system:replicaset-controller", Groups: []string{"system:serviceaccounts", "system:serviceaccounts:kube-system", "system:authenticated"}, Namespace: "default"}
	anonymous  = nodeconfig.AuditRequest{User: "system:anonymous", Groups: []string{"system:unauthenticated"}, Namespace: "default"}
)

func req(who nodeconfig.AuditRequest, verb, group, resource, sub string) nodeconfig.AuditRequest {
	who.Verb, who.Group, who.Resource, who.Subresource = verb, group, resource, sub
	return who
}

func describe(r nodeconfig.AuditRequest) string {
	if r.Path != "" {
		return r.Verb + " " + r.Path + " by " + r.User
	}
	res := r.Resource
	if r.Subresource != "" {
		res += "/" + r.Subresource
	}
	if r.Group != "" {
		res += "." + r.Group
	}
	return r.Verb + " " + res + " by " + r.User
}

// Detection is a kind of activity kubeharden's audit detections look for,
// the requests that show it, and the level they must be logged at.
type Detection struct {
	Name     string
	Level    nodeconfig.Level
	Requests []nodeconfig.AuditRequest
}

// Detections are what the audit policy must record.
var Detections = []Detection{
	{"exec into pods", nodeconfig.LevelMetadata, []nodeconfig.AuditRequest{req(user, "create", "", "pods", "exec"), req(user, "get", "", "pods", "exec")}},
	{"attach to pods", nodeconfig.LevelMetadata, []nodeconfig.AuditRequest{req(user, "create", "", "pods", "attach")}},
	{"port-forward to pods", nodeconfig.LevelMetadata, []nodeconfig.AuditRequest{req(user, "create", "", "pods", "portforward")}},
	{"RBAC changes", nodeconfig.LevelMetadata, rbacChanges()},
	{"secret reads", nodeconfig.LevelMetadata, []nodeconfig.AuditRequest{req(user, "get", "", "secrets", ""), req(user, "list", "", "secrets", ""), req(user, "watch", "", "secrets", "")}},
	{"privileged pods (the pod spec is needed)", nodeconfig.LevelRequest, []nodeconfig.AuditRequest{req(user, "create", "", "pods", ""), req(controller, "create", "", "pods", "")}},
	{"service account token requests", nodeconfig.LevelMetadata, []nodeconfig.AuditRequest{req(user, "create", "", "serviceaccounts", "token")}},
	{"anonymous requests", nodeconfig.LevelMetadata, []nodeconfig.AuditRequest{req(anonymous, "list", "", "pods", ""), {User: anonymous.User, Groups: anonymous.Groups, Verb: "get", Path: "/api"}}},
}

func rbacChanges() []nodeconfig.AuditRequest {
	var out []nodeconfig.AuditRequest
	for _, res := range []string{"roles", "rolebindings", "clusterroles", "clusterrolebindings"} {
		for _, verb := range []string{"create", "update", "patch", "delete"} {
			r := req(user, verb, "rbac.authorization.k8s.io", res, "")
			if strings.HasPrefix(res, "cluster") {
				r.Namespace = ""
			}
			out = append(out, r)
		}
	}
	return out
}

// policyCheck is an audit policy judgement run on the API server's
// --audit-policy-file and on Policy files given to scan.
type policyJudge struct {
	meta  check.Metadata
	judge func(p *nodeconfig.AuditPolicy) []check.Result
}

func policyCheck(j policyJudge) *check.Check {
	return &check.Check{
		Metadata: j.meta,
		Kinds:    []string{"Policy"},
		Object: func(env *check.Env, obj *source.Object) []check.Result {
			p := policyOf(env, obj)
			if p == nil {
				return nil
			}
			return j.judge(p)
		},
		Node: func(env *check.Env, n *nodeconfig.Node) []check.Result {
			var out []check.Result
			for _, c := range n.Components {
				if c.Kind != nodeconfig.APIServer || c.AuditPolicy == nil {
					continue
				}
				p := nodePolicyOf(env, c.AuditPolicy)
				if p == nil {
					continue // the API server would not start; auditPolicyMissing reports it
				}
				for _, r := range j.judge(p) {
					r.Object, r.Source = nc.FileRef(c.AuditPolicy.Path), &check.Source{File: c.AuditPolicy.Path}
					out = append(out, r)
				}
			}
			return out
		},
	}
}

type policyMemo struct{ obj *source.Object }

type nodePolicyMemo struct{ file *nodeconfig.TextFile }

// nodePolicyOf parses an API server's audit policy file once per run for
// the checks that judge it; nil when it is invalid.
func nodePolicyOf(env *check.Env, f *nodeconfig.TextFile) *nodeconfig.AuditPolicy {
	return env.Memo(nodePolicyMemo{f}, func() any {
		p, err := nodeconfig.ParseAuditPolicy(f.Path, []byte(f.Content))
		if err != nil {
			return (*nodeconfig.AuditPolicy)(nil)
		}
		return p
	}).(*nodeconfig.AuditPolicy)
}

// policyOf decodes an audit Policy object once per run; nil when it is not
// one (other groups have kinds named Policy) or is invalid.
func policyOf(env *check.Env, obj *source.Object) *nodeconfig.AuditPolicy {
	if obj.Group() != "audit.k8s.io" {
		return nil
	}
	return env.Memo(policyMemo{obj}, func() any {
		data, err := json.Marshal(obj.Body())
		if err != nil {
			return (*nodeconfig.AuditPolicy)(nil)
		}
		p, err := nodeconfig.ParseAuditPolicy(obj.Source.File, data)
		if err != nil {
			return (*nodeconfig.AuditPolicy)(nil)
		}
		return p
	}).(*nodeconfig.AuditPolicy)
}

func meta(id, cis string, sev check.Severity, title, desc, fix string) check.Metadata {
	m := check.Metadata{ID: id, Title: title, Severity: sev, Category: check.Observability, Description: desc, Remediation: fix}
	if cis != "" {
		m.Frameworks.CIS = []string{cis}
	}
	return m
}

func auditPolicyMissing() *check.Check {
	return nc.ComponentRule{
		Metadata: meta("audit-policy-missing", "3.2.1", check.Medium, "API server has no valid audit policy",
			"Without --audit-policy-file the API server records no audit events at all, whatever backend is configured; an invalid policy keeps it from starting.",
			"Write an audit policy (Metadata for most requests, Request for pod and RBAC writes, never more than Metadata for Secrets, ConfigMaps and TokenReviews) and set --audit-policy-file."),
		Component: nodeconfig.APIServer,
		Eval: func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
			f := c.Flag("audit-policy-file")
			switch {
			case !f.Set || f.Value == "":
				return []nc.Violation{{Message: "--audit-policy-file is not set: no audit events are recorded"}}
			case c.AuditPolicy == nil:
				return nil // not readable here: the node's problems say so
			}
			if _, err := nodeconfig.ParseAuditPolicy(c.AuditPolicy.Path, []byte(c.AuditPolicy.Content)); err != nil {
				return []nc.Violation{{Message: "the audit policy is invalid: " + err.Error(), Path: f.Path, Line: f.Line}}
			}
			return nil
		},
	}.Check()
}

var recordsNothing = policyJudge{
	meta: meta("audit-policy-records-nothing", "3.2.1", check.High, "Audit policy records nothing",
		"Every request kubeharden asks the policy about is logged at level None: the audit log stays empty.",
		"Add rules that log at Metadata or above; end the policy with a catch-all `- level: Metadata`."),
	judge: func(p *nodeconfig.AuditPolicy) []check.Result {
		for _, d := range Detections {
			for _, r := range d.Requests {
				if p.Evaluate(r).Level != nodeconfig.LevelNone {
					return nil
				}
			}
		}
		return []check.Result{{Path: "rules", Message: "every request is logged at level None"}}
	},
}

var logsSecretData = policyJudge{
	meta: meta("audit-policy-logs-secret-data", "3.2.2", check.High, "Audit policy writes secret data to the log",
		"Secrets, ConfigMaps and TokenReviews logged at Request or RequestResponse put their data (credentials, tokens) into the audit log and whatever it is shipped to.",
		"Log secrets, configmaps and tokenreviews at Metadata: put a rule `- level: Metadata` with those resources before any rule that logs request bodies."),
	judge: func(p *nodeconfig.AuditPolicy) []check.Result {
		var out []check.Result
		for _, t := range []struct{ group, resource string }{{"", "secrets"}, {"", "configmaps"}, {"authentication.k8s.io", "tokenreviews"}} {
			var leaks []string
			for _, verb := range []string{"get", "list", "watch", "create", "update", "patch"} {
				r := req(user, verb, t.group, t.resource, "")
				if d := p.Evaluate(r); d.Level >= nodeconfig.LevelRequest {
					leaks = append(leaks, fmt.Sprintf("%s at %s", verb, d.Level))
				}
			}
			if len(leaks) > 0 {
				out = append(out, check.Result{Path: "rules." + t.resource, Message: fmt.Sprintf("%s are logged with their data: %s", t.resource, strings.Join(leaks, ", "))})
			}
		}
		return out
	},
}

var requestReceived = policyJudge{
	meta: meta("audit-policy-request-received", "", check.Low, "Audit policy logs the RequestReceived stage",
		"Without omitStages: [RequestReceived] every request is logged twice (when received and when complete), doubling the audit volume with no extra information for most uses.",
		"Add `omitStages: [\"RequestReceived\"]` at the top of the policy."),
	judge: func(p *nodeconfig.AuditPolicy) []check.Result {
		if p.OmitsRequestReceived() {
			return nil
		}
		for _, d := range Detections {
			for _, r := range d.Requests {
				if dec := p.Evaluate(r); dec.Level != nodeconfig.LevelNone && len(dec.Stages) > 0 && dec.Stages[0] == "RequestReceived" {
					return []check.Result{{Path: "omitStages", Message: "the RequestReceived stage is not omitted: " + describe(r) + " is logged twice"}}
				}
			}
		}
		return nil
	},
}

var coverage = policyJudge{
	meta: meta("audit-policy-coverage", "3.2.2", check.Medium, "Audit policy misses activity detections need",
		"kubeharden's audit detections (exec, attach and port-forward into pods, RBAC changes, secret reads, privileged pods, token requests, anonymous requests) need these requests in the log at the level given; a policy that drops them blinds detection.",
		"Log these requests at the level the message names, before any rule that lowers them to None."),
	judge: func(p *nodeconfig.AuditPolicy) []check.Result {
		var out []check.Result
		for _, d := range Detections {
			var missed []string
			for _, r := range d.Requests {
				if dec := p.Evaluate(r); !dec.Records(d.Level) {
					missed = append(missed, fmt.Sprintf("%s (%s)", describe(r), dec.Level))
				}
			}
			if len(missed) > 0 {
				out = append(out, check.Result{Path: "rules[" + d.Name + "]", Message: fmt.Sprintf("%s need level %s or above; not recorded: %s", d.Name, d.Level, strings.Join(missed, ", "))})
			}
		}
		return out
	},
}

package nodeconfig

import (
	"fmt"
	"slices"

	auditinternal "k8s.io/apiserver/pkg/apis/audit"
	"k8s.io/apiserver/pkg/audit"
	"k8s.io/apiserver/pkg/audit/policy"
	"k8s.io/apiserver/pkg/authentication/user"
	"k8s.io/apiserver/pkg/authorization/authorizer"
)

// TextFile is a configuration file kept whole because it holds no secret
// (an audit policy, an authorization configuration).
type TextFile struct {
	Path    string `json:"path"`
	Content string `json:"content"`
}

// AuditPolicy is a parsed audit policy with the API server's own rule
// evaluator (k8s.io/apiserver/pkg/audit/policy), so the level a request is
// logged at is exactly the server's.
type AuditPolicy struct {
	Source    string
	policy    *auditinternal.Policy
	evaluator audit.PolicyRuleEvaluator
}

// ParseAuditPolicy loads and validates an audit policy (audit.k8s.io/v1).
func ParseAuditPolicy(source string, data []byte) (*AuditPolicy, error) {
	p, err := policy.LoadPolicyFromBytes(data)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", source, err)
	}
	return &AuditPolicy{Source: source, policy: p, evaluator: policy.NewPolicyRuleEvaluator(p)}, nil
}

// AuditRequest describes a request to ask the policy about.
type AuditRequest struct {
	User        string
	Groups      []string
	Verb        string
	Namespace   string
	Group       string
	Resource    string
	Subresource string
	// Path is set for non-resource requests ("/api").
	Path string
}

// Level is an audit level, ordered None < Metadata < Request < RequestResponse.
type Level int

// The audit levels.
const (
	LevelNone Level = iota
	LevelMetadata
	LevelRequest
	LevelRequestResponse
)

func (l Level) String() string {
	return [...]string{"None", "Metadata", "Request", "RequestResponse"}[l]
}

func levelOf(l auditinternal.Level) Level {
	switch l {
	case auditinternal.LevelMetadata:
		return LevelMetadata
	case auditinternal.LevelRequest:
		return LevelRequest
	case auditinternal.LevelRequestResponse:
		return LevelRequestResponse
	}
	return LevelNone
}

// Decision is how a request is audited.
type Decision struct {
	Level Level
	// Stages are the stages an event is written at (ResponseComplete,
	// Panic, ResponseStarted, RequestReceived) after omissions.
	Stages []string
}

// Records reports whether an event with at least level l reaches the log
// once the request has completed.
func (d Decision) Records(l Level) bool {
	return d.Level >= l && slices.Contains(d.Stages, string(auditinternal.StageResponseComplete))
}

// Evaluate returns the level and stages the policy gives r.
func (p *AuditPolicy) Evaluate(r AuditRequest) Decision {
	attrs := authorizer.AttributesRecord{
		User:            &user.DefaultInfo{Name: r.User, Groups: r.Groups},
		Verb:            r.Verb,
		Namespace:       r.Namespace,
		APIGroup:        r.Group,
		Resource:        r.Resource,
		Subresource:     r.Subresource,
		ResourceRequest: r.Path == "",
		Path:            r.Path,
	}
	cfg := p.evaluator.EvaluatePolicyRule(attrs)
	d := Decision{Level: levelOf(cfg.Level)}
	for _, s := range []auditinternal.Stage{auditinternal.StageRequestReceived, auditinternal.StageResponseStarted, auditinternal.StageResponseComplete, auditinternal.StagePanic} {
		if !slices.Contains(cfg.OmitStages, s) {
			d.Stages = append(d.Stages, string(s))
		}
	}
	return d
}

// OmitsRequestReceived reports whether the policy (globally) omits the
// RequestReceived stage, which otherwise doubles every event.
func (p *AuditPolicy) OmitsRequestReceived() bool {
	return slices.Contains(p.policy.OmitStages, auditinternal.StageRequestReceived)
}

package observability

import (
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
)

const head = "apiVersion: audit.k8s.io/v1\nkind: Policy\n"

func TestAuditPolicyChecks(t *testing.T) {
	cs, err := Checks()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		policy string
		want   map[string]string // check -> words its message must hold
	}{
		{"hardened", head + "omitStages: [RequestReceived]\nrules:\n- level: Metadata\n  resources: [{group: '', resources: [secrets, configmaps]}, {group: authentication.k8s.io, resources: [tokenreviews]}]\n- level: Request\n  verbs: [create]\n  resources: [{group: '', resources: [pods]}]\n- level: Metadata\n", nil},
		{"records nothing", head + "omitStages: [RequestReceived]\nrules:\n- level: None\n", map[string]string{
			"audit-policy-records-nothing": "level None", "audit-policy-coverage": "exec into pods"}},
		{"everything with bodies", head + "rules:\n- level: RequestResponse\n", map[string]string{
			"audit-policy-logs-secret-data": "secrets are logged with their data", "audit-policy-request-received": "logged twice"}},
		{"RBAC and anonymous dropped", head + "omitStages: [RequestReceived]\nrules:\n- level: None\n  resources: [{group: rbac.authorization.k8s.io}]\n- level: None\n  userGroups: [system:unauthenticated]\n- level: Metadata\n  resources: [{group: '', resources: [secrets, configmaps]}, {group: authentication.k8s.io, resources: [tokenreviews]}]\n- level: Request\n", map[string]string{
			"audit-policy-coverage": "RBAC changes"}},
		{"privileged pods need the body", head + "omitStages: [RequestReceived]\nrules:\n- level: Metadata\n", map[string]string{
			"audit-policy-coverage": "privileged pods (the pod spec is needed) need level Request"}},
		{"only the complete stage omitted", head + "rules:\n- level: Metadata\n  omitStages: [ResponseComplete]\n", map[string]string{
			"audit-policy-coverage": "exec into pods"}},
		{"not an audit policy", "apiVersion: policy.example.com/v1\nkind: Policy\nmetadata: {name: p}\nrules: []\n", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			got := map[string][]string{}
			for _, f := range checktest.Run(t, cs, check.Options{}, tc.policy) {
				got[f.Check] = append(got[f.Check], f.Message)
			}
			for id, words := range tc.want {
				if !strings.Contains(strings.Join(got[id], "\n"), words) {
					t.Errorf("%s: want %q in %q", id, words, got[id])
				}
			}
			for id, msgs := range got {
				if _, ok := tc.want[id]; !ok && id != "audit-policy-request-received" && id != "audit-policy-coverage" {
					t.Errorf("unexpected %s: %q", id, msgs)
				}
				if tc.want == nil {
					t.Errorf("want no finding, got %s: %q", id, msgs)
				}
			}
		})
	}
	// The anonymous case names the anonymous detection as well.
	for _, f := range checktest.Run(t, cs, check.Options{}, cases[3].policy) {
		if f.Check == "audit-policy-coverage" && strings.Contains(f.Message, "anonymous requests") {
			return
		}
	}
	t.Error("dropping system:unauthenticated did not report the anonymous detection")
}

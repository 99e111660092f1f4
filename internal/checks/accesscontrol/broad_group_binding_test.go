package accesscontrol

import (
	"strings"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/check/checktest"
)

func findings(t *testing.T, manifest string) []check.Finding {
	t.Helper()
	return checktest.Run(t, []*check.Check{broadGroupBinding()}, check.Options{}, manifest)
}

func TestBroadGroupBinding(t *testing.T) {
	binding := `apiVersion: rbac.authorization.k8s.io/v1
kind: ClusterRoleBinding
metadata: {name: b}
roleRef: {apiGroup: rbac.authorization.k8s.io, kind: ClusterRole, name: ROLE}
subjects:
- {kind: User, name: alice}
- {kind: Group, name: GROUP}
`
	cases := []struct {
		role, group string
		want        int
	}{
		{"view", "system:authenticated", 1},
		{"cluster-admin", "system:unauthenticated", 1},
		{"system:discovery", "system:authenticated", 0},
		{"system:public-info-viewer", "system:unauthenticated", 0},
		{"view", "developers", 0},
	}
	for _, tc := range cases {
		got := findings(t, strings.NewReplacer("ROLE", tc.role, "GROUP", tc.group).Replace(binding))
		if len(got) != tc.want {
			t.Errorf("%s to %s: %d findings, want %d", tc.role, tc.group, len(got), tc.want)
		}
		if tc.want == 1 && (got[0].Path != "subjects[1]" || !strings.Contains(got[0].Message, tc.group)) {
			t.Errorf("finding %+v", got[0])
		}
	}
	rb := strings.NewReplacer("ClusterRoleBinding", "RoleBinding", "metadata: {name: b}", "metadata: {name: b, namespace: shop}", "ROLE", "edit", "GROUP", "system:authenticated").Replace(binding)
	if got := findings(t, rb); len(got) != 1 || !strings.Contains(got[0].Message, "in namespace shop") {
		t.Errorf("RoleBinding: %+v", got)
	}
}

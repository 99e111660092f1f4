package apiserver

import (
	"strings"

	"github.com/kubeharden/kubeharden/internal/check"
)

func anonymousAccess() *check.Check {
	return &check.Check{
		Metadata: check.Metadata{
			ID: "anonymous-access", Title: "Anonymous requests accepted", Severity: check.Medium, Category: check.APIServer,
			Frameworks:  check.Frameworks{CIS: []string{"1.2.1"}, NSA: []string{"Disable anonymous login"}, MITRE: []string{"T1078"}},
			Description: "The API server accepts requests without credentials as system:anonymous. With anonymous authentication on, any RBAC grant to system:anonymous or system:unauthenticated is open to the network. Live scans ask the server itself: an unauthenticated request, and SubjectAccessReviews for system:anonymous. Severity is critical when anonymous callers may read or change objects.",
			Remediation: "Start kube-apiserver with --anonymous-auth=false (or, from 1.32, an AuthenticationConfiguration that allows anonymous only on /healthz, /livez and /readyz), and remove RBAC bindings to system:anonymous and system:unauthenticated.",
		},
		Cluster: func(env *check.Env) []check.Result {
			f := env.Cluster
			var out []check.Result
			if len(f.AnonymousAllowed) > 0 {
				out = append(out, check.Result{
					Severity: check.Critical,
					Path:     "rbac",
					Message:  "system:anonymous may " + strings.Join(f.AnonymousAllowed, ", ") + " (SubjectAccessReview)",
				})
			}
			if f.AnonymousAuthenticated {
				out = append(out, check.Result{
					Path:    "authentication",
					Message: "the API server at " + f.Host + " answered an unauthenticated request as system:anonymous instead of refusing it (401)",
				})
			}
			return out
		},
	}
}

package source

import (
	"context"
	"fmt"
	"net/http"

	authorizationv1 "k8s.io/api/authorization/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
)

// AnonymousAccess is what the API server grants callers without
// credentials.
type AnonymousAccess struct {
	// Authenticated is true when an unauthenticated request is accepted as
	// system:anonymous (the server did not answer 401).
	Authenticated bool
	// Allowed lists the sensitive actions RBAC grants system:anonymous,
	// from SubjectAccessReviews. Nil when the caller may not create
	// SubjectAccessReviews.
	Allowed []string
	// Checked is false when the SubjectAccessReviews could not be made.
	Checked bool
}

// anonymousProbes are actions no anonymous caller should have.
var anonymousProbes = []authorizationv1.ResourceAttributes{
	{Verb: "list", Resource: "pods"},
	{Verb: "create", Resource: "pods"},
	{Verb: "get", Resource: "secrets"},
	{Verb: "list", Resource: "namespaces"},
	{Verb: "list", Resource: "nodes"},
	{Verb: "list", Resource: "configmaps"},
	{Verb: "create", Group: "apps", Resource: "deployments"},
	{Verb: "list", Group: "rbac.authorization.k8s.io", Resource: "clusterroles"},
}

// ProbeAnonymous asks the API server, read-only, whether it authenticates
// callers without credentials and what RBAC lets them do.
func ProbeAnonymous(ctx context.Context, o ClusterOptions) (AnonymousAccess, error) {
	cfg, err := RESTConfig(o)
	if err != nil {
		return AnonymousAccess{}, err
	}
	var out AnonymousAccess
	anon := rest.AnonymousClientConfig(cfg)
	client, err := rest.HTTPClientFor(anon)
	if err != nil {
		return out, fmt.Errorf("anonymous client: %w", err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.Host+"/api", nil)
	if err != nil {
		return out, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return out, fmt.Errorf("unauthenticated request to %s: %w", cfg.Host, err)
	}
	resp.Body.Close()
	out.Authenticated = resp.StatusCode != http.StatusUnauthorized

	cs, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return out, err
	}
	for _, attrs := range anonymousProbes {
		sar := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
			User:               "system:anonymous",
			Groups:             []string{"system:unauthenticated"},
			ResourceAttributes: &attrs,
		}}
		res, err := cs.AuthorizationV1().SubjectAccessReviews().Create(ctx, sar, metav1.CreateOptions{})
		if err != nil {
			return out, nil // the caller may not ask: leave Checked false
		}
		if res.Status.Allowed {
			what := attrs.Verb + " " + attrs.Resource
			if attrs.Group != "" {
				what += "." + attrs.Group
			}
			out.Allowed = append(out.Allowed, what)
		}
	}
	out.Checked = true
	return out, nil
}

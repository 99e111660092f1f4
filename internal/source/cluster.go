package source

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/discovery"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"k8s.io/client-go/tools/pager"
)

// ClusterOptions selects what is read from a live cluster.
type ClusterOptions struct {
	// Kubeconfig and Context follow kubectl: KUBECONFIG and ~/.kube/config
	// when Kubeconfig is empty, the in-cluster service account when there
	// is no kubeconfig at all, and the current context unless Context is
	// set.
	Kubeconfig, Context string
	// Config, when set, is used instead of any kubeconfig (tests).
	Config *rest.Config
	// Namespace limits namespaced resources to one namespace ("" = all).
	Namespace string
	// ExcludeNamespaces are skipped.
	ExcludeNamespaces []string
	// Kinds limits the resources listed, by kind or resource name
	// (case-insensitive: "Deployment", "deployments", "deploy" is not
	// understood).
	Kinds []string
	// QPS and Burst limit the request rate (client-go's defaults when 0).
	QPS   float32
	Burst int
	// Timeout bounds the whole load (0 = none).
	Timeout time.Duration
	// PageSize is the LIST limit; 0 means 500.
	PageSize int64
	// Workers is the number of LISTs in flight; 0 means 8.
	Workers int
	// Progress, when set, is called after each resource is listed.
	Progress func(listed, total, objects int)
	// Sink, when set, receives every object (from several goroutines, one
	// call at a time) instead of Result.Objects, so a snapshot can be
	// written without holding the cluster in memory.
	Sink func(*Object) error
}

// ClusterInfo describes the cluster the objects came from, and what the
// server itself said about anonymous access.
type ClusterInfo struct {
	Host       string
	GitVersion string
	Anonymous  AnonymousAccess
}

// skippedResources are not listed unless asked for by --kinds: events are
// numerous, short-lived and carry no configuration to harden.
var skippedResources = map[schema.GroupResource]bool{
	{Group: "", Resource: "events"}:              true,
	{Group: "events.k8s.io", Resource: "events"}: true,
}

// RESTConfig loads a client configuration the way kubectl does.
func RESTConfig(o ClusterOptions) (*rest.Config, error) {
	if o.Config != nil {
		return rest.CopyConfig(o.Config), nil
	}
	rules := clientcmd.NewDefaultClientConfigLoadingRules()
	rules.ExplicitPath = o.Kubeconfig
	overrides := &clientcmd.ConfigOverrides{CurrentContext: o.Context}
	cfg, err := clientcmd.NewNonInteractiveDeferredLoadingClientConfig(rules, overrides).ClientConfig()
	if err != nil {
		return nil, fmt.Errorf("loading kubeconfig: %w", err)
	}
	return cfg, nil
}

// ProbeCluster connects and returns the server's address and version.
func ProbeCluster(o ClusterOptions) (ClusterInfo, error) {
	cfg, err := RESTConfig(o)
	if err != nil {
		return ClusterInfo{}, err
	}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return ClusterInfo{}, fmt.Errorf("creating discovery client: %w", err)
	}
	v, err := disco.ServerVersion()
	if err != nil {
		return ClusterInfo{Host: cfg.Host}, fmt.Errorf("contacting %s: %w", cfg.Host, err)
	}
	info := ClusterInfo{Host: cfg.Host, GitVersion: v.GitVersion}
	info.Anonymous, err = ProbeAnonymous(context.Background(), o)
	return info, err
}

// LoadCluster lists every listable resource of the cluster (custom
// resources included), in parallel and in pages. A resource the caller may
// not list is reported once in Result.Errors and the rest is still read.
// Secret values never leave this function (see Redact).
func LoadCluster(ctx context.Context, o ClusterOptions) (*Result, ClusterInfo, error) {
	cfg, err := RESTConfig(o)
	if err != nil {
		return nil, ClusterInfo{}, err
	}
	if o.QPS > 0 {
		cfg.QPS = o.QPS
	}
	if o.Burst > 0 {
		cfg.Burst = o.Burst
	}
	if o.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, o.Timeout)
		defer cancel()
	}
	info := ClusterInfo{Host: cfg.Host}
	disco, err := discovery.NewDiscoveryClientForConfig(cfg)
	if err != nil {
		return nil, info, fmt.Errorf("creating discovery client: %w", err)
	}
	if v, err := disco.ServerVersion(); err == nil {
		info.GitVersion = v.GitVersion
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, info, fmt.Errorf("creating dynamic client: %w", err)
	}
	resources, discoErr := listableResources(disco, o.Kinds)
	if len(resources) == 0 && discoErr != nil {
		return nil, info, fmt.Errorf("discovering resources on %s: %w", cfg.Host, discoErr)
	}

	res := &Result{}
	if anon, err := ProbeAnonymous(ctx, o); err != nil {
		res.Errors = append(res.Errors, &Error{Source: "cluster " + cfg.Host, Err: fmt.Errorf("probing anonymous access: %w", err)})
	} else {
		info.Anonymous = anon
	}
	if discoErr != nil {
		res.Errors = append(res.Errors, &Error{Source: "cluster " + cfg.Host, Err: fmt.Errorf("discovery incomplete: %w", discoErr)})
	}
	pageSize := o.PageSize
	if pageSize <= 0 {
		pageSize = 500
	}
	workers := o.Workers
	if workers <= 0 {
		workers = 8
	}
	excluded := map[string]bool{}
	for _, ns := range o.ExcludeNamespaces {
		excluded[ns] = true
	}
	var sink func(*Object) error
	if o.Sink != nil {
		var mu sync.Mutex
		sink = func(obj *Object) error {
			mu.Lock()
			defer mu.Unlock()
			return o.Sink(obj)
		}
	}
	lists := make([]listResult, len(resources))
	var (
		next, done, objects atomic.Int64
		wg                  sync.WaitGroup
	)
	for range min(workers, len(resources)) {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				i := int(next.Add(1) - 1)
				if i >= len(resources) || ctx.Err() != nil {
					return
				}
				lists[i] = listResource(ctx, dyn, resources[i], o.Namespace, excluded, pageSize, sink)
				n := objects.Add(int64(len(lists[i].objects)))
				d := done.Add(1)
				if o.Progress != nil {
					o.Progress(int(d), len(resources), int(n))
				}
			}
		}()
	}
	wg.Wait()
	for _, l := range lists {
		res.Objects = append(res.Objects, l.objects...)
		if l.err != nil {
			res.Errors = append(res.Errors, l.err)
		}
	}
	if err := ctx.Err(); err != nil {
		res.Errors = append(res.Errors, &Error{Source: "cluster " + cfg.Host, Err: fmt.Errorf("listing stopped: %w", err)})
	}
	return res, info, nil
}

type resource struct {
	gvr        schema.GroupVersionResource
	kind       string
	namespaced bool
}

// listableResources returns the preferred version of every resource that
// supports list, filtered by kinds.
func listableResources(disco discovery.DiscoveryInterface, kinds []string) ([]resource, error) {
	lists, err := disco.ServerPreferredResources()
	want := map[string]bool{}
	for _, k := range kinds {
		want[strings.ToLower(k)] = true
	}
	var out []resource
	for _, l := range lists {
		gv, perr := schema.ParseGroupVersion(l.GroupVersion)
		if perr != nil {
			continue
		}
		for _, r := range l.APIResources {
			if strings.Contains(r.Name, "/") || !slices.Contains(r.Verbs, "list") {
				continue
			}
			gr := schema.GroupResource{Group: gv.Group, Resource: r.Name}
			if len(want) > 0 {
				if !want[strings.ToLower(r.Kind)] && !want[r.Name] && !want[r.SingularName] {
					continue
				}
			} else if skippedResources[gr] {
				continue
			}
			out = append(out, resource{gvr: gv.WithResource(r.Name), kind: r.Kind, namespaced: r.Namespaced})
		}
	}
	// Stable order: core first, then by group and resource.
	slices.SortFunc(out, func(a, b resource) int {
		if c := strings.Compare(a.gvr.Group, b.gvr.Group); c != 0 {
			return c
		}
		return strings.Compare(a.gvr.Resource, b.gvr.Resource)
	})
	return out, err
}

type listResult struct {
	objects []*Object
	err     *Error
}

func listResource(ctx context.Context, dyn dynamic.Interface, r resource, namespace string, excluded map[string]bool, pageSize int64, sink func(*Object) error) listResult {
	var client dynamic.ResourceInterface = dyn.Resource(r.gvr)
	if r.namespaced && namespace != "" {
		client = dyn.Resource(r.gvr).Namespace(namespace)
	} else if !r.namespaced && namespace != "" {
		return listResult{} // -n limits the scan to one namespace's objects
	}
	p := pager.New(func(ctx context.Context, opts metav1.ListOptions) (runtime.Object, error) {
		return client.List(ctx, opts)
	})
	p.PageSize = pageSize
	var out listResult
	err := p.EachListItem(ctx, metav1.ListOptions{}, func(obj runtime.Object) error {
		u, ok := obj.(*unstructured.Unstructured)
		if !ok {
			return nil
		}
		if excluded[u.GetNamespace()] {
			return nil
		}
		if u.GetAPIVersion() == "" {
			u.SetAPIVersion(r.gvr.GroupVersion().String())
		}
		if u.GetKind() == "" {
			u.SetKind(r.kind)
		}
		body := u.Object
		Redact(body)
		loaded := NewObject(body, Position{}, -1)
		if sink != nil {
			return sink(loaded)
		}
		out.objects = append(out.objects, loaded)
		return nil
	})
	if err != nil {
		where := "cluster-wide"
		if namespace != "" && r.namespaced {
			where = "in namespace " + namespace
		}
		msg := err
		if apierrors.IsForbidden(err) {
			msg = fmt.Errorf("forbidden: list %s %s", r.gvr.GroupResource(), where)
		}
		out.err = &Error{Source: "cluster " + r.gvr.GroupResource().String(), Err: msg}
		if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) {
			out.err.Err = fmt.Errorf("list %s %s: %w", r.gvr.GroupResource(), where, err)
		}
	}
	return out
}

// Redact removes what must never be stored or shown: managedFields of
// every object, and the values of a Secret (data, stringData, and the
// last-applied-configuration annotation that repeats them). Keys are kept,
// so checks can still reason about which keys exist.
func Redact(body map[string]any) {
	md, _ := body["metadata"].(map[string]any)
	delete(md, "managedFields")
	kind, _ := body["kind"].(string)
	apiVersion, _ := body["apiVersion"].(string)
	if kind != "Secret" || apiVersion != "v1" {
		return
	}
	for _, field := range []string{"data", "stringData"} {
		if m, ok := body[field].(map[string]any); ok {
			for k := range m {
				m[k] = ""
			}
		}
	}
	if ann, ok := md["annotations"].(map[string]any); ok {
		delete(ann, "kubectl.kubernetes.io/last-applied-configuration")
	}
}

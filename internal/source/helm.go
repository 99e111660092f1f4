package source

import (
	"context"
	"fmt"
	"path"
	"path/filepath"
	"sort"
	"strings"

	"helm.sh/helm/v3/pkg/chart"
	"helm.sh/helm/v3/pkg/chart/loader"
	"helm.sh/helm/v3/pkg/chartutil"
	"helm.sh/helm/v3/pkg/engine"
	"helm.sh/helm/v3/pkg/strvals"
)

// HelmOptions are the helm-template settings applied to every chart.
type HelmOptions struct {
	// ValuesFiles are merged in order, like helm's --values.
	ValuesFiles []string
	// Set are key=value overrides applied last, like helm's --set.
	Set []string
	// ReleaseName defaults to "release".
	ReleaseName string
	// Namespace defaults to "default".
	Namespace string
	// KubeVersion is the version the chart is rendered for ("" for helm's
	// default).
	KubeVersion string
}

// renderHelm renders a chart directory or archive in-process with the Helm
// SDK, as `helm template` would, and parses every rendered manifest. Each
// object's file is the template it came from (for example
// chart/templates/deployment.yaml) and its line is the line in that
// template's rendered output.
func renderHelm(ctx context.Context, opts Options, chartPath string) taskResult {
	_ = ctx // rendering is CPU-only and bounded by the chart's size
	ch, err := loader.Load(chartPath)
	if err != nil {
		return failed(chartPath, fmt.Errorf("loading Helm chart: %w", err))
	}
	vals, err := helmValues(opts.Helm)
	if err != nil {
		return failed(chartPath, err)
	}
	if err := chartutil.ProcessDependenciesWithMerge(ch, vals); err != nil {
		return failed(chartPath, fmt.Errorf("processing chart dependencies: %w", err))
	}
	release := chartutil.ReleaseOptions{
		Name:      defaultString(opts.Helm.ReleaseName, "release"),
		Namespace: defaultString(opts.Helm.Namespace, "default"),
		Revision:  1,
		IsInstall: true,
	}
	caps := chartutil.DefaultCapabilities.Copy()
	if opts.Helm.KubeVersion != "" {
		kv, err := chartutil.ParseKubeVersion(opts.Helm.KubeVersion)
		if err != nil {
			return failed(chartPath, fmt.Errorf("--kube-version: %w", err))
		}
		caps.KubeVersion = *kv
	}
	renderVals, err := chartutil.ToRenderValues(ch, vals, release, caps)
	if err != nil {
		return failed(chartPath, fmt.Errorf("computing chart values: %w", err))
	}
	rendered, err := engine.Render(ch, renderVals)
	if err != nil {
		return failed(chartPath, fmt.Errorf("rendering Helm chart: %w", err))
	}

	names := make([]string, 0, len(rendered))
	for name := range rendered {
		names = append(names, name)
	}
	sort.Strings(names)
	sources := templateSources(ch)
	var out taskResult
	var total int64
	for _, name := range names {
		content := rendered[name]
		base := path.Base(name)
		if strings.HasPrefix(base, "_") || strings.EqualFold(base, "NOTES.txt") || strings.TrimSpace(content) == "" {
			continue
		}
		total += int64(len(content))
		if total > opts.MaxFileSize {
			out.errors = append(out.errors, &Error{Source: chartPath, Err: sizeError(-1, opts.MaxFileSize)})
			break
		}
		r := parse(templateFile(chartPath, ch.Name(), name), []byte(content), false)
		indexTemplates(r.objects, func(string) []byte { return sources[name] })
		out.objects = append(out.objects, r.objects...)
		out.errors = append(out.errors, r.errors...)
	}
	return out
}

// templateSources returns the text of every template of ch and its
// subcharts by the name the Helm engine renders it under
// ("mychart/templates/x.yaml", "mychart/charts/sub/templates/y.yaml"): the
// chart as loaded, so a packaged chart's templates have field lines as a
// directory's do.
func templateSources(ch *chart.Chart) map[string][]byte {
	out := map[string][]byte{}
	var walk func(c *chart.Chart)
	walk = func(c *chart.Chart) {
		for _, t := range c.Templates {
			out[path.Join(c.ChartFullPath(), t.Name)] = t.Data
		}
		for _, dep := range c.Dependencies() {
			walk(dep)
		}
	}
	walk(ch)
	return out
}

// templateFile maps a rendered template name ("mychart/templates/x.yaml",
// or "mychart/charts/sub/templates/y.yaml") to a path under the chart the
// user named.
func templateFile(chartPath, chartName, name string) string {
	rel := strings.TrimPrefix(name, chartName+"/")
	if isChartArchive(chartPath) {
		return chartPath + "#" + rel
	}
	return filepath.Join(chartPath, filepath.FromSlash(rel))
}

func helmValues(o HelmOptions) (map[string]any, error) {
	vals := map[string]any{}
	for _, f := range o.ValuesFiles {
		v, err := chartutil.ReadValuesFile(f)
		if err != nil {
			return nil, fmt.Errorf("reading values file %s: %w", f, err)
		}
		vals = mergeValues(vals, v)
	}
	for _, s := range o.Set {
		if err := strvals.ParseInto(s, vals); err != nil {
			return nil, fmt.Errorf("parsing --set %q: %w", s, err)
		}
	}
	return vals, nil
}

// mergeValues overlays b on a recursively, as helm does for several
// --values files.
func mergeValues(a, b map[string]any) map[string]any {
	out := make(map[string]any, len(a))
	for k, v := range a {
		out[k] = v
	}
	for k, v := range b {
		if vm, ok := v.(map[string]any); ok {
			if am, ok := out[k].(map[string]any); ok {
				out[k] = mergeValues(am, vm)
				continue
			}
		}
		out[k] = v
	}
	return out
}

func defaultString(s, def string) string {
	if s == "" {
		return def
	}
	return s
}

package cli

import (
	"fmt"
	"log/slog"
	"slices"

	"github.com/spf13/cobra"

	"github.com/kubeharden/kubeharden/internal/rbac"
	"github.com/kubeharden/kubeharden/internal/source"
)

// rbacKinds are what the rbac commands read from a live cluster: the RBAC
// objects, the identities, and what the escalation graph needs (token
// Secrets, workloads' service accounts, CRDs for resource names).
var rbacKinds = []string{
	"Role", "ClusterRole", "RoleBinding", "ClusterRoleBinding", "ServiceAccount", "Namespace", "Secret",
	"Pod", "Deployment", "StatefulSet", "DaemonSet", "ReplicaSet", "ReplicationController", "Job", "CronJob",
	"CustomResourceDefinition",
}

func newRBACCommand(stdio IO, g *globalFlags) *cobra.Command {
	cmd := &cobra.Command{
		Use:   "rbac",
		Short: "Who can do what: RBAC queries and escalation paths, offline or against a cluster",
		Long: "The rbac commands evaluate Roles, ClusterRoles (with aggregation), RoleBindings and\n" +
			"ClusterRoleBindings with the API server's own semantics. They read objects from\n" +
			"-f/--filename (files, directories, Helm charts, Kustomize), --snapshot or --cluster; the\n" +
			"bootstrap ClusterRoles (cluster-admin, admin, edit, view, system:*) are known without a\n" +
			"cluster. Subjects are written user:NAME, group:NAME or serviceaccount:NAMESPACE:NAME.",
	}
	cmd.AddCommand(newWhoCanCommand(stdio, g), newCanCommand(stdio, g), newPathsCommand(stdio, g))
	return cmd
}

// loadWorld reads the inputs and builds the RBAC world, logging objects
// that cannot be evaluated.
func loadWorld(cmd *cobra.Command, stdio IO, log *slog.Logger, in *inputFlags) (*rbac.World, *source.Result, error) {
	loaded, err := in.load(cmd.Context(), stdio, log, rbacKinds)
	if err != nil {
		return nil, nil, err
	}
	w := rbac.Build(loaded.Objects, rbac.Options{})
	for _, p := range w.Problems {
		src := ""
		if p.Object != nil {
			src = p.Object.Source.String() + ": "
		}
		fmt.Fprintf(stdio.Err, "warning: %s%s\n", src, p.Message)
	}
	log.Debug("rbac world", "objects", len(loaded.Objects), "bootstrap", rbac.BootstrapVersion())
	return w, loaded, nil
}

func checkFormat(format string, allowed ...string) error {
	if !slices.Contains(allowed, format) {
		return usageError("-o %q: want one of %v", format, allowed)
	}
	return nil
}

func newWhoCanCommand(stdio IO, g *globalFlags) *cobra.Command {
	var in inputFlags
	var namespace, output string
	var allNamespaces bool
	cmd := &cobra.Command{
		Use:   "who-can VERB RESOURCE[.GROUP][/SUBRESOURCE] [NAME] | who-can VERB /NON-RESOURCE-URL",
		Short: "List the subjects allowed a request, each with the binding, role and rule that allow it",
		Long: "who-can lists every subject (user, group, service account) that may make the request,\n" +
			"with the binding → role → rule that grants it. -n asks about one namespace; without it\n" +
			"(or with -A) RoleBindings in every namespace count. Resources are named as kubectl names\n" +
			"them (plural, singular or short name; RESOURCE.GROUP to be explicit). The group\n" +
			"system:masters is always listed: the API server allows its members everything.",
		Example: "  kubeharden rbac who-can get secrets -n payments -f ./manifests\n" +
			"  kubeharden rbac who-can create pods/exec -A --cluster\n" +
			"  kubeharden rbac who-can get /metrics --snapshot prod.json.gz",
		Args: cobra.RangeArgs(2, 3),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "table", "json"); err != nil {
				return err
			}
			if namespace != "" && allNamespaces {
				return usageError("-n and -A exclude each other")
			}
			log := g.logger(stdio.Err)
			w, loaded, err := loadWorld(cmd, stdio, log, &in)
			if err != nil {
				return err
			}
			reqs, err := w.ParseResource(args[1])
			if err != nil {
				return usageError("%v", err)
			}
			report := rbac.WhoCanReport{AllNamespaces: namespace == ""}
			merged := map[rbac.Subject]*rbac.Answer{}
			var order []rbac.Subject
			for _, req := range reqs {
				req.Verb = args[0]
				if len(args) == 3 {
					req.Name = args[2]
				}
				if req.IsResource() && w.Resources().Namespaced(req.APIGroup, req.Resource) {
					req.Namespace = namespace
				} else {
					report.AllNamespaces = false
				}
				report.Requests = append(report.Requests, req)
				for _, a := range w.WhoCan(req, report.AllNamespaces) {
					if m := merged[a.Subject]; m != nil {
						m.Grants = append(m.Grants, a.Grants...)
						continue
					}
					a := a
					merged[a.Subject] = &a
					order = append(order, a.Subject)
				}
			}
			for _, s := range order {
				report.Subjects = append(report.Subjects, *merged[s])
			}
			slices.SortFunc(report.Subjects, func(a, b rbac.Answer) int { return rbac.CompareSubjects(a.Subject, b.Subject) })
			if err := rbac.WriteWhoCan(stdio.Out, output, report); err != nil {
				return err
			}
			return inputErrors(loaded)
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "ask about this namespace (default: any namespace)")
	cmd.Flags().BoolVarP(&allNamespaces, "all-namespaces", "A", false, "count RoleBindings in every namespace (the default without -n)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newCanCommand(stdio IO, g *globalFlags) *cobra.Command {
	var in inputFlags
	var namespace, output string
	var groups []string
	cmd := &cobra.Command{
		Use:   "can SUBJECT",
		Short: "Show what one subject may do: a resource × verb matrix and the rules behind it",
		Long: "can shows, like rakkess, every resource the subject may act on with the verbs allowed,\n" +
			"then each effective rule with the binding and role it comes from. Without -n the\n" +
			"matrix is cluster-wide (ClusterRoleBindings only); with -n it is one namespace. A user\n" +
			"is taken as authenticated (in system:authenticated) and a service account with its\n" +
			"token's groups; --group adds groups, as kubectl's --as-group does.",
		Example: "  kubeharden rbac can serviceaccount:ci:runner -n ci -f ./manifests\n" +
			"  kubeharden rbac can user:alice --group developers --cluster",
		Args: cobra.ExactArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "table", "json"); err != nil {
				return err
			}
			subj, err := rbac.ParseSubject(args[0])
			if err != nil {
				return usageError("%v", err)
			}
			w, loaded, err := loadWorld(cmd, stdio, g.logger(stdio.Err), &in)
			if err != nil {
				return err
			}
			if err := rbac.WriteCan(stdio.Out, output, w.Can(subj, rbac.IdentityOf(subj, groups...), namespace)); err != nil {
				return err
			}
			return inputErrors(loaded)
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().StringVarP(&namespace, "namespace", "n", "", "show permissions in this namespace (default: cluster-wide)")
	cmd.Flags().StringSliceVar(&groups, "group", nil, "extra groups the subject is in (repeatable)")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table or json")
	return cmd
}

func newPathsCommand(stdio IO, g *globalFlags) *cobra.Command {
	var in inputFlags
	var output string
	var all, includeSystem bool
	cmd := &cobra.Command{
		Use:   "paths SUBJECT | paths --all",
		Short: "Show how subjects can escalate to cluster-admin-equivalent power, step by step",
		Long: "paths finds the shortest ways a subject can gain cluster-admin-equivalent power, through\n" +
			"the techniques documented in docs/rbac.md (create pods → any service account of the\n" +
			"namespace, read token Secrets, TokenRequest, impersonate, bind/escalate, nodes/proxy,\n" +
			"mutating webhooks, client-certificate approval, …), one path per first step. --all lists\n" +
			"every subject that can (Kubernetes' own system: subjects and kube-system service\n" +
			"accounts only with --include-system).",
		Example: "  kubeharden rbac paths serviceaccount:ci:runner -f ./manifests\n" +
			"  kubeharden rbac paths --all --cluster -o dot | dot -Tsvg > paths.svg",
		Args: cobra.MaximumNArgs(1),
		RunE: func(cmd *cobra.Command, args []string) error {
			if err := checkFormat(output, "table", "json", "dot", "mermaid"); err != nil {
				return err
			}
			if all == (len(args) == 1) {
				return usageError("name one SUBJECT or use --all")
			}
			var subj rbac.Subject
			if !all {
				var err error
				if subj, err = rbac.ParseSubject(args[0]); err != nil {
					return usageError("%v", err)
				}
			}
			w, loaded, err := loadWorld(cmd, stdio, g.logger(stdio.Err), &in)
			if err != nil {
				return err
			}
			graph := w.Escalation(loaded.Objects)
			var report rbac.PathsReport
			if all {
				for _, s := range graph.Subjects() {
					if s.IsSystem() && !includeSystem {
						continue
					}
					if paths := graph.Paths(s); len(paths) > 0 {
						report.Subjects = append(report.Subjects, rbac.SubjectPaths{Subject: s, Paths: paths})
					}
				}
			} else {
				report.Subjects = []rbac.SubjectPaths{{Subject: subj, Paths: graph.Paths(subj)}}
			}
			if err := rbac.WritePaths(stdio.Out, output, report); err != nil {
				return err
			}
			return inputErrors(loaded)
		},
	}
	in.register(cmd.Flags())
	cmd.Flags().BoolVar(&all, "all", false, "every subject that can escalate")
	cmd.Flags().BoolVar(&includeSystem, "include-system", false, "with --all, include system: users and groups and kube-system service accounts")
	cmd.Flags().StringVarP(&output, "output", "o", "table", "output format: table, json, dot or mermaid")
	return cmd
}

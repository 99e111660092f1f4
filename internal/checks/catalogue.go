// Package checks assembles the whole catalogue from its categories.
package checks

import (
	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/checks/accesscontrol"
	"github.com/kubeharden/kubeharden/internal/checks/apiserver"
	"github.com/kubeharden/kubeharden/internal/checks/etcd"
	"github.com/kubeharden/kubeharden/internal/checks/network"
	"github.com/kubeharden/kubeharden/internal/checks/node"
	"github.com/kubeharden/kubeharden/internal/checks/observability"
	"github.com/kubeharden/kubeharden/internal/checks/workload"
)

// Registry builds and validates the full catalogue.
func Registry() (*check.Registry, error) {
	var all []*check.Check
	for _, part := range []func() ([]*check.Check, error){workload.Checks, accesscontrol.Checks, network.Checks, apiserver.Checks, etcd.Checks, node.Checks, observability.Checks} {
		cs, err := part()
		if err != nil {
			return nil, err
		}
		all = append(all, cs...)
	}
	return check.NewRegistry(all...)
}

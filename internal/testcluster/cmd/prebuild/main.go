// Command prebuild builds and caches the test control plane (kube-apiserver
// and etcd) so that the integration tests find it ready:
//
//	go run ./internal/testcluster/cmd/prebuild
package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"os/signal"

	"github.com/kubeharden/kubeharden/internal/testcluster"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	bins, err := testcluster.EnsureBinaries(ctx, slog.New(slog.NewTextHandler(os.Stderr, nil)))
	if err != nil {
		fmt.Fprintln(os.Stderr, "prebuild:", err)
		os.Exit(1)
	}
	fmt.Printf("kube-apiserver: %s\netcd: %s\n", bins.APIServer, bins.Etcd)
}

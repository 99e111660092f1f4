package apiserver

import (
	"github.com/kubeharden/kubeharden/internal/check"
	nc "github.com/kubeharden/kubeharden/internal/checks/nodecheck"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
)

// controlPlaneFlagChecks are the CIS sections 1.3 (controller manager) and
// 1.4 (scheduler) items.
func controlPlaneFlagChecks() []*check.Check {
	cm, sched := nodeconfig.ControllerManager, nodeconfig.Scheduler
	return []*check.Check{
		rule(cm, "controller-manager-profiling", "1.3.2", check.Low, "Controller manager profiling is enabled",
			"/debug/pprof on the controller manager exposes its internals; it is on by default.",
			"Set --profiling=false on kube-controller-manager.",
			nc.Equals("profiling", "false", "true")),
		rule(cm, "controller-manager-service-account-credentials", "1.3.3", check.Medium, "Controllers share the controller manager's credentials",
			"Without --use-service-account-credentials=true every controller acts with the controller manager's own, broad identity instead of a per-controller service account with only the permissions that controller needs.",
			"Set --use-service-account-credentials=true on kube-controller-manager.",
			nc.Equals("use-service-account-credentials", "true", "false")),
		rule(cm, "controller-manager-service-account-key", "1.3.4", check.Medium, "Controller manager cannot sign service account tokens",
			"--service-account-private-key-file is the key the token controller signs service account tokens with; without it token Secrets are not populated.",
			"Set --service-account-private-key-file to the private key whose public half the API server's --service-account-key-file names.",
			nc.Set("service-account-private-key-file")),
		rule(cm, "controller-manager-root-ca", "1.3.5", check.Low, "Service account tokens carry no root CA",
			"--root-ca-file is put into every service account token Secret and the kube-root-ca.crt ConfigMap, so pods can verify the API server's certificate.",
			"Set --root-ca-file to the cluster CA on kube-controller-manager.",
			nc.Set("root-ca-file")),
		rule(cm, "controller-manager-kubelet-server-cert-rotation", "1.3.6", check.Low, "Kubelet serving certificate rotation is disabled",
			"With the RotateKubeletServerCertificate feature gate off the controller manager does not approve the kubelets' serving certificate requests, so serving certificates are self-signed or never rotated.",
			"Remove RotateKubeletServerCertificate=false from --feature-gates.",
			featureGateNotFalse("RotateKubeletServerCertificate")),
		rule(cm, "controller-manager-bind-address", "1.3.7", check.Medium, "Controller manager listens on every interface",
			"The controller manager's metrics and health endpoints need not be reachable from the network; its default bind address is 0.0.0.0.",
			"Set --bind-address=127.0.0.1 on kube-controller-manager.",
			loopbackBind),
		rule(sched, "scheduler-profiling", "1.4.1", check.Low, "Scheduler profiling is enabled",
			"/debug/pprof on the scheduler exposes its internals; it is on by default.",
			"Set --profiling=false on kube-scheduler.",
			nc.Equals("profiling", "false", "true")),
		rule(sched, "scheduler-bind-address", "1.4.2", check.Medium, "Scheduler listens on every interface",
			"The scheduler's metrics and health endpoints need not be reachable from the network; its default bind address is 0.0.0.0.",
			"Set --bind-address=127.0.0.1 on kube-scheduler.",
			loopbackBind),
	}
}

func featureGateNotFalse(gate string) nc.Eval {
	return func(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
		if on, set := c.FeatureGate(gate); set && !on {
			f := c.Flag("feature-gates")
			return []nc.Violation{{Message: "--feature-gates sets " + gate + "=false", Path: f.Path, Line: f.Line}}
		}
		return nil
	}
}

func loopbackBind(_ *nodeconfig.Node, c *nodeconfig.Component) []nc.Violation {
	f := c.Flag("bind-address")
	if !f.Set {
		return []nc.Violation{{Message: "--bind-address is not set (default 0.0.0.0)"}}
	}
	switch f.Value {
	case "127.0.0.1", "::1", "localhost":
		return nil
	}
	return []nc.Violation{{Message: "--bind-address=" + f.Value + " is not a loopback address", Path: f.Path, Line: f.Line}}
}

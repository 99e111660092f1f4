package admission

import (
	"cmp"
	"encoding/json"
	"fmt"
	"os"
	"slices"
	"strings"
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/runtime"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/checks"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/nodeconfig"
	"github.com/kubeharden/kubeharden/internal/source"
)

// contextChecks read objects other than the one they report on (the
// ServiceAccount a pod runs as, the roles a binding names, the whole RBAC
// graph). A webhook sees one object, so for these it can only agree with
// a scan of that object alone.
var contextChecks = map[string]string{
	"automount-service-account-token":           "a ServiceAccount with automountServiceAccountToken: false in the same input silences it",
	"powerful-token-automounted":                "needs the RBAC bindings of the pod's service account",
	"cluster-admin-binding":                     "a binding of a custom role needs that role to know it grants everything",
	"rbac-escalation-path":                      "needs the whole RBAC graph",
	"rbac-binding-missing-service-account":      "needs the namespace's ServiceAccounts",
	"admission-webhook-exempts-all":             "needs the Namespaces the webhook's selector could match",
	"namespace-default-deny-missing":            "needs the namespace's NetworkPolicies (not run by the webhook)",
	"workload-not-isolated":                     "needs the NetworkPolicies that may select the workload (not run by the webhook)",
	"service-exposed-without-policy":            "needs the Service's pods and the policies that select them",
	"networkpolicy-selects-nothing":             "needs the namespace's workloads (not run by the webhook)",
	"etcd-shared-ca":                            "compares etcd's CA with the kube-apiserver's in the same input",
	"mesh-workload-not-meshed":                  "needs the workload's Namespace (its injection label)",
	"mesh-namespace-not-meshed":                 "needs the other Namespaces and the workloads (not run by the webhook)",
	"istio-workload-mtls-permissive":            "needs the workload's Namespace and the PeerAuthentications (not run by the webhook)",
	"networkpolicy-internet-ingress-to-private": "needs the workloads the policy selects and the Services, Ingresses and routes in front of them",
	"networkpolicy-bypassed-by-host-network":    "needs the NetworkPolicies that select the workload",
	"ingress-exposes-unisolated-workload":       "needs the Services behind the route and the policies that select their pods (not run by the webhook)",
}

// TestIdentityWithScan proves what CI allows the cluster allows: for every
// object of examples/ and the real-world corpus, the webhook's findings
// (denied, warned or audited) have the same check ids, severities,
// messages and fingerprints as `kubeharden scan` reports for that object —
// exactly, except for the context checks above, which must then agree
// with a scan of the object alone.
func TestIdentityWithScan(t *testing.T) {
	r := reviewer(t, "")
	reg, err := checks.Registry()
	if err != nil {
		t.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{})
	if err != nil {
		t.Fatal(err)
	}
	inputs := []string{"../../examples"}
	if _, err := os.Stat("../../../shared/corpus/real"); err == nil {
		inputs = append(inputs, "../../../shared/corpus/real")
	} else {
		t.Logf("../shared corpus not present; examples only")
	}
	for _, input := range inputs {
		loaded := source.Load(t.Context(), source.Options{MaxFileSize: 32 << 20}, input)
		objects, _ := inventory.CollapseOwned(loaded.Objects)
		env := check.NewEnv(inventory.Build(objects), check.Settings{})
		env.Node = nodeconfig.FromObjects(objects) // as scan does
		out, err := runner.Run(t.Context(), env)
		if err != nil {
			t.Fatal(err)
		}
		// A finding names its object and file (its line is its field's):
		// objects that share both with another are left out.
		scanned := map[*source.Object][]check.Finding{}
		byRef := map[string]*source.Object{}
		ambiguous := map[string]bool{}
		for _, o := range objects {
			k := refKey(check.RefOf(o), o.Source.File)
			if _, seen := byRef[k]; seen {
				ambiguous[k] = true
			}
			byRef[k] = o
		}
		for _, f := range out.Findings {
			if k := refKey(*f.Object, f.Source.File); !ambiguous[k] && byRef[k] != nil {
				scanned[byRef[k]] = append(scanned[byRef[k]], f)
			}
		}
		same, contextual, compared := 0, 0, 0
		for _, o := range objects {
			if ambiguous[refKey(check.RefOf(o), o.Source.File)] {
				continue
			}
			raw, err := json.Marshal(o.Body())
			if err != nil {
				t.Fatal(err)
			}
			req := &admissionv1.AdmissionRequest{UID: "identity", Kind: metav1.GroupVersionKind{Group: o.Group(), Kind: o.Kind()},
				Namespace: o.Namespace(), Name: o.Name(), Operation: admissionv1.Create, Object: runtime.RawExtension{Raw: raw}}
			_, got := r.validate(req)
			compared++
			want := scanned[o]
			if equalFindings(got, want, nil) {
				same++
				continue
			}
			var alone []check.Finding
			aloneEnv := check.NewEnv(inventory.Build([]*source.Object{o}), check.Settings{})
			aloneEnv.Node = nodeconfig.FromObjects([]*source.Object{o})
			for _, f := range runner.EvaluateObject(aloneEnv, o).Findings {
				if c, _ := reg.Get(f.Check); !c.CrossObject {
					alone = append(alone, f) // the webhook does not run cross-object checks
				}
			}
			if equalFindings(got, want, contextChecks) && equalFindings(got, alone, nil) {
				contextual++
				continue
			}
			t.Errorf("%s (%s): webhook %v, scan %v", o, o.Source, ids(got), ids(want))
		}
		t.Logf("%s: %d objects (%d left out: the same object twice in a file); %d identical to the scan, %d differ only in context checks (and equal a scan of the object alone)", input, compared, len(objects)-compared, same, contextual)
	}
}

func refKey(r check.ObjectRef, file string) string {
	return strings.Join([]string{r.Group(), r.Kind, r.Namespace, r.Name, file}, "\x00")
}

// equalFindings compares check, severity, path, message and fingerprint,
// ignoring the checks in skip.
func equalFindings(a, b []check.Finding, skip map[string]string) bool {
	key := func(fs []check.Finding) []string {
		var out []string
		for _, f := range fs {
			if _, ok := skip[f.Check]; ok {
				continue
			}
			out = append(out, fmt.Sprintf("%s|%s|%s|%s|%s", f.Check, f.Severity, f.Path, f.Message, f.Fingerprint()))
		}
		slices.SortFunc(out, func(x, y string) int { return cmp.Compare(x, y) })
		return out
	}
	return slices.Equal(key(a), key(b))
}

func ids(fs []check.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Check)
	}
	slices.Sort(out)
	return out
}

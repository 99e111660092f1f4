package workload

import (
	"context"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	psaapi "k8s.io/pod-security-admission/api"
	"k8s.io/pod-security-admission/policy"

	"github.com/kubeharden/kubeharden/internal/check"
	"github.com/kubeharden/kubeharden/internal/inventory"
	"github.com/kubeharden/kubeharden/internal/source"
)

// pssCorpus is the upstream fixture set, shared beside the repository.
const pssCorpus = "../../../../shared/corpus/conformance/pod-security-standards/testdata"

// TestPSSConformance evaluates every upstream fixture (2 levels x 38
// versions) and requires the upstream verdict, the upstream Evaluator's
// agreement, and that the violated control is the one the fixture is
// named after.
func TestPSSConformance(t *testing.T) {
	if _, err := os.Stat(pssCorpus); err != nil {
		t.Skipf("Pod Security conformance corpus not found at %s (it lives in ../shared beside the repository): %v", pssCorpus, err)
	}
	checks, err := pssCatalogue()
	if err != nil {
		t.Fatal(err)
	}
	reg, err := check.NewRegistry(checks...)
	if err != nil {
		t.Fatal(err)
	}
	runner, err := check.NewRunner(reg, check.Options{Workers: 1, IncludeControlPlane: true})
	if err != nil {
		t.Fatal(err)
	}
	upstream, err := policy.NewEvaluator(policy.DefaultChecks(), nil)
	if err != nil {
		t.Fatal(err)
	}

	var total, agree, prefixOK int
	err = filepath.WalkDir(pssCorpus, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() || !strings.HasSuffix(path, ".yaml") {
			return err
		}
		rel, _ := filepath.Rel(pssCorpus, path)
		parts := strings.Split(filepath.ToSlash(rel), "/") // level/version/expected/file
		if len(parts) != 4 {
			return nil
		}
		level, version, expected, file := parts[0], parts[1], parts[2], parts[3]
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		res := source.ParseBytes(rel, data)
		if len(res.Errors) > 0 || len(res.Objects) != 1 {
			t.Errorf("%s: load: %v", rel, res.Errors)
			return nil
		}
		env := check.NewEnv(inventory.Build(res.Objects), check.Settings{PSSVersion: version, PSSLevel: level})
		out, err := runner.Run(context.Background(), env)
		if err != nil {
			return err
		}
		total++
		denied := len(out.Findings) > 0
		if denied == (expected == "fail") {
			agree++
		} else {
			t.Errorf("%s: kubeharden denied=%v, fixture expects %s; findings: %v", rel, denied, expected, out.Findings)
		}

		// The upstream Evaluator must agree with our per-control union.
		pod := env.Inventory.Pod(res.Objects[0])
		lv := psaapi.LevelVersion{Level: psaapi.Level(level), Version: mustVersion(t, version)}
		upAllowed := policy.AggregateCheckResults(upstream.EvaluatePod(lv, pod.Meta, pod.Spec)).Allowed
		if upAllowed == denied {
			t.Errorf("%s: upstream Evaluator allowed=%v but kubeharden denied=%v", rel, upAllowed, denied)
		}

		if expected == "fail" {
			prefix := strings.TrimRight(strings.TrimSuffix(file, ".yaml"), "0123456789")
			found := false
			for _, f := range out.Findings {
				for _, id := range f.Frameworks.PSS {
					if strings.EqualFold(id, prefix) {
						found = true
					}
				}
				if f.Path == "" || f.Message == "" {
					t.Errorf("%s: finding without path or message: %+v", rel, f)
				}
			}
			if found {
				prefixOK++
			} else {
				t.Errorf("%s: no finding for control %q; got %v", rel, prefix, pssIDs(out.Findings))
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if total < 4000 {
		t.Fatalf("only %d fixtures evaluated; the corpus has 4,537", total)
	}
	t.Logf("Pod Security Standards conformance: %d/%d verdicts agree (%.2f%%); violated control matched on %d fail fixtures",
		agree, total, 100*float64(agree)/float64(total), prefixOK)
}

func mustVersion(t *testing.T, s string) psaapi.Version {
	t.Helper()
	v, err := ParsePSSVersion(s)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func pssIDs(fs []check.Finding) []string {
	var out []string
	for _, f := range fs {
		out = append(out, f.Frameworks.PSS...)
	}
	return out
}

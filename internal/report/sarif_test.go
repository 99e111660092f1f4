package report

import (
	"fmt"
	"testing"

	"github.com/kubeharden/kubeharden/internal/check"
)

// sarifResult and resultOf are the reference the streamed SARIF results
// are held to: the SARIF result as a struct, for encoding/json.
type sarifResult struct {
	RuleID              string            `json:"ruleId"`
	RuleIndex           int               `json:"ruleIndex"`
	Level               string            `json:"level"`
	Message             sarifText         `json:"message"`
	Locations           []sarifLocation   `json:"locations,omitempty"`
	PartialFingerprints map[string]string `json:"partialFingerprints"`
	Properties          map[string]any    `json:"properties,omitempty"`
}

func resultOf(f check.Finding, ruleIndex int) sarifResult {
	res := sarifResult{
		RuleID:              f.Check,
		RuleIndex:           ruleIndex,
		Level:               sarifLevel(f.Severity),
		Message:             sarifText{Text: fmt.Sprintf("%s: %s", f.Object, f.Message)},
		PartialFingerprints: map[string]string{"kubeharden/v1": f.Fingerprint()},
		Properties:          map[string]any{"severity": f.Severity.String(), "object": f.Object},
	}
	if f.Container != "" {
		res.Properties["container"] = f.Container
	}
	if f.Path != "" {
		res.Properties["path"] = f.Path
	}
	loc := sarifLocation{LogicalLocations: []sarifLogical{{FullyQualifiedName: logicalName(f), Kind: "object"}}}
	if f.Source.File != "" && f.Source.File != "-" {
		loc.PhysicalLocation = &sarifPhysical{ArtifactLocation: sarifArtifact{URI: artifactURI(f.Source.File)}}
		if f.Source.Line > 0 {
			loc.PhysicalLocation.Region = &sarifRegion{StartLine: f.Source.Line}
		}
	}
	res.Locations = []sarifLocation{loc}
	return res
}

func TestSARIFResultEncoderMatchesJSON(t *testing.T) {
	objects := []check.ObjectRef{
		{APIVersion: "apps/v1", Kind: "Deployment", Namespace: "shop", Name: "web"},
		{APIVersion: "rbac.authorization.k8s.io/v1", Kind: "ClusterRole", Name: "admin \"quoted\" <&>"},
		{APIVersion: "v1", Kind: "Pod", Namespace: "ns", Name: "ünïcode\u2028line\ttab"},
	}
	sources := []check.Source{{}, {File: "-", Line: 3}, {File: "dir/../k8s/app.yaml"}, {File: "k8s/app.yaml", Line: 12}, {File: "./a b/c.yaml", Line: 1}}
	var enc sarifResultEncoder
	n := 0
	for _, obj := range objects {
		for _, src := range sources {
			for _, container := range []string{"", "app"} {
				for _, path := range []string{"", "spec.template.spec.containers[0].securityContext"} {
					for _, sev := range check.Severities() {
						f := check.Finding{Rule: &check.Rule{Check: "privileged-container", Severity: sev}, Object: &obj, Container: container, Path: path,
							Source: src, Message: "container \"app\" is privileged\n<b>"}
						want, err := marshalCompact(resultOf(f, n%7))
						if err != nil {
							t.Fatal(err)
						}
						if got := enc.append(nil, &f, n%7); string(got) != string(want) {
							t.Fatalf("result %d differs:\n got %s\nwant %s", n, got, want)
						}
						n++
					}
				}
			}
		}
	}
}

func logicalName(f check.Finding) string {
	name := f.Object.String()
	if f.Container != "" {
		name += "/" + f.Container
	}
	return name
}

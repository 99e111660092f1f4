package admission

import (
	"testing"

	admissionv1 "k8s.io/api/admission/v1"
)

// FuzzReview feeds arbitrary bodies through the decoder and, when they
// decode, through validation and mutation: no input may panic.
func FuzzReview(f *testing.F) {
	r := reviewer(f, "mutate: {seccompProfile: true, allowPrivilegeEscalation: true, dropAllCapabilities: true}")
	f.Add(reviewBody(f, request(f, privilegedPod)))
	f.Add(reviewBody(f, request(f, hardenedPod)))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE","object":{"apiVersion":"apps/v1","kind":"Deployment","spec":{"template":{"spec":{"containers":[{"name":"a","securityContext":null}]}}}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"CREATE","object":{"apiVersion":"v1","kind":"Pod","metadata":{"name":1}}}}`))
	f.Add([]byte(`{"apiVersion":"admission.k8s.io/v1","kind":"AdmissionReview","request":{"uid":"x","operation":"UPDATE","object":{"apiVersion":"rbac.authorization.k8s.io/v1","kind":"ClusterRoleBinding","roleRef":{"kind":"ClusterRole","name":"cluster-admin"},"subjects":[{"kind":"User","name":"a"}]}}}`))
	f.Fuzz(func(t *testing.T, body []byte) {
		review, err := DecodeReview(body)
		if err != nil {
			return
		}
		for _, decide := range []func() *admissionv1.AdmissionResponse{
			func() *admissionv1.AdmissionResponse { return r.Validate(t.Context(), review.Request) },
			func() *admissionv1.AdmissionResponse { return r.Mutate(t.Context(), review.Request) },
		} {
			if resp := decide(); resp == nil || resp.UID != review.Request.UID {
				t.Fatalf("response %+v for request %s", resp, review.Request.UID)
			}
		}
	})
}

package probe

import "testing"

func TestClassify(t *testing.T) {
	cases := []struct {
		value string
		want  SecretStorage
	}{
		{"k8s:enc:aescbc:v1:key1:\x00\x01ciphertext:with:colons", SecretStorage{Encrypted: true, Provider: "aescbc", Version: "v1", KeyName: "key1"}},
		{"k8s:enc:secretbox:v1:k2:\xff", SecretStorage{Encrypted: true, Provider: "secretbox", Version: "v1", KeyName: "k2"}},
		{"k8s:enc:kms:v2:vault:\n\x0aproto", SecretStorage{Encrypted: true, Provider: "kms", Version: "v2", KeyName: "vault"}},
		{"k8s:enc:aesgcm", SecretStorage{Encrypted: true, Provider: "aesgcm"}},
		{"k8s\x00\n\x0c\n\x02v1\x12\x06Secret", SecretStorage{Format: "protobuf"}},
		{` {"kind":"Secret","data":{"password":"c2VjcmV0"}}`, SecretStorage{Format: "json"}},
		{"\x00garbage", SecretStorage{Format: "unknown"}},
	}
	for _, tc := range cases {
		if got := Classify([]byte(tc.value)); got != tc.want {
			t.Errorf("Classify(%q) = %+v, want %+v", tc.value, got, tc.want)
		}
	}
}

package broker

import (
	"strings"
	"testing"
)

func TestRedact(t *testing.T) {
	for _, tc := range []struct {
		name, in, want string
	}{
		{"no credentials", "nats://127.0.0.1:4222", "nats://127.0.0.1:4222"},
		{"user and password", "nats://app:s3cret@nats.internal:4222", "nats://app:xxxxx@nats.internal:4222"},
		{"token", "nats://s3cret@nats.internal:4222", "nats://xxxxx@nats.internal:4222"},
		{"a list", "nats://a:s3cret@n1:4222, nats://n2:4222,nats://s3cret@n3", "nats://a:xxxxx@n1:4222,nats://n2:4222,nats://xxxxx@n3"},
		{"not a URL", "nats://a:s3cret@[::1", "xxxxx@[::1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := Redact(tc.in)
			if got != tc.want {
				t.Fatalf("Redact(%q) = %q, want %q", tc.in, got, tc.want)
			}
			if strings.Contains(got, "s3cret") {
				t.Fatalf("Redact(%q) = %q still holds the secret", tc.in, got)
			}
		})
	}
}

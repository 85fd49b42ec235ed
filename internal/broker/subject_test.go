package broker

import (
	"errors"
	"strings"
	"testing"
)

func TestTopicEncodingRoundTrip(t *testing.T) {
	all := make([]byte, 256)
	for i := range all {
		all[i] = byte(i)
	}
	cases := []struct {
		name, topic, want string
	}{
		{"plain", "news", "news"},
		{"every myriad byte but dot", "a_b-c:d/e@F9", "a_b-c:d/e@F9"},
		{"dot", "a.b", "a%2Eb"},
		{"empty tokens", "a..b.", "a%2E%2Eb%2E"},
		{"lone dot", ".", "%2E"},
		{"star wildcard", "*", "%2A"},
		{"full wildcard", ">", "%3E"},
		{"space and tab", "a b\tc", "a%20b%09c"},
		{"escape char itself", "%41", "%2541"},
		{"high bytes", "\xff\x80", "%FF%80"},
		{"all bytes", string(all), ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc := EncodeTopic(tc.topic)
			if tc.want != "" && enc != tc.want {
				t.Fatalf("EncodeTopic(%q) = %q, want %q", tc.topic, enc, tc.want)
			}
			if strings.ContainsAny(enc, ".*> \t\r\n") {
				t.Fatalf("EncodeTopic(%q) = %q is not one literal token", tc.topic, enc)
			}
			got, err := TopicOf("myriad.t", Subject("myriad.t", tc.topic))
			if err != nil || got != tc.topic {
				t.Fatalf("round trip of %q = %q, %v", tc.topic, got, err)
			}
		})
	}
}

func TestDecodeTopicRejectsNonCanonical(t *testing.T) {
	cases := []struct{ name, token string }{
		{"empty", ""},
		{"raw dot", "a.b"},
		{"raw star", "*"},
		{"raw space", "a b"},
		{"truncated escape", "a%4"},
		{"lone percent", "%"},
		{"bad hex", "%4G"},
		{"lower-case hex", "%2e"},
		{"escaped plain byte", "%41"},
		{"raw high byte", "\xff"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if got, err := DecodeTopic(tc.token); !errors.Is(err, ErrBadSubject) {
				t.Fatalf("DecodeTopic(%q) = %q, %v; want ErrBadSubject", tc.token, got, err)
			}
		})
	}
	if _, err := TopicOf("myriad.t", "other.news"); !errors.Is(err, ErrBadSubject) {
		t.Fatalf("TopicOf with a foreign prefix: %v", err)
	}
}

func FuzzTopicEncoding(f *testing.F) {
	for _, s := range []string{"a", "a.b", "%", "%2E", "*", "\x00"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if s != "" {
			if got, err := DecodeTopic(EncodeTopic(s)); err != nil || got != s {
				t.Fatalf("round trip of %q = %q, %v", s, got, err)
			}
		}
		if topic, err := DecodeTopic(s); err == nil && EncodeTopic(topic) != s {
			t.Fatalf("DecodeTopic accepted non-canonical %q", s)
		}
	})
}

package supervisor

import (
	"errors"
	"os"
	"testing"
	"time"
)

func TestReadReadyLines(t *testing.T) {
	cases := []struct {
		name, line string
		want       readiness
		ok         bool
	}{
		{"counts", "ready 2 1\n", readiness{ws: 2, api: 1}, true},
		{"no API", "ready 1 0\n", readiness{ws: 1}, true},
		{"steered", "ready 2 1 steered\n", readiness{ws: 2, api: 1, steered: true}, true},
		{"no listener", "ready 0 1\n", readiness{}, false},
		{"negative API count", "ready 1 -1\n", readiness{}, false},
		{"unknown mark", "ready 2 1 maybe\n", readiness{}, false},
		{"mark alone", "ready steered\n", readiness{}, false},
		{"not a readiness line", "hello\n", readiness{}, false},
		{"exited without a line", "", readiness{}, false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			pr, pw, err := os.Pipe()
			if err != nil {
				t.Fatal(err)
			}
			defer pr.Close()
			_, _ = pw.WriteString(tc.line)
			_ = pw.Close()
			got, err := readReady(pr, 5*time.Second)
			if tc.ok != (err == nil) || got != tc.want {
				t.Fatalf("readReady(%q) = %+v, %v; want %+v, ok=%v", tc.line, got, err, tc.want, tc.ok)
			}
			if err != nil && !errors.Is(err, ErrNotReady) {
				t.Fatalf("error %v does not wrap ErrNotReady", err)
			}
		})
	}
}

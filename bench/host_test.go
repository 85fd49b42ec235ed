package bench

import (
	"os"
	"path/filepath"
	"testing"
)

func TestCountSources(t *testing.T) {
	tests := []struct {
		name, spec string
		want       int
	}{
		{"default range", "127.0.0.2-127.0.0.20", 19},
		{"one address", "127.0.0.2", 1},
		{"list and range", "127.0.0.2,127.0.0.5-127.0.0.6", 3},
		{"reversed range", "127.0.0.9-127.0.0.2", 1},
		{"garbage", "x-y", 1},
		{"empty", "", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := countSources(tt.spec); got != tt.want {
				t.Fatalf("countSources(%q) = %d, want %d", tt.spec, got, tt.want)
			}
		})
	}
}

func TestReadPortRange(t *testing.T) {
	tests := []struct {
		name, content string
		lo, hi        int
		wantErr       bool
	}{
		{"kernel format", "32768\t60999\n", 32768, 60999, false},
		{"spaces", "1024 65535", 1024, 65535, false},
		{"one number", "1024\n", 0, 0, true},
		{"words", "low high", 0, 0, true},
		{"empty", "", 0, 0, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := filepath.Join(t.TempDir(), "range")
			if err := os.WriteFile(p, []byte(tt.content), 0o644); err != nil {
				t.Fatal(err)
			}
			lo, hi, err := readPortRange(p)
			if (err != nil) != tt.wantErr || lo != tt.lo || hi != tt.hi {
				t.Fatalf("readPortRange = %d, %d, %v; want %d, %d, error %v", lo, hi, err, tt.lo, tt.hi, tt.wantErr)
			}
		})
	}
}

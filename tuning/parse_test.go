package tuning

import "testing"

func TestParseByteCount(t *testing.T) {
	tests := []struct {
		in      string
		want    int64
		wantErr bool
	}{
		{"0", 0, false},
		{"1234", 1234, false},
		{"10B", 10, false},
		{"3KiB", 3 << 10, false},
		{"512MiB", 512 << 20, false},
		{"14GiB", 14 << 30, false},
		{"2TiB", 2 << 40, false},
		{"12G", 0, true},
		{"1.5GiB", 0, true},
		{"-1", 0, true},
		{"GiB", 0, true},
		{"99999999TiB", 0, true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseByteCount(tc.in)
			if (err != nil) != tc.wantErr || got != tc.want {
				t.Fatalf("parseByteCount(%q) = %d, %v", tc.in, got, err)
			}
		})
	}
}

func TestFormatByteCountRoundTrips(t *testing.T) {
	tests := []struct {
		name string
		in   int64
		want string
	}{
		{"zero", 0, "0B"},
		{"bytes", 1000, "1000B"},
		{"kibibytes", 3 << 10, "3KiB"},
		{"not whole MiB", 1<<20 + 1<<10, "1025KiB"},
		{"gibibytes", 14 << 30, "14GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := formatByteCount(tc.in)
			if s != tc.want {
				t.Fatalf("formatByteCount(%d) = %q, want %q", tc.in, s, tc.want)
			}
			if back, err := parseByteCount(s); err != nil || back != tc.in {
				t.Fatalf("parseByteCount(%q) = %d, %v", s, back, err)
			}
		})
	}
}

func TestPortList(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		add      int64
		want     string
		inRange  [2]int64
		reserved int64
	}{
		{"empty", "", 8080, "8080", [2]int64{1024, 65535}, 0},
		{"merge adjacent", "8081-8090", 8080, "8080-8090", [2]int64{8085, 9000}, 6},
		{"keep order", "9000-9010,40000", 8080, "8080,9000-9010,40000", [2]int64{1024, 65535}, 12},
		{"overlap collapses", "100-200,150-250", 300, "100-250,300", [2]int64{0, 65535}, 151},
		{"junk skipped", "abc,8000-x,7000", 7001, "7000-7001", [2]int64{7000, 7000}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			spans := parsePortList(tc.in)
			if got := countReservedIn(spans, tc.inRange[0], tc.inRange[1]); got != tc.reserved {
				t.Errorf("countReservedIn = %d, want %d", got, tc.reserved)
			}
			if got := formatPortList(append(spans, portSpan{tc.add, tc.add})); got != tc.want {
				t.Errorf("formatPortList = %q, want %q", got, tc.want)
			}
		})
	}
}

func TestHumanBytes(t *testing.T) {
	tests := []struct {
		in   int64
		want string
	}{
		{512, "512 B"},
		{2048, "2.0 KiB"},
		{3 << 29, "1.5 GiB"},
		{4096 * 1_000_000, "3.8 GiB"},
	}
	for _, tc := range tests {
		t.Run(tc.want, func(t *testing.T) {
			if got := humanBytes(tc.in); got != tc.want {
				t.Fatalf("humanBytes(%d) = %q", tc.in, got)
			}
		})
	}
}

package loadgen

import (
	"net/netip"
	"testing"
	"time"
)

func TestParseSources(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		want    []string
		wantErr bool
	}{
		{name: "one", in: "127.0.0.2", want: []string{"127.0.0.2"}},
		{name: "range", in: "127.0.0.2-127.0.0.4", want: []string{"127.0.0.2", "127.0.0.3", "127.0.0.4"}},
		{name: "list and range", in: "127.0.0.9, 127.0.0.2-127.0.0.3", want: []string{"127.0.0.9", "127.0.0.2", "127.0.0.3"}},
		{name: "range over an octet", in: "127.0.0.255-127.0.1.0", want: []string{"127.0.0.255", "127.0.1.0"}},
		{name: "backwards range", in: "127.0.0.4-127.0.0.2", wantErr: true},
		{name: "mixed families", in: "127.0.0.1-::1", wantErr: true},
		{name: "not an address", in: "localhost", wantErr: true},
		{name: "empty", in: " , ", wantErr: true},
		{name: "too many", in: "10.0.0.0-10.2.0.0", wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := ParseSources(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tc.wantErr)
			}
			if len(got) != len(tc.want) {
				t.Fatalf("got %v, want %v", got, tc.want)
			}
			for i := range got {
				if got[i] != netip.MustParseAddr(tc.want[i]) {
					t.Fatalf("got %v, want %v", got, tc.want)
				}
			}
		})
	}
}

func TestPlanValidate(t *testing.T) {
	ok := Plan{Targets: []string{"ws://127.0.0.1:1/x"}, Conns: 1}
	tests := []struct {
		name    string
		edit    func(p *Plan)
		wantErr bool
	}{
		{name: "minimal", edit: func(*Plan) {}},
		{name: "no target", edit: func(p *Plan) { p.Targets = nil }, wantErr: true},
		{name: "wss", edit: func(p *Plan) { p.Targets = []string{"wss://example.com/"} }, wantErr: true},
		{name: "http", edit: func(p *Plan) { p.Targets = []string{"http://127.0.0.1/"} }, wantErr: true},
		{name: "no conns", edit: func(p *Plan) { p.Conns = 0 }, wantErr: true},
		{name: "negative rate", edit: func(p *Plan) { p.Rate = -1 }, wantErr: true},
		{name: "too many retries", edit: func(p *Plan) { p.Retries = 256 }, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			p := ok
			tc.edit(&p)
			if err := p.Validate(); (err != nil) != tc.wantErr {
				t.Fatalf("Validate() = %v, wantErr %v", err, tc.wantErr)
			}
		})
	}
}

func TestParseTarget(t *testing.T) {
	tg, err := parseTarget("ws://localhost:8080/echo?room=1")
	if err != nil {
		t.Fatal(err)
	}
	if tg.addr != "localhost:8080" || tg.host != "localhost:8080" || tg.path != "/echo?room=1" {
		t.Fatalf("got %+v", tg)
	}
	tg, err = parseTarget("ws://127.0.0.1")
	if err != nil {
		t.Fatal(err)
	}
	if tg.addr != "127.0.0.1:80" || tg.path != "/" {
		t.Fatalf("got %+v", tg)
	}
}

func TestConnectSpecOffset(t *testing.T) {
	tests := []struct {
		name string
		spec ConnectSpec
		i    int
		want time.Duration
	}{
		{name: "no rate: all at once", spec: ConnectSpec{Rate: 0}, i: 500, want: 0},
		{name: "steady rate", spec: ConnectSpec{Rate: 100}, i: 50, want: 500 * time.Millisecond},
		// With a 2 s ramp to 100/s, 100 connections start during the ramp
		// (the area of the triangle); i = 25 is at t = 1 s.
		{name: "inside the ramp", spec: ConnectSpec{Rate: 100, Ramp: 2 * time.Second}, i: 25, want: time.Second},
		{name: "after the ramp", spec: ConnectSpec{Rate: 100, Ramp: 2 * time.Second}, i: 150, want: 2500 * time.Millisecond},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.spec.offset(tc.i)
			if d := got - tc.want; d < -time.Microsecond || d > time.Microsecond {
				t.Fatalf("offset(%d) = %v, want %v", tc.i, got, tc.want)
			}
		})
	}
}

func TestSplitPlan(t *testing.T) {
	p := Plan{
		Scenario:   "idle",
		Targets:    []string{"ws://127.0.0.1:1/"},
		Conns:      10,
		Rate:       90,
		ServerPIDs: []int{1},
		Sources:    []netip.Addr{netip.MustParseAddr("127.0.0.2"), netip.MustParseAddr("127.0.0.3"), netip.MustParseAddr("127.0.0.4")},
	}
	parts := SplitPlan(p, 3)
	if len(parts) != 3 {
		t.Fatalf("%d parts", len(parts))
	}
	conns, offset := 0, 0
	for i, q := range parts {
		if !q.Worker || q.ServerPIDs != nil {
			t.Errorf("part %d: worker %v, server pids %v", i, q.Worker, q.ServerPIDs)
		}
		if q.Rate != 30 {
			t.Errorf("part %d: rate %v", i, q.Rate)
		}
		if len(q.Sources) != 1 || q.Sources[0] != p.Sources[i] {
			t.Errorf("part %d: sources %v", i, q.Sources)
		}
		if q.IDOffset != offset {
			t.Errorf("part %d: id offset %d, want %d", i, q.IDOffset, offset)
		}
		conns += q.Conns
		offset += q.Conns
	}
	if conns != 10 || parts[0].Conns != 4 {
		t.Errorf("conns split %d/%d/%d", parts[0].Conns, parts[1].Conns, parts[2].Conns)
	}
	if got := len(SplitPlan(Plan{Conns: 2}, 5)); got != 2 {
		t.Errorf("more processes than connections: %d parts", got)
	}
}

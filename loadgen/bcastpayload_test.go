package loadgen

import (
	"encoding/json"
	"sync"
	"testing"
)

func TestParseBroadcast(t *testing.T) {
	tests := []struct {
		name    string
		in      string
		seq     uint64
		ts      int64
		wantErr bool
	}{
		{name: "data only", in: `{"seq":17,"ts":1795440000123456789,"pad":"xx"}`, seq: 17, ts: 1795440000123456789},
		{name: "envelope", in: `{"topic":"bench","data":{"seq":3,"ts":42,"pad":""}}`, seq: 3, ts: 42},
		{name: "gateway fields around data", in: `{"ts":1,"seq":99,"topic":"t","data":{"seq":5,"ts":77},"id":8}`, seq: 5, ts: 77},
		{name: "blanks", in: "{ \"data\" : { \"seq\" :\t12 , \"ts\"\n: 34 } }", seq: 12, ts: 34},
		{name: "topic named like the keys", in: `{"topic":"seq","x":"data","data":{"seq":1,"ts":2}}`, seq: 1, ts: 2},
		{name: "zero", in: `{"data":{"seq":0,"ts":0}}`, seq: 0, ts: 0},
		{name: "no ts", in: `{"data":{"seq":1}}`, wantErr: true},
		{name: "no seq", in: `{"data":{"ts":1}}`, wantErr: true},
		{name: "string seq", in: `{"data":{"seq":"1","ts":2}}`, wantErr: true},
		{name: "negative ts", in: `{"data":{"seq":1,"ts":-2}}`, wantErr: true},
		{name: "seq overflows", in: `{"data":{"seq":18446744073709551616,"ts":2}}`, wantErr: true},
		{name: "ts beyond int64", in: `{"data":{"seq":1,"ts":9223372036854775808}}`, wantErr: true},
		{name: "not json", in: `hello`, wantErr: true},
		{name: "empty", in: ``, wantErr: true},
		{name: "cut short", in: `{"data":{"seq":1,"ts"`, wantErr: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			seq, ts, ok := parseBroadcast([]byte(tc.in))
			if ok == tc.wantErr {
				t.Fatalf("ok = %v, want %v", ok, !tc.wantErr)
			}
			if ok && (seq != tc.seq || ts != tc.ts) {
				t.Errorf("got seq %d ts %d, want %d %d", seq, ts, tc.seq, tc.ts)
			}
		})
	}
}

func TestBroadcastBodyRoundTrip(t *testing.T) {
	for _, size := range []int{0, 16, 64, 1000} {
		b := appendBroadcastBody(nil, []byte(`"a \"topic\""`), 12345, 1795440000123456789, size)
		var req struct {
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if err := json.Unmarshal(b, &req); err != nil {
			t.Fatalf("size %d: %s is not JSON: %v", size, b, err)
		}
		if req.Topic != `a "topic"` {
			t.Errorf("size %d: topic %q", size, req.Topic)
		}
		if len(req.Data) < size {
			t.Errorf("size %d: data is %d bytes", size, len(req.Data))
		}
		if size > 64 && len(req.Data) != size {
			t.Errorf("size %d: data is %d bytes, want exactly %d", size, len(req.Data), size)
		}
		seq, ts, ok := parseBroadcast(b)
		if !ok || seq != 12345 || ts != 1795440000123456789 {
			t.Errorf("size %d: parsed %d %d %v", size, seq, ts, ok)
		}
	}
}

// TestParseBroadcastAllocatesNothing: the parser runs once per delivery
// on the event loop.
func TestParseBroadcastAllocatesNothing(t *testing.T) {
	msg := []byte(`{"topic":"bench","data":{"seq":17,"ts":1795440000123456789,"pad":"xxxxxxxxxxxxxxxx"},"id":3}`)
	if n := testing.AllocsPerRun(100, func() { parseBroadcast(msg) }); n != 0 {
		t.Errorf("parseBroadcast allocates %.1f times per call", n)
	}
}

func BenchmarkParseBroadcast(b *testing.B) {
	msg := []byte(`{"topic":"bench","data":{"seq":17,"ts":1795440000123456789,"pad":"xxxxxxxxxxxxxxxx"},"id":3}`)
	b.ReportAllocs()
	b.SetBytes(int64(len(msg)))
	for b.Loop() {
		parseBroadcast(msg)
	}
}

func TestLastArrival(t *testing.T) {
	var mu sync.Mutex
	got := map[uint64]int64{}
	calls := 0
	a := newLastArrival(func(seq uint64, us int64) {
		mu.Lock()
		defer mu.Unlock()
		calls++
		if _, dup := got[seq]; dup {
			t.Errorf("message %d handed to the sink twice", seq)
		}
		got[seq] = us
	})
	// Four "loops" record the same 100 messages with different latencies;
	// the maximum of message i is 750+i, recorded by loop 3.
	var wg sync.WaitGroup
	for l := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				a.record(uint64(i), int64(i))
				a.record(uint64(i), int64(l*250+i))
			}
		}()
	}
	wg.Wait()
	// Message lastRingSize+5 takes message 5's slot: 5 is final.
	a.record(lastRingSize+5, 7)
	mu.Lock()
	if us, ok := got[5]; !ok || us != 3*250+5 {
		t.Errorf("evicted message 5: got %d, %v; want %d", us, ok, 3*250+5)
	}
	mu.Unlock()
	// A late delivery of message 5 can no longer be tracked.
	a.record(5, 1<<20)
	if n := a.untracked.Load(); n != 1 {
		t.Errorf("untracked = %d, want 1", n)
	}
	a.record(1<<62, 0) // beyond the generations a slot can tell apart
	if n := a.untracked.Load(); n != 2 {
		t.Errorf("untracked = %d, want 2", n)
	}
	a.record(3, -50) // clock skew: clamped to zero, does not lower the max
	a.flush()
	for i := range uint64(100) {
		if want := int64(3*250) + int64(i); got[i] != want {
			t.Errorf("message %d: max %d, want %d", i, got[i], want)
		}
	}
	if len(got) != 101 || calls != 101 {
		t.Errorf("sink got %d messages in %d calls, want 101", len(got), calls)
	}
	if got[lastRingSize+5] != 7 {
		t.Errorf("message %d: %d, want 7", lastRingSize+5, got[lastRingSize+5])
	}
}

func TestSubscribeURL(t *testing.T) {
	tests := []struct{ name, in, topic, want string }{
		{"bare host", "ws://127.0.0.1:8080", "bench", "ws://127.0.0.1:8080/ws?topics=bench"},
		{"root path", "ws://127.0.0.1:8080/", "bench", "ws://127.0.0.1:8080/ws?topics=bench"},
		{"path kept", "ws://h:1/stream", "a b", "ws://h:1/stream?topics=a+b"},
		{"topics kept", "ws://h:1/ws?topics=x,y", "bench", "ws://h:1/ws?topics=x,y"},
		{"token kept", "ws://h:1/ws?token=abc", "bench", "ws://h:1/ws?token=abc&topics=bench"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := SubscribeURL(tc.in, tc.topic)
			if err != nil || got != tc.want {
				t.Errorf("SubscribeURL(%q, %q) = %q, %v; want %q", tc.in, tc.topic, got, err, tc.want)
			}
		})
	}
}

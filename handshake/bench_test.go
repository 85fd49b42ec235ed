package handshake

import "testing"

// upgradeOnce is the server's work for one upgrade: parse, check, choose
// the extension, and write the 101 with its accept key.
func upgradeOnce(in, out []byte, vals [][]byte, neg *Negotiator) ([]byte, [][]byte, error) {
	scan := 0
	req, _, err := ReadRequest(in, 8192, &scan)
	if err != nil {
		return out, vals, err
	}
	if herr := req.Check(); herr != nil {
		return out, vals, herr
	}
	vals = HeaderValues(req.Fields, "Sec-WebSocket-Extensions", vals[:0])
	ext := neg.Deflate(vals)
	clear(vals)
	return AppendSwitching(out[:0], req.Key, "", ext), vals[:0], nil
}

// benchRequest is a browser-like upgrade request.
var benchRequest = []byte(head("GET /ws?room=lobby HTTP/1.1", "Host: example.test", "Connection: Upgrade",
	"Pragma: no-cache", "Cache-Control: no-cache",
	"User-Agent: Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/120.0 Safari/537.36",
	"Upgrade: websocket", "Origin: https://example.test", "Sec-WebSocket-Version: 13",
	"Accept-Encoding: gzip, deflate, br", "Accept-Language: en-US,en;q=0.9",
	"Sec-WebSocket-Key: "+sampleKey, "Sec-WebSocket-Extensions: permessage-deflate; client_max_window_bits"))

// BenchmarkUpgrade measures the server's whole handshake work; the goal
// is 0 allocs/op once the caller's buffers have grown.
func BenchmarkUpgrade(b *testing.B) {
	out := make([]byte, 0, 512)
	vals := make([][]byte, 0, 4)
	var neg Negotiator
	b.SetBytes(int64(len(benchRequest)))
	b.ReportAllocs()
	for b.Loop() {
		var err error
		if out, vals, err = upgradeOnce(benchRequest, out, vals, &neg); err != nil {
			b.Fatal(err)
		}
	}
}

// TestUpgradeDoesNotAllocate holds the benchmark's goal as a rule: after a
// warm-up, an upgrade allocates nothing.
func TestUpgradeDoesNotAllocate(t *testing.T) {
	out := make([]byte, 0, 512)
	vals := make([][]byte, 0, 4)
	var neg Negotiator
	var err error
	if out, vals, err = upgradeOnce(benchRequest, out, vals, &neg); err != nil {
		t.Fatal(err)
	}
	allocs := testing.AllocsPerRun(100, func() {
		out, vals, _ = upgradeOnce(benchRequest, out, vals, &neg)
	})
	if allocs != 0 {
		t.Fatalf("%v allocations per upgrade, want 0", allocs)
	}
}

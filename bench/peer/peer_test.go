package peer

import (
	"bytes"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
)

func TestPublishHandler(t *testing.T) {
	tests := []struct {
		name       string
		method     string
		path       string
		body       []byte
		wantStatus int
		wantBody   string // substring
		wantFan    bool
	}{
		{name: "publish", method: http.MethodPost, path: "/publish", body: []byte(`{"topic":"t","data":{"seq":1}}`),
			wantStatus: http.StatusOK, wantBody: `{"delivered":3}`, wantFan: true},
		{name: "largest body", method: http.MethodPost, path: "/publish", body: bytes.Repeat([]byte("x"), MaxPublishBody),
			wantStatus: http.StatusOK, wantBody: `{"delivered":3}`, wantFan: true},
		{name: "body one byte too large", method: http.MethodPost, path: "/publish", body: bytes.Repeat([]byte("x"), MaxPublishBody+1),
			wantStatus: http.StatusRequestEntityTooLarge},
		{name: "empty body", method: http.MethodPost, path: "/publish", wantStatus: http.StatusBadRequest},
		{name: "GET", method: http.MethodGet, path: "/publish", wantStatus: http.StatusMethodNotAllowed},
		{name: "PUT", method: http.MethodPut, path: "/publish", body: []byte("x"), wantStatus: http.StatusMethodNotAllowed},
		{name: "other path", method: http.MethodPost, path: "/publish/x", body: []byte("x"), wantStatus: http.StatusNotFound},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var mu sync.Mutex
			var got [][]byte
			srv := httptest.NewServer(PublishHandler(func(p []byte) int {
				mu.Lock()
				got = append(got, bytes.Clone(p))
				mu.Unlock()
				return 3
			}))
			defer srv.Close()
			req, err := http.NewRequest(tt.method, srv.URL+tt.path, bytes.NewReader(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			resp, err := srv.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			body, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tt.wantStatus {
				t.Fatalf("status %d, want %d (%s)", resp.StatusCode, tt.wantStatus, body)
			}
			if !strings.Contains(string(body), tt.wantBody) {
				t.Errorf("body %q lacks %q", body, tt.wantBody)
			}
			mu.Lock()
			defer mu.Unlock()
			switch {
			case tt.wantFan && (len(got) != 1 || !bytes.Equal(got[0], tt.body)):
				t.Errorf("fan-out got %d payloads, want the body once, unchanged", len(got))
			case !tt.wantFan && len(got) != 0:
				t.Errorf("fan-out called %d times for a refused request", len(got))
			}
		})
	}
}

func TestParseArgs(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    Addrs
		wantErr error
	}{
		{name: "both", args: []string{"--addr", "127.0.0.1:1", "--api-addr", "127.0.0.1:2"}, want: Addrs{WS: "127.0.0.1:1", API: "127.0.0.1:2"}},
		{name: "no api", args: []string{"--addr", "127.0.0.1:1"}, wantErr: ErrUsage},
		{name: "no addr", args: []string{"--api-addr", "127.0.0.1:2"}, wantErr: ErrUsage},
		{name: "stray argument", args: []string{"--addr", "a:1", "--api-addr", "a:2", "extra"}, wantErr: ErrUsage},
		{name: "help", args: []string{"-h"}, wantErr: flag.ErrHelp},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseArgs("peer-test", tt.args)
			if tt.wantErr != nil {
				if !errors.Is(err, tt.wantErr) {
					t.Fatalf("err %v, want %v", err, tt.wantErr)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("ParseArgs = %+v, %v; want %+v", got, err, tt.want)
			}
		})
	}
}

func TestSetConcurrentAddRemoveSnapshot(t *testing.T) {
	var s Set[int]
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range 100 {
				s.Add(g*1000 + i)
				_ = s.Snapshot(nil)
				if i%2 == 1 {
					s.Remove(g*1000 + i)
				}
			}
		}()
	}
	wg.Wait()
	s.Remove(-1) // missing: no effect
	if n, snap := s.Len(), s.Snapshot(nil); n != 200 || len(snap) != 200 {
		t.Fatalf("Len %d, snapshot %d, want 200", n, len(snap))
	}
}

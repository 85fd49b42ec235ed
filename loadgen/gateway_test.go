package loadgen

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
)

// fakeGateway is a pub/sub gateway written for the tests with
// gorilla/websocket and net/http: subscribers join topics on /ws?topics=,
// and POST /publish {"topic","data"} sends {"ts","topic","data","id"} to
// every subscriber of the topic and answers {"delivered": N}. The extra
// envelope fields (a "ts" of its own before "data") check that subscribers
// read the publisher's fields, not the gateway's.
type fakeGateway struct {
	WS  string // ws://.../ws
	API string // http://.../publish

	// key, if set, is the bearer token /publish requires (401 otherwise).
	key string
	// status, if set, picks an error status for the n-th publish request
	// (from 0), or 0 to serve it.
	status func(n int) int
	// hold, if set, is how long the n-th publish request waits before it
	// is served.
	hold func(n int) time.Duration
	// deliver, if set, sends msg (message seq) to subscriber sub through
	// send, which it may call zero, one or more times, now or later.
	deliver func(sub int, seq uint64, msg []byte, send func([]byte))

	publishes atomic.Int64 // publish requests
	delivered atomic.Int64 // sum of the delivered answers

	mu   sync.Mutex
	subs map[string][]*fakeSub
	n    int
}

type fakeSub struct {
	id  int
	out chan []byte
}

func startGateway(t *testing.T, setup func(*fakeGateway)) *fakeGateway {
	t.Helper()
	g := &fakeGateway{subs: map[string][]*fakeSub{}}
	if setup != nil {
		setup(g)
	}
	up := websocket.Upgrader{ReadBufferSize: 512, WriteBufferSize: 512}
	mux := http.NewServeMux()
	mux.HandleFunc("/ws", func(w http.ResponseWriter, r *http.Request) {
		topics := strings.Split(r.URL.Query().Get("topics"), ",")
		c, err := up.Upgrade(w, r, nil)
		if err != nil {
			return
		}
		defer c.Close()
		g.mu.Lock()
		sub := &fakeSub{id: g.n, out: make(chan []byte, 1024)}
		g.n++
		for _, tp := range topics {
			g.subs[tp] = append(g.subs[tp], sub)
		}
		g.mu.Unlock()
		defer g.unsubscribe(sub)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				if _, _, err := c.ReadMessage(); err != nil {
					return
				}
			}
		}()
		for {
			select {
			case <-done:
				return
			case m := <-sub.out:
				if c.WriteMessage(websocket.TextMessage, m) != nil {
					return
				}
			}
		}
	})
	mux.HandleFunc("/publish", func(w http.ResponseWriter, r *http.Request) {
		n := int(g.publishes.Add(1)) - 1
		if g.hold != nil {
			time.Sleep(g.hold(n))
		}
		if g.key != "" && r.Header.Get("Authorization") != "Bearer "+g.key {
			http.Error(w, "unauthorized", http.StatusUnauthorized)
			return
		}
		if g.status != nil {
			if st := g.status(n); st != 0 {
				http.Error(w, "failed", st)
				return
			}
		}
		var req struct {
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
		}
		if r.Method != http.MethodPost || json.NewDecoder(r.Body).Decode(&req) != nil {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		var d struct {
			Seq uint64 `json:"seq"`
		}
		_ = json.Unmarshal(req.Data, &d)
		msg, _ := json.Marshal(struct {
			TS    int64           `json:"ts"`
			Topic string          `json:"topic"`
			Data  json.RawMessage `json:"data"`
			ID    int             `json:"id"`
		}{1, req.Topic, req.Data, n})
		g.mu.Lock()
		subs := append([]*fakeSub(nil), g.subs[req.Topic]...)
		g.mu.Unlock()
		for _, s := range subs {
			send := func(m []byte) { s.out <- m }
			if g.deliver != nil {
				g.deliver(s.id, d.Seq, msg, send)
			} else {
				send(msg)
			}
		}
		g.delivered.Add(int64(len(subs)))
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(map[string]int{"delivered": len(subs)})
	})
	hs := httptest.NewServer(mux)
	t.Cleanup(hs.Close)
	g.WS = "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
	g.API = hs.URL + "/publish"
	return g
}

func (g *fakeGateway) unsubscribe(sub *fakeSub) {
	g.mu.Lock()
	defer g.mu.Unlock()
	for tp, list := range g.subs {
		for i, s := range list {
			if s == sub {
				g.subs[tp] = append(list[:i:i], list[i+1:]...)
				break
			}
		}
	}
}

// broadcastPlan is a small broadcast plan against g, and the scenario
// with its parameters.
func broadcastPlan(t *testing.T, g *fakeGateway, conns int, pubRate float64) (Plan, *Broadcast) {
	t.Helper()
	u, err := SubscribeURL(g.WS, "bench")
	if err != nil {
		t.Fatal(err)
	}
	p := testPlan("broadcast", conns, u)
	p.Size = 64
	b := &Broadcast{BroadcastParams: BroadcastParams{API: g.API, PubRate: pubRate}}
	return p, b
}

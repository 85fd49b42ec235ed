package gateway

import (
	"bytes"
	"crypto/subtle"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/myriadws/myriad/server"
)

// publishRequest is the body of POST /publish.
type publishRequest struct {
	ID     string          `json:"id"`
	Topic  string          `json:"topic"`
	Topics []string        `json:"topics"`
	Data   json.RawMessage `json:"data"`
}

// apiStats is the body of GET /stats: the server's counters with the
// hub's under "hub".
type apiStats struct {
	server.Stats
	Hub HubStats `json:"hub"`
}

// APIHandler returns the publish and admin API (see PROTOCOL.md):
//
//	POST /publish   {"topic":"t","data":...} or {"topics":[...],"data":...} -> {"delivered":N}
//	GET  /presence?topic=t[&after=u]         -> {"topic":"t","count":N,"users":[...]}
//	GET  /stats                              -> Server.Stats with HubStats under "hub"
//	GET  /history?topic=t&since=E/N&limit=L  -> {"messages":[...],"recovered":B,"position":{..},"next":"E/N"}
//
// Errors are JSON {"error":"..."} with 400, 401, 403, 404, 405, 413, 415,
// 421 or 503. The checks run in an order that tells an outsider nothing:
// the Host (421) and Origin (403) first, then the key (401) for every
// path, known or not, and only then the path (404).
// The Gateway runs no listener: the embedder mounts the handler on its own
// http.Server (the myriad command serves it on --api-addr). Any goroutine
// may call it.
func (g *Gateway) APIHandler() http.Handler {
	return http.HandlerFunc(g.serveAPI)
}

func (g *Gateway) serveAPI(w http.ResponseWriter, r *http.Request) {
	if !g.hostAllowed(r.Host) {
		apiError(w, http.StatusMisdirectedRequest, "unknown Host "+strconv.Quote(r.Host)+": add it to --api-allowed-hosts")
		return
	}
	if origin := r.Header.Get("Origin"); origin != "" {
		if !g.originAllowed(origin) {
			apiError(w, http.StatusForbidden, "Origin not allowed: add it to --api-cors-origins")
			return
		}
		h := w.Header()
		h.Set("Access-Control-Allow-Origin", origin)
		h.Add("Vary", "Origin")
		if r.Method == http.MethodOptions && r.Header.Get("Access-Control-Request-Method") != "" {
			h.Set("Access-Control-Allow-Methods", "GET, POST")
			h.Set("Access-Control-Allow-Headers", "Authorization, Content-Type")
			h.Set("Access-Control-Max-Age", "600")
			w.WriteHeader(http.StatusNoContent)
			return
		}
	}
	if !g.apiAuthorized(r) {
		w.Header().Set("WWW-Authenticate", "Bearer")
		apiError(w, http.StatusUnauthorized, "missing or wrong API key: send Authorization: Bearer <key>")
		return
	}
	var method string
	var serve func(http.ResponseWriter, *http.Request)
	switch r.URL.Path {
	case "/publish":
		method, serve = http.MethodPost, g.servePublish
	case "/presence":
		method, serve = http.MethodGet, g.servePresence
	case "/stats":
		method, serve = http.MethodGet, g.serveStats
	case "/history":
		method, serve = http.MethodGet, g.serveHistory
	default:
		apiError(w, http.StatusNotFound, "no such endpoint: try POST /publish, GET /presence?topic=, GET /history?topic=, GET /stats")
		return
	}
	if r.Method != method && !(method == http.MethodGet && r.Method == http.MethodHead) {
		w.Header().Set("Allow", method)
		apiError(w, http.StatusMethodNotAllowed, r.URL.Path+" takes "+method)
		return
	}
	serve(w, r)
}

// apiAuthorized checks the bearer key in constant time.
func (g *Gateway) apiAuthorized(r *http.Request) bool {
	if g.cfg.APIKey == "" {
		return true
	}
	auth := r.Header.Get("Authorization")
	if len(auth) < 7 || !strings.EqualFold(auth[:7], "bearer ") {
		return false
	}
	return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(auth[7:])), []byte(g.cfg.APIKey)) == 1
}

func (g *Gateway) servePublish(w http.ResponseWriter, r *http.Request) {
	// JSON only: a page can send text/plain or a form cross-origin
	// without asking the browser first, but not application/json.
	if mt, _, err := mime.ParseMediaType(r.Header.Get("Content-Type")); err != nil || mt != "application/json" {
		apiError(w, http.StatusUnsupportedMediaType, "Content-Type must be application/json")
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, g.cfg.APIMaxBody))
	if err != nil {
		if _, ok := errors.AsType[*http.MaxBytesError](err); ok {
			apiError(w, http.StatusRequestEntityTooLarge, "body larger than "+strconv.FormatInt(g.cfg.APIMaxBody, 10)+" bytes")
			return
		}
		apiError(w, http.StatusBadRequest, "reading body: "+err.Error())
		return
	}
	var req publishRequest
	if err := json.Unmarshal(body, &req); err != nil {
		apiError(w, http.StatusBadRequest, "invalid JSON body: "+err.Error())
		return
	}
	topics := req.Topics
	if req.Topic != "" {
		topics = append(topics, req.Topic)
	}
	if g.cluster != nil {
		g.servePublishCluster(w, r, topics, req.Data)
		return
	}
	n, dup, err := g.PublishOnce(r.Context(), req.ID, topics, req.Data)
	answer := map[string]any{"delivered": n}
	if dup {
		answer["duplicate"] = true
	}
	if err != nil {
		status := http.StatusServiceUnavailable
		if _, ok := errors.AsType[*PublishError](err); ok {
			status = http.StatusBadRequest
		}
		answer["error"] = err.Error()
		apiJSON(w, status, answer)
		return
	}
	apiJSON(w, http.StatusOK, answer)
}

func (g *Gateway) servePresence(w http.ResponseWriter, r *http.Request) {
	topic := r.URL.Query().Get("topic")
	if topic == "" {
		apiError(w, http.StatusBadRequest, "missing ?topic=")
		return
	}
	if g.cluster != nil {
		g.servePresenceCluster(w, r, topic)
		return
	}
	p, err := g.PresencePage(r.Context(), topic, r.URL.Query().Get("after"))
	if err != nil {
		status := http.StatusServiceUnavailable
		if _, ok := errors.AsType[*PublishError](err); ok {
			status = http.StatusBadRequest
		}
		apiError(w, status, err.Error())
		return
	}
	apiJSON(w, http.StatusOK, p)
}

func (g *Gateway) serveStats(w http.ResponseWriter, r *http.Request) {
	if g.cluster != nil {
		g.serveStatsCluster(w, r)
		return
	}
	st := apiStats{Hub: g.Stats()}
	if g.srv != nil {
		st.Stats = g.srv.Stats()
	}
	apiJSON(w, http.StatusOK, st)
}

func apiError(w http.ResponseWriter, status int, msg string) {
	apiJSON(w, status, map[string]string{"error": msg})
}

// apiJSON writes v as the response. HTML escaping is off: the API answers
// JSON, never HTML, and "Bearer \u003ckey\u003e" reads badly in a terminal.
func apiJSON(w http.ResponseWriter, status int, v any) {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil { // Encode ends with a newline
		status = http.StatusInternalServerError
		buf.Reset()
		buf.WriteString(`{"error":"encoding the response failed"}` + "\n")
	}
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Content-Length", strconv.Itoa(buf.Len()))
	w.WriteHeader(status)
	_, _ = w.Write(buf.Bytes())
}

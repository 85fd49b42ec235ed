package dashboard

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
)

func TestHandler(t *testing.T) {
	loadsFromElsewhere := regexp.MustCompile(`(src|href)\s*=\s*["']?(https?:)?//|fetch\(\s*["'](https?:)?//|@import`)
	read := func(context.Context) any { return map[string]int{"open": 7} }
	keyed := Handler(Options{Read: read, Authorize: func(r *http.Request) bool { return r.Header.Get("Authorization") == "Bearer k" }})
	open := Handler(Options{Read: read})
	cases := []struct {
		name   string
		h      http.Handler
		method string
		path   string
		auth   string
		status int
		has    string
	}{
		{"page", keyed, "GET", "/", "", 200, "dashboardState"},
		{"page without a CDN", keyed, "GET", "/", "", 200, "<script>"},
		{"head", keyed, "HEAD", "/", "", 200, ""},
		{"auth required", keyed, "GET", AuthPath, "", 200, `{"required":true}`},
		{"auth not required", open, "GET", AuthPath, "", 200, `{"required":false}`},
		{"data without key", keyed, "GET", DataPath, "", 401, "API key"},
		{"data with wrong key", keyed, "GET", DataPath, "Bearer nope", 401, "API key"},
		{"data with key", keyed, "GET", DataPath, "Bearer k", 200, `{"open":7}`},
		{"data open", open, "GET", DataPath, "", 200, `{"open":7}`},
		{"post refused", open, "POST", DataPath, "", 405, ""},
		{"unknown path", open, "GET", "/dashboard/other", "", 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			srv := httptest.NewServer(tc.h)
			defer srv.Close()
			req, _ := http.NewRequest(tc.method, srv.URL+tc.path, nil)
			if tc.auth != "" {
				req.Header.Set("Authorization", tc.auth)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			if resp.StatusCode != tc.status || !strings.Contains(string(b), tc.has) {
				t.Fatalf("%s %s: %d %.200q, want %d with %q", tc.method, tc.path, resp.StatusCode, b, tc.status, tc.has)
			}
			// Nothing is loaded from elsewhere (the SVG namespace URI is
			// a name, not a fetch).
			if loadsFromElsewhere.Match(b) {
				t.Errorf("%s loads from another origin: %s", tc.path, loadsFromElsewhere.Find(b))
			}
		})
	}
}

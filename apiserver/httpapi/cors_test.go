package httpapi

import (
	"io"
	"log/slog"
	"net/http/httptest"
	"testing"

	"github.com/tributary-etl/tributary/apiserver/config"
)

// TestCORS runs without a database: /healthz and unknown routes never touch
// it, and a preflight is answered before routing.
func TestCORS(t *testing.T) {
	const ui, other = "https://ui.example.com", "https://evil.example.com"
	cases := []struct {
		name         string
		origins      []string
		method, path string
		origin       string
		preflight    bool
		status       int
		allowOrigin  string
	}{
		{"no list, simple request", nil, "GET", "/healthz", ui, false, 200, ""},
		{"no list, preflight falls through", nil, "OPTIONS", "/healthz", ui, true, 405, ""},
		{"listed origin, simple request", []string{ui}, "GET", "/healthz", ui, false, 200, ui},
		{"listed origin, preflight", []string{other, ui}, "OPTIONS", "/api/v1/clusters", ui, true, 204, ui},
		{"listed origin, preflight of an unknown path", []string{ui}, "OPTIONS", "/nowhere", ui, true, 204, ui},
		{"listed origin, error response", []string{ui}, "GET", "/nowhere", ui, false, 404, ui},
		{"unlisted origin, simple request", []string{ui}, "GET", "/healthz", other, false, 200, ""},
		{"unlisted origin, preflight", []string{ui}, "OPTIONS", "/api/v1/clusters", other, true, 403, ""},
		{"origin differing in scheme", []string{ui}, "OPTIONS", "/healthz", "http://ui.example.com", true, 403, ""},
		{"no origin", []string{ui}, "GET", "/healthz", "", false, 200, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := config.Config{CORSOrigins: tc.origins}
			s := New(cfg, nil, slog.New(slog.NewJSONHandler(io.Discard, nil)))
			req := httptest.NewRequest(tc.method, tc.path, nil)
			if tc.origin != "" {
				req.Header.Set("Origin", tc.origin)
			}
			if tc.preflight {
				req.Header.Set("Access-Control-Request-Method", "POST")
				req.Header.Set("Access-Control-Request-Headers", "authorization, content-type")
			}
			w := httptest.NewRecorder()
			s.Handler().ServeHTTP(w, req)
			h := w.Header()
			if w.Code != tc.status {
				t.Fatalf("status %d, want %d: %s", w.Code, tc.status, w.Body)
			}
			if got := h.Get("Access-Control-Allow-Origin"); got != tc.allowOrigin {
				t.Errorf("Access-Control-Allow-Origin %q, want %q", got, tc.allowOrigin)
			}
			granted := tc.preflight && tc.allowOrigin != ""
			if got := h.Get("Access-Control-Allow-Methods"); (got == corsMethods) != granted || (!granted && got != "") {
				t.Errorf("Access-Control-Allow-Methods %q (preflight granted: %v)", got, granted)
			}
			if got := h.Get("Access-Control-Allow-Headers"); (got == corsHeaders) != granted || (!granted && got != "") {
				t.Errorf("Access-Control-Allow-Headers %q (preflight granted: %v)", got, granted)
			}
			if h.Get("Access-Control-Allow-Credentials") != "" {
				t.Error("credentials must not be allowed: the API uses bearer tokens, not cookies")
			}
			if len(tc.origins) > 0 && tc.origin != "" && h.Get("Vary") == "" {
				t.Error("a response that depends on Origin must say Vary: Origin")
			}
		})
	}
}

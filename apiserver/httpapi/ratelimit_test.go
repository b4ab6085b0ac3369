package httpapi

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/config"
)

// TestLimiterMemoryIsBounded: 100,000 distinct keys, each failing once,
// leave at most MaxLoginKeys behind, the most recent ones; a key pushed
// out is forgotten, and throttling of a key still engages after the flood.
func TestLimiterMemoryIsBounded(t *testing.T) {
	const distinct = 100_000
	if distinct < 2*MaxLoginKeys {
		t.Fatalf("%d keys would not overflow MaxLoginKeys = %d twice", distinct, MaxLoginKeys)
	}
	now := time.Now()
	l := newFailureLimiter(MaxLoginKeys, func() time.Time { return now })
	var before, after runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&before)
	for i := range distinct {
		l.fail(fmt.Sprintf("ip:198.51.%d.%d", i/256, i%256), fmt.Sprintf("email:user%d@example.com", i))
		if n := l.failures.Len(); n > MaxLoginKeys {
			t.Fatalf("after %d logins the limiter holds %d keys, want at most %d", i+1, n, MaxLoginKeys)
		}
	}
	runtime.GC()
	runtime.ReadMemStats(&after)
	t.Logf("%d keys held after %d distinct logins: %.1f MB of heap", l.failures.Len(), distinct, float64(after.HeapAlloc-before.HeapAlloc)/1e6)
	if n := l.failures.Len(); n != MaxLoginKeys {
		t.Errorf("limiter holds %d keys, want exactly MaxLoginKeys = %d (the most recent)", n, MaxLoginKeys)
	}
	if _, ok := l.failures.Peek(fmt.Sprintf("email:user%d@example.com", distinct-1)); !ok {
		t.Errorf("the most recent key was forgotten")
	}
	if _, ok := l.failures.Peek("email:user0@example.com"); ok {
		t.Errorf("the oldest key is still held past the bound")
	}

	victim := "email:victim@example.com"
	for i := range MaxLoginFailures {
		if blocked, _ := l.blocked(victim); blocked {
			t.Fatalf("blocked after %d failures, want after %d", i, MaxLoginFailures)
		}
		l.fail(victim)
	}
	blocked, wait := l.blocked(victim)
	if !blocked || wait <= 0 || wait > LoginFailureWindow {
		t.Fatalf("after %d failures: blocked %v for %v, want blocked up to %v", MaxLoginFailures, blocked, wait, LoginFailureWindow)
	}
	now = now.Add(LoginFailureWindow)
	if blocked, _ := l.blocked(victim); blocked {
		t.Errorf("still blocked once the window has passed")
	}
}

// TestForgedForwardedForIsIgnored: with no trusted proxy (the default),
// failed logins for 12 emails, each with a different forged
// X-Forwarded-For, all count against the one TCP peer, which is throttled
// after MaxLoginFailures. Trusting that peer as a proxy shows the header
// is what would otherwise have spread them over 12 addresses.
func TestForgedForwardedForIsIgnored(t *testing.T) {
	const attempts = MaxLoginFailures + 2
	for _, tc := range []struct {
		name    string
		proxies []string
		want    func(i int) int // status of attempt i (0-based)
	}{
		{"no trusted proxy", nil, func(i int) int {
			if i < MaxLoginFailures {
				return http.StatusUnauthorized
			}
			return http.StatusTooManyRequests
		}},
		// httptest's requests come from 192.0.2.1.
		{"the peer is a trusted proxy", []string{"192.0.2.0/24"}, func(int) int { return http.StatusUnauthorized }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// Real users, whose hashes have the tests' low bcrypt cost: an
			// unknown email is checked against a full-cost dummy hash.
			e := newEnv(t, func(c *config.Config) { c.TrustedProxies = tc.proxies }).withUsers()
			for i := range attempts {
				e.do("POST", "/api/v1/auth/register", e.tokens[apiserver.RoleAdmin],
					fmt.Sprintf(`{"email":"user%d@example.com","password":"password-%d"}`, i, i)).want(http.StatusCreated)
			}
			for i := range attempts {
				body := fmt.Sprintf(`{"email":"user%d@example.com","password":"wrong-password"}`, i)
				req := httptest.NewRequest("POST", "/api/v1/auth/login", strings.NewReader(body))
				req.Header.Set("Content-Type", "application/json")
				req.Header.Set("X-Forwarded-For", fmt.Sprintf("203.0.113.%d", i+1))
				w := httptest.NewRecorder()
				e.handler.ServeHTTP(w, req)
				if want := tc.want(i); w.Code != want {
					t.Errorf("attempt %d (X-Forwarded-For %s): %d, want %d; body %s", i+1, req.Header.Get("X-Forwarded-For"), w.Code, want, w.Body)
				}
			}
		})
	}
}

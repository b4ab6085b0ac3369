package httpapi

import (
	"sync"
	"time"
)

// Login throttling: after MaxLoginFailures failed logins within
// LoginFailureWindow, from one client address or for one email, further
// attempts are refused with 429 until the window has passed since the
// oldest of them. A success clears the email's failures.
const (
	MaxLoginFailures   = 10
	LoginFailureWindow = 5 * time.Minute
)

// failureLimiter counts recent failures per key. It is in memory: each API
// server instance throttles on its own.
type failureLimiter struct {
	mu       sync.Mutex
	failures map[string][]time.Time
	now      func() time.Time
}

func newFailureLimiter(now func() time.Time) *failureLimiter {
	return &failureLimiter{failures: map[string][]time.Time{}, now: now}
}

// blocked reports whether any key has too many recent failures, and when
// the first of them frees up.
func (l *failureLimiter) blocked(keys ...string) (bool, time.Duration) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	var wait time.Duration
	for _, k := range keys {
		recent := l.prune(k, now)
		if len(recent) >= MaxLoginFailures {
			wait = max(wait, recent[0].Add(LoginFailureWindow).Sub(now))
		}
	}
	return wait > 0, wait
}

func (l *failureLimiter) fail(keys ...string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	now := l.now()
	for _, k := range keys {
		l.failures[k] = append(l.prune(k, now), now)
	}
}

func (l *failureLimiter) clear(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	delete(l.failures, key)
}

// prune drops k's failures older than the window (and k when none is left).
func (l *failureLimiter) prune(k string, now time.Time) []time.Time {
	ts := l.failures[k]
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= LoginFailureWindow {
		i++
	}
	ts = ts[i:]
	if len(ts) == 0 {
		delete(l.failures, k)
	} else {
		l.failures[k] = ts
	}
	return ts
}

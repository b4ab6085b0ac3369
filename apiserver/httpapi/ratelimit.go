package httpapi

import (
	"sync"
	"time"

	"github.com/hashicorp/golang-lru/v2/expirable"
)

// Login throttling: after MaxLoginFailures failed logins within
// LoginFailureWindow, from one client address or for one email, further
// attempts are refused with 429 until the window has passed since the
// oldest of them. A success clears the email's failures.
const (
	MaxLoginFailures   = 10
	LoginFailureWindow = 5 * time.Minute
	// MaxLoginKeys bounds how many addresses and emails the limiter
	// remembers: measured, 29 MB of heap when each holds MaxLoginFailures
	// failures, 14 MB when each holds one.
	// Beyond it the least recently used key is forgotten, so a client
	// must send this many failures from other addresses and emails
	// between two of its own attempts to escape its count.
	MaxLoginKeys = 50_000
)

// failureLimiter counts recent failures per key. It is in memory: each API
// server instance throttles on its own. Its methods are safe for
// concurrent use.
type failureLimiter struct {
	mu sync.Mutex // makes each read-prune-write of a key's failures atomic
	// failures holds each key's failure times, oldest first. A key leaves
	// it LoginFailureWindow after its last failure, when it has nothing
	// left to count, or when MaxLoginKeys newer keys push it out.
	failures *expirable.LRU[string, []time.Time]
	now      func() time.Time // the clock failures are stamped and pruned with
}

func newFailureLimiter(maxKeys int, now func() time.Time) *failureLimiter {
	return &failureLimiter{failures: expirable.NewLRU[string, []time.Time](maxKeys, nil, LoginFailureWindow), now: now}
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
		l.failures.Add(k, append(l.prune(k, now), now))
	}
}

func (l *failureLimiter) clear(key string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.failures.Remove(key)
}

// prune drops k's failures older than the window (and k when none is left).
func (l *failureLimiter) prune(k string, now time.Time) []time.Time {
	ts, _ := l.failures.Get(k)
	i := 0
	for i < len(ts) && now.Sub(ts[i]) >= LoginFailureWindow {
		i++
	}
	if i == 0 {
		return ts
	}
	ts = ts[i:]
	if len(ts) == 0 {
		l.failures.Remove(k)
	} else {
		l.failures.Add(k, ts)
	}
	return ts
}

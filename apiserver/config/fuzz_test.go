package config

import (
	"testing"
)

// FuzzFromEnv: any environment is accepted or refused with an error, never
// a panic; an accepted one meets every bound FromEnv promises.
func FuzzFromEnv(f *testing.F) {
	f.Add("0123456789abcdef0123456789abcdef", "1h", "https://ui.example.com", "1048576", "127.0.0.1:8080", "false", "30s")
	f.Add("secret", "0s", "javascript:alert(1)", "-5", "nohost", "maybe", "-1s")
	f.Add("", "24h1ns", "http://a:1,http://b", "99999999999999999999", ":0", "true", "1ms")
	f.Fuzz(func(t *testing.T, secret, ttl, origins, maxBody, addr, dev, reconcile string) {
		env := map[string]string{"TRIBUTARY_JWT_SECRET": secret, "TRIBUTARY_JWT_TTL": ttl, "TRIBUTARY_CORS_ORIGINS": origins,
			"TRIBUTARY_MAX_BODY_BYTES": maxBody, "TRIBUTARY_HTTP_ADDR": addr, "TRIBUTARY_DEV": dev, "TRIBUTARY_RECONCILE_INTERVAL": reconcile}
		c, err := FromEnv(func(k string) string { return env[k] })
		if err != nil {
			return
		}
		switch {
		case len(c.JWTSecret) == 0:
			t.Fatal("accepted without a JWT secret")
		case !c.Dev && len(c.JWTSecret) < MinSecretBytes:
			t.Fatalf("accepted a %d-byte secret outside dev mode", len(c.JWTSecret))
		case c.JWTTTL < 60e9 || c.JWTTTL > 24*3600e9:
			t.Fatalf("accepted TTL %s", c.JWTTTL)
		case c.MaxBodyBytes < 1024 || c.MaxBodyBytes > 64<<20:
			t.Fatalf("accepted body limit %d", c.MaxBodyBytes)
		case c.ReconcileEvery < 0:
			t.Fatalf("accepted reconcile interval %s", c.ReconcileEvery)
		}
		for _, o := range c.CORSOrigins {
			if !validOrigin(o) {
				t.Fatalf("accepted origin %q", o)
			}
		}
	})
}

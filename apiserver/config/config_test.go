package config

import (
	"os"
	"strings"
	"testing"
	"time"
)

const goodSecret = "0123456789abcdef0123456789abcdef"

func TestFromEnv(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		wantErr string // substring; "" means valid
		check   func(t *testing.T, c Config)
	}{
		{name: "defaults with a secret", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret},
			check: func(t *testing.T, c Config) {
				if c.HTTPAddr != "127.0.0.1:8080" || c.JWTTTL != time.Hour || c.LegacyAnonymous || c.Dev {
					t.Errorf("defaults: %+v", c)
				}
			}},
		{name: "missing secret outside dev", env: map[string]string{}, wantErr: "TRIBUTARY_JWT_SECRET is required"},
		{name: "short secret outside dev", env: map[string]string{"TRIBUTARY_JWT_SECRET": "short"}, wantErr: "at least 32 bytes"},
		{name: "default secret refused even in dev", env: map[string]string{"TRIBUTARY_DEV": "true", "TRIBUTARY_JWT_SECRET": "changeme"}, wantErr: "well-known default"},
		{name: "dev without secret gets an ephemeral one", env: map[string]string{"TRIBUTARY_DEV": "true"},
			check: func(t *testing.T, c Config) {
				if !c.EphemeralSecret || len(c.JWTSecret) < MinSecretBytes {
					t.Errorf("ephemeral secret: %v %d", c.EphemeralSecret, len(c.JWTSecret))
				}
			}},
		{name: "bad bool", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_LEGACY_ANONYMOUS": "yes please"}, wantErr: "TRIBUTARY_LEGACY_ANONYMOUS"},
		{name: "bad addr", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_HTTP_ADDR": "8080"}, wantErr: "TRIBUTARY_HTTP_ADDR"},
		{name: "bad redis addr", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_REDIS_ADDR": "127.0.0.1:16379,127.0.0.1"}, wantErr: "TRIBUTARY_REDIS_ADDR redis address \"127.0.0.1\""},
		{name: "ttl out of bounds", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_JWT_TTL": "48h"}, wantErr: "TRIBUTARY_JWT_TTL"},
		{name: "bad log level", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_LOG_LEVEL": "loud"}, wantErr: "TRIBUTARY_LOG_LEVEL"},
		{name: "bad dsn does not echo it", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_MYSQL_DSN": "u:hunter2@nonsense"}, wantErr: "TRIBUTARY_MYSQL_DSN not a valid DSN"},
		{name: "legacy anonymous on", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_LEGACY_ANONYMOUS": "true"},
			check: func(t *testing.T, c Config) {
				if !c.LegacyAnonymous {
					t.Error("LegacyAnonymous not set")
				}
			}},
		{name: "cors origins", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_CORS_ORIGINS": " https://ui.example.com, http://localhost:5173 ,"},
			check: func(t *testing.T, c Config) {
				if strings.Join(c.CORSOrigins, "|") != "https://ui.example.com|http://localhost:5173" {
					t.Errorf("CORSOrigins = %q", c.CORSOrigins)
				}
			}},
		{name: "no cors origins by default", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret},
			check: func(t *testing.T, c Config) {
				if len(c.CORSOrigins) != 0 || c.KafkaTimeout != 5*time.Second {
					t.Errorf("CORSOrigins = %q, KafkaTimeout = %v", c.CORSOrigins, c.KafkaTimeout)
				}
			}},
		{name: "cors origin with a path", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_CORS_ORIGINS": "https://ui.example.com/app"}, wantErr: "TRIBUTARY_CORS_ORIGINS"},
		{name: "cors wildcard refused", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_CORS_ORIGINS": "*"}, wantErr: "TRIBUTARY_CORS_ORIGINS"},
		{name: "observability defaults", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret},
			check: func(t *testing.T, c Config) {
				if c.PrometheusURL != "" || c.AlertmanagerToken != "" || c.AlertWebhookURL != "" || c.AlertsRetention != 7*24*time.Hour {
					t.Errorf("observability defaults: %q %q %q %v", c.PrometheusURL, c.AlertmanagerToken, c.AlertWebhookURL, c.AlertsRetention)
				}
			}},
		{name: "observability set", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_PROMETHEUS_URL": "http://127.0.0.1:9090/",
			"TRIBUTARY_ALERTMANAGER_TOKEN": "0123456789abcdef", "TRIBUTARY_ALERT_WEBHOOK_URL": "https://hooks.slack.com/services/T/B/x",
			"TRIBUTARY_ALERTS_RETENTION": "48h"},
			check: func(t *testing.T, c Config) {
				if c.PrometheusURL != "http://127.0.0.1:9090" || c.AlertmanagerToken != "0123456789abcdef" ||
					c.AlertWebhookURL != "https://hooks.slack.com/services/T/B/x" || c.AlertsRetention != 48*time.Hour {
					t.Errorf("observability: %q %q %q %v", c.PrometheusURL, c.AlertmanagerToken, c.AlertWebhookURL, c.AlertsRetention)
				}
			}},
		{name: "no jaeger ui by default", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret},
			check: func(t *testing.T, c Config) {
				if c.JaegerUIURL != "" || c.JaegerQueryURL != "http://127.0.0.1:16686" {
					t.Errorf("JaegerUIURL = %q, JaegerQueryURL = %q", c.JaegerUIURL, c.JaegerQueryURL)
				}
			}},
		{name: "jaeger ui set", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_JAEGER_UI_URL": "https://jaeger.example/"},
			check: func(t *testing.T, c Config) {
				if c.JaegerUIURL != "https://jaeger.example" {
					t.Errorf("JaegerUIURL = %q", c.JaegerUIURL)
				}
			}},
		{name: "jaeger ui url", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_JAEGER_UI_URL": "jaeger.example"}, wantErr: "TRIBUTARY_JAEGER_UI_URL"},
		{name: "prometheus url", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_PROMETHEUS_URL": "127.0.0.1:9090"}, wantErr: "TRIBUTARY_PROMETHEUS_URL"},
		{name: "webhook url is not echoed", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_ALERT_WEBHOOK_URL": "hooks.example.com/hunter2"}, wantErr: "TRIBUTARY_ALERT_WEBHOOK_URL"},
		{name: "short alertmanager token", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_ALERTMANAGER_TOKEN": "hunter2"}, wantErr: "TRIBUTARY_ALERTMANAGER_TOKEN"},
		{name: "alerts retention", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_ALERTS_RETENTION": "10m"}, wantErr: "TRIBUTARY_ALERTS_RETENTION"},
		{name: "no trusted proxies by default", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret},
			check: func(t *testing.T, c Config) {
				if c.TrustedProxies != nil {
					t.Errorf("TrustedProxies = %q, want none", c.TrustedProxies)
				}
			}},
		{name: "trusted proxies", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_TRUSTED_PROXIES": " 10.0.0.0/8, 127.0.0.1 ,::1,fd00::/8,"},
			check: func(t *testing.T, c Config) {
				if strings.Join(c.TrustedProxies, "|") != "10.0.0.0/8|127.0.0.1|::1|fd00::/8" {
					t.Errorf("TrustedProxies = %q", c.TrustedProxies)
				}
			}},
		{name: "trusted proxy not an address", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_TRUSTED_PROXIES": "proxy.example.com"}, wantErr: `TRIBUTARY_TRUSTED_PROXIES "proxy.example.com" is not an IP`},
		{name: "trusted proxy bad prefix", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_TRUSTED_PROXIES": "10.0.0.0/33"}, wantErr: "TRIBUTARY_TRUSTED_PROXIES"},
		{name: "trusted proxy with a zone", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_TRUSTED_PROXIES": "fe80::1%eth0"}, wantErr: "TRIBUTARY_TRUSTED_PROXIES"},
		{name: "kafka timeout out of bounds", env: map[string]string{"TRIBUTARY_JWT_SECRET": goodSecret, "TRIBUTARY_KAFKA_TIMEOUT": "1ms"}, wantErr: "TRIBUTARY_KAFKA_TIMEOUT"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := FromEnv(func(k string) string { return tt.env[k] })
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want it to contain %q", err, tt.wantErr)
				}
				if strings.Contains(err.Error(), "hunter2") {
					t.Fatalf("error leaks the password: %v", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if tt.check != nil {
				tt.check(t, c)
			}
		})
	}
}

func TestRedactedDSN(t *testing.T) {
	c := Config{MySQLDSN: "u:hunter2@tcp(127.0.0.1:3306)/db"}
	if got := c.RedactedDSN(); strings.Contains(got, "hunter2") {
		t.Fatalf("RedactedDSN = %q", got)
	}
}

// TestEveryVariableIsDocumented: docs/configuration.md lists every
// variable FromEnv reads.
func TestEveryVariableIsDocumented(t *testing.T) {
	doc, err := os.ReadFile("../../docs/configuration.md")
	if err != nil {
		t.Fatal(err)
	}
	for _, v := range Vars {
		if !strings.Contains(string(doc), "| `"+v.Name+"` |") {
			t.Errorf("docs/configuration.md has no line for %s", v.Name)
		}
	}
}

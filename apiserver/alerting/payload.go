package alerting

import (
	"fmt"
	"time"

	"github.com/tributary-etl/tributary/apiserver"
)

// Payload is Alertmanager's webhook body, version 4
// (https://prometheus.io/docs/alerting/latest/configuration/#webhook_config).
// Times are strings so that a bad one is reported with its field.
type Payload struct {
	Version           string            `json:"version"`
	GroupKey          string            `json:"groupKey"`
	TruncatedAlerts   int               `json:"truncatedAlerts"`
	Status            string            `json:"status"`
	Receiver          string            `json:"receiver"`
	GroupLabels       map[string]string `json:"groupLabels"`
	CommonLabels      map[string]string `json:"commonLabels"`
	CommonAnnotations map[string]string `json:"commonAnnotations"`
	ExternalURL       string            `json:"externalURL"`
	Alerts            []PayloadAlert    `json:"alerts"`
}

// PayloadAlert is one alert of a Payload.
type PayloadAlert struct {
	Status       string            `json:"status"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     string            `json:"startsAt"`
	EndsAt       string            `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
	Fingerprint  string            `json:"fingerprint"`
}

// Statuses of an alert, as Alertmanager names them.
const (
	StatusFiring   = "firing"
	StatusResolved = "resolved"
)

// Labels and annotations with a column of their own.
const (
	LabelName          = "alertname"
	LabelSeverity      = "severity"
	LabelWorker        = "worker"
	AnnotationSummary  = "summary"
	AnnotationDesc     = "description"
	PayloadVersion     = "4"
	maxFingerprintSize = 64  // Alertmanager's are 16 hex digits
	maxNameSize        = 255 // the name and worker columns
	maxSeveritySize    = 64
)

// Alert is one alert occurrence as stored and listed.
type Alert struct {
	ID           int64             `json:"id"`
	Fingerprint  string            `json:"fingerprint"`
	Name         string            `json:"name"`
	Status       string            `json:"status"`
	Severity     string            `json:"severity"`
	Worker       string            `json:"worker"`
	Summary      string            `json:"summary"`
	Description  string            `json:"description"`
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	GeneratorURL string            `json:"generator_url"`
	StartsAt     time.Time         `json:"starts_at"`
	EndsAt       *time.Time        `json:"ends_at"` // null while firing with no end known
	UpdatedAt    time.Time         `json:"updated_at"`
}

// Parse validates p and returns its alerts, in order. A malformed payload
// is a CodeBadRequest *apiserver.Error whose Field is the JSON path of
// the first fault.
func Parse(p Payload) ([]Alert, error) {
	bad := func(field, format string, args ...any) error {
		return apiserver.FieldErrorf(apiserver.CodeBadRequest, field, format, args...)
	}
	if p.Version != "" && p.Version != PayloadVersion {
		return nil, bad("version", "must be %q (Alertmanager's webhook payload version), not %q", PayloadVersion, p.Version)
	}
	if p.Status != "" && p.Status != StatusFiring && p.Status != StatusResolved {
		return nil, bad("status", "must be %q or %q", StatusFiring, StatusResolved)
	}
	if p.Alerts == nil {
		return nil, bad("alerts", "is required: the list of alerts")
	}
	out := make([]Alert, 0, len(p.Alerts))
	for i, pa := range p.Alerts {
		at := func(f string) string { return fmt.Sprintf("alerts[%d].%s", i, f) }
		if pa.Status != StatusFiring && pa.Status != StatusResolved {
			return nil, bad(at("status"), "must be %q or %q", StatusFiring, StatusResolved)
		}
		if pa.Fingerprint == "" || len(pa.Fingerprint) > maxFingerprintSize {
			return nil, bad(at("fingerprint"), "must be 1 to %d characters", maxFingerprintSize)
		}
		a := Alert{Fingerprint: pa.Fingerprint, Status: pa.Status, GeneratorURL: pa.GeneratorURL,
			Labels: orEmpty(pa.Labels), Annotations: orEmpty(pa.Annotations)}
		a.Name, a.Severity, a.Worker = a.Labels[LabelName], a.Labels[LabelSeverity], a.Labels[LabelWorker]
		a.Summary, a.Description = a.Annotations[AnnotationSummary], a.Annotations[AnnotationDesc]
		switch {
		case a.Name == "" || len(a.Name) > maxNameSize:
			return nil, bad(at("labels."+LabelName), "must be 1 to %d characters", maxNameSize)
		case len(a.Severity) > maxSeveritySize:
			return nil, bad(at("labels."+LabelSeverity), "must be at most %d characters", maxSeveritySize)
		case len(a.Worker) > maxNameSize:
			return nil, bad(at("labels."+LabelWorker), "must be at most %d characters", maxNameSize)
		}
		start, err := parseTime(pa.StartsAt)
		if err != nil || !storable(start) {
			return nil, bad(at("startsAt"), "must be an RFC 3339 time such as 2024-05-01T12:00:00Z")
		}
		a.StartsAt = start
		end, err := parseTime(pa.EndsAt)
		if err != nil || (!end.IsZero() && !storable(end)) {
			return nil, bad(at("endsAt"), "must be an RFC 3339 time, or 0001-01-01T00:00:00Z for none")
		}
		if !end.IsZero() { // Alertmanager sends the zero time for "no end"
			a.EndsAt = &end
		}
		out = append(out, a)
	}
	return out, nil
}

// parseTime reads an RFC 3339 time in UTC; "" is the zero time.
func parseTime(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return t, err
	}
	if t.Year() <= 1 {
		return time.Time{}, nil
	}
	return t.UTC(), nil
}

// storable reports whether t is a time an alert can have and a DATETIME
// column can hold.
func storable(t time.Time) bool { return t.Year() >= 1970 && t.Year() <= 9999 }

func orEmpty(m map[string]string) map[string]string {
	if m == nil {
		return map[string]string{}
	}
	return m
}

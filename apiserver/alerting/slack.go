package alerting

import (
	"strings"
	"time"
)

// slackMessage is Slack's incoming-webhook message with one legacy
// attachment, the shape Mattermost and Rocket.Chat accept as well.
type slackMessage struct {
	Text        string            `json:"text"`
	Attachments []slackAttachment `json:"attachments"`
}

type slackAttachment struct {
	Fallback  string       `json:"fallback"`
	Color     string       `json:"color"`
	Title     string       `json:"title"`
	TitleLink string       `json:"title_link,omitempty"`
	Text      string       `json:"text"`
	Fields    []slackField `json:"fields"`
	Footer    string       `json:"footer"`
	TS        int64        `json:"ts"`
}

type slackField struct {
	Title string `json:"title"`
	Value string `json:"value"`
	Short bool   `json:"short"`
}

// Colors of the attachment bar: hex, because Mattermost and Rocket.Chat
// do not know Slack's "good" and "danger".
const (
	colorCritical = "#d32f2f"
	colorFiring   = "#f9a825" // any other severity
	colorResolved = "#2e7d32"
)

// message renders a as the chat message, e.g. text "[FIRING] LagGrowing on
// worker orders: lag grew for 10m".
func message(a Alert) slackMessage {
	head := "[" + strings.ToUpper(a.Status) + "] " + a.Name
	if a.Worker != "" {
		head += " on worker " + a.Worker
	}
	text := head
	if a.Summary != "" {
		text += ": " + a.Summary
	}
	color := colorFiring
	switch {
	case a.Status == StatusResolved:
		color = colorResolved
	case a.Severity == "critical":
		color = colorCritical
	}
	body := a.Description
	if body == "" {
		body = a.Summary
	}
	fields := []slackField{{"Status", a.Status, true}}
	if a.Severity != "" {
		fields = append(fields, slackField{"Severity", a.Severity, true})
	}
	if a.Worker != "" {
		fields = append(fields, slackField{"Worker", a.Worker, true})
	}
	fields = append(fields, slackField{"Started", a.StartsAt.UTC().Format(time.RFC3339), true})
	if a.Status == StatusResolved && a.EndsAt != nil {
		fields = append(fields, slackField{"Ended", a.EndsAt.UTC().Format(time.RFC3339), true})
	}
	ts := a.StartsAt
	if a.EndsAt != nil && a.Status == StatusResolved {
		ts = *a.EndsAt
	}
	return slackMessage{Text: text, Attachments: []slackAttachment{{
		Fallback: text, Color: color, Title: head, TitleLink: a.GeneratorURL, Text: body,
		Fields: fields, Footer: "Tributary", TS: ts.Unix(),
	}}}
}

package httpapi

import (
	"crypto/subtle"
	"net/http"
	"strconv"
	"strings"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/alerting"
)

func (s *Server) mountAlerts(v1 *gin.RouterGroup) {
	v1.POST("/alerts/webhook", s.alertmanager, s.alertWebhook)
	v1.GET("/alerts", s.require(apiserver.RoleViewer), s.listAlerts)
}

// alertmanager lets through requests bearing TRIBUTARY_ALERTMANAGER_TOKEN
// (compared in constant time). Users' tokens do not open the webhook, and
// the token opens nothing else.
func (s *Server) alertmanager(c *gin.Context) {
	want := s.cfg.AlertmanagerToken
	if want == "" {
		s.fail(c, apiserver.Errorf(apiserver.CodeUnavailable, "the alert webhook is not configured on this server: "+
			"set TRIBUTARY_ALERTMANAGER_TOKEN, and the same token as the credentials of Alertmanager's webhook_config"))
		return
	}
	scheme, token, ok := strings.Cut(c.GetHeader("Authorization"), " ")
	if !ok || !strings.EqualFold(scheme, "Bearer") || subtle.ConstantTimeCompare([]byte(strings.TrimSpace(token)), []byte(want)) != 1 {
		s.fail(c, apiserver.Errorf(apiserver.CodeUnauthenticated, "the webhook needs Authorization: Bearer <TRIBUTARY_ALERTMANAGER_TOKEN>"))
		return
	}
	c.Next()
}

// alertWebhook takes Alertmanager's notification. A 4xx tells it the
// payload is wrong (it does not retry); a 5xx makes it retry, which
// changes nothing already stored.
func (s *Server) alertWebhook(c *gin.Context) {
	var p alerting.Payload
	if err := s.decodeLenient(c, &p); err != nil {
		s.fail(c, err)
		return
	}
	res, err := s.receiver.Receive(c.Request.Context(), p)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, res)
}

// alertsJSON answers GET /alerts.
type alertsJSON struct {
	Alerts []alerting.Alert `json:"alerts"`
}

func (s *Server) listAlerts(c *gin.Context) {
	state, err := alerting.ParseState(c.Query("state"))
	if err != nil {
		s.fail(c, err)
		return
	}
	f := alerting.Filter{State: state, Worker: c.Query("worker")}
	if v, set := c.GetQuery("limit"); set {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > alerting.MaxLimit {
			s.fail(c, apiserver.FieldErrorf(apiserver.CodeBadRequest, "limit", "must be an integer from 1 to %d", alerting.MaxLimit))
			return
		}
		f.Limit = n
	}
	as, err := s.alerts.List(c.Request.Context(), f)
	if err != nil {
		s.fail(c, err)
		return
	}
	c.JSON(http.StatusOK, alertsJSON{as})
}

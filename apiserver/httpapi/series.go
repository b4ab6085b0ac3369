package httpapi

import (
	"errors"
	"net/http"
	"time"

	"github.com/gin-gonic/gin"

	"github.com/tributary-etl/tributary/apiserver"
	"github.com/tributary-etl/tributary/apiserver/series"
)

func (s *Server) mountSeries(v1 *gin.RouterGroup) {
	v1.GET("/workers/:id/series", s.require(apiserver.RoleViewer), s.workerSeries)
}

// workerSeries answers one of a worker's series over a range ending now,
// from Prometheus (see package series for the queries).
func (s *Server) workerSeries(c *gin.Context) {
	req, err := series.ParseRequest("", c.Query("metric"), c.Query("range"), c.Query("step"))
	if err != nil {
		s.fail(c, err)
		return
	}
	w, ok := s.monitoredWorker(c)
	if !ok {
		return
	}
	if s.series == nil {
		s.fail(c, apiserver.Errorf(apiserver.CodeUnavailable,
			"Prometheus is not configured on this server: set TRIBUTARY_PROMETHEUS_URL to its HTTP API, such as http://127.0.0.1:9090"))
		return
	}
	req.Worker = w.ConsumerName
	res, err := s.series.Range(c.Request.Context(), req, time.Now())
	if err != nil {
		s.fail(c, prometheusError(err))
		return
	}
	c.JSON(http.StatusOK, res)
}

// prometheusError is the 503 of a Prometheus that did not answer; any
// other failure is this server's (a query Prometheus refused).
func prometheusError(err error) error {
	if errors.Is(err, series.ErrUnavailable) {
		return &apiserver.Error{Code: apiserver.CodeUnavailable, Message: err.Error(), Err: err}
	}
	return err
}

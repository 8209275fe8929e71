package server

import (
	"net/http"
	"strconv"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"golang.org/x/time/rate"

	"github.com/orthocds/orthocds"
)

// metrics are the server's Prometheus series: per route pattern, never
// per URL, so no request value reaches them.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	duration *prometheus.HistogramVec
	limited  prometheus.Counter
	// cdsRefused counts CDS Hooks calls refused at the trust boundary,
	// by reason (a fixed set: see refusedNoCredentials and the rest).
	cdsRefused *prometheus.CounterVec
}

func newMetrics() *metrics {
	m := &metrics{reg: prometheus.NewRegistry(),
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "orthocds_http_requests_total",
			Help: "HTTP requests by route pattern, method and status."}, []string{"route", "method", "status"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{Name: "orthocds_http_request_duration_seconds",
			Help: "HTTP request latency by route pattern.", Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30, 120}},
			[]string{"route"}),
		limited: prometheus.NewCounter(prometheus.CounterOpts{Name: "orthocds_rate_limited_total",
			Help: "Requests refused because their caller exceeded the rate limit."}),
		cdsRefused: prometheus.NewCounterVec(prometheus.CounterOpts{Name: "orthocds_cds_refused_total",
			Help: "CDS Hooks calls refused at the trust boundary, by reason."}, []string{"reason"}),
	}
	m.reg.MustRegister(m.requests, m.duration, m.limited, m.cdsRefused,
		collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

func (m *metrics) observe(route, method string, status int, d time.Duration) {
	m.requests.WithLabelValues(route, method, strconv.Itoa(status)).Inc()
	m.duration.WithLabelValues(route).Observe(d.Seconds())
}

func (s *Server) metricsHandler(w http.ResponseWriter, r *http.Request) error {
	promhttp.HandlerFor(s.metrics.reg, promhttp.HandlerOpts{}).ServeHTTP(w, r)
	return nil
}

// limiter holds one token bucket per caller.
type limiter struct {
	mu      sync.Mutex
	perSec  rate.Limit
	burst   int
	callers map[string]*rate.Limiter
}

// allow reports whether caller may make a request now.
func (l *limiter) allow(caller string) bool {
	l.mu.Lock()
	b, ok := l.callers[caller]
	if !ok {
		b = rate.NewLimiter(l.perSec, l.burst)
		l.callers[caller] = b
	}
	l.mu.Unlock()
	return b.Allow()
}

func rateLimited() error {
	return orthocds.Errorf(orthocds.ERATELIMITED, "too many requests from this key; slow down and retry")
}

package server

import (
	"net/http"
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// metrics is the server's Prometheus registry: llama-server's llamacpp:*
// series, read from the backend's totals at each scrape, and a count of
// HTTP requests by endpoint and status. The registry is the server's own,
// not the process-wide default, so that servers (and tests) do not share
// counters.
type metrics struct {
	reg      *prometheus.Registry
	requests *prometheus.CounterVec
	handler  http.Handler
}

func newMetrics(s *Server) *metrics {
	m := &metrics{reg: prometheus.NewRegistry()}
	m.requests = prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "llamafile_http_requests_total",
		Help: "HTTP requests answered, by path and status.",
	}, []string{"path", "code"})
	m.reg.MustRegister(m.requests, &statsCollector{s: s})
	m.handler = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{})
	return m
}

// request counts a request; paths outside the API are counted together,
// so that scanners cannot grow the series without bound.
func (m *metrics) request(path string, status int) {
	if status == 0 {
		status = http.StatusOK
	}
	if status == http.StatusNotFound {
		path = "other"
	}
	m.requests.WithLabelValues(path, strconv.Itoa(status)).Inc()
}

var (
	descPromptTokens = prometheus.NewDesc("llamacpp:prompt_tokens_total", "Number of prompt tokens processed.", nil, nil)
	descPromptSecs   = prometheus.NewDesc("llamacpp:prompt_seconds_total", "Prompt process time.", nil, nil)
	descGenTokens    = prometheus.NewDesc("llamacpp:tokens_predicted_total", "Number of generation tokens processed.", nil, nil)
	descGenSecs      = prometheus.NewDesc("llamacpp:tokens_predicted_seconds_total", "Predict process time.", nil, nil)
	descDecodes      = prometheus.NewDesc("llamacpp:n_decode_total", "Total number of llama_decode() calls.", nil, nil)
	descPromptRate   = prometheus.NewDesc("llamacpp:prompt_tokens_seconds", "Average prompt throughput in tokens/s.", nil, nil)
	descGenRate      = prometheus.NewDesc("llamacpp:predicted_tokens_seconds", "Average generation throughput in tokens/s.", nil, nil)
	descProcessing   = prometheus.NewDesc("llamacpp:requests_processing", "Number of requests processing.", nil, nil)
	descDeferred     = prometheus.NewDesc("llamacpp:requests_deferred", "Number of requests deferred (waiting for a slot).", nil, nil)
	descFinished     = prometheus.NewDesc("llamafile_requests_finished_total", "Generations and embeddings finished.", nil, nil)
	descKVUsed       = prometheus.NewDesc("llamacpp:kv_cache_tokens", "KV-cache tokens in use.", nil, nil)
	descKVRatio      = prometheus.NewDesc("llamacpp:kv_cache_usage_ratio", "KV-cache usage. 1 means 100 percent usage.", nil, nil)
)

// statsCollector reads the backend's totals at scrape time.
type statsCollector struct{ s *Server }

func (c *statsCollector) Describe(ch chan<- *prometheus.Desc) {
	for _, d := range []*prometheus.Desc{descPromptTokens, descPromptSecs, descGenTokens, descGenSecs, descDecodes,
		descPromptRate, descGenRate, descProcessing, descDeferred, descFinished, descKVUsed, descKVRatio} {
		ch <- d
	}
}

func (c *statsCollector) Collect(ch chan<- prometheus.Metric) {
	if c.s.backend() == nil {
		return
	}
	st := c.s.backend().Stats()
	counter := func(d *prometheus.Desc, v float64) {
		ch <- prometheus.MustNewConstMetric(d, prometheus.CounterValue, v)
	}
	gauge := func(d *prometheus.Desc, v float64) { ch <- prometheus.MustNewConstMetric(d, prometheus.GaugeValue, v) }
	counter(descPromptTokens, float64(st.PromptTokens))
	counter(descPromptSecs, st.PromptTime.Seconds())
	counter(descGenTokens, float64(st.GeneratedTokens))
	counter(descGenSecs, st.GenerateTime.Seconds())
	counter(descDecodes, float64(st.Decodes))
	counter(descFinished, float64(st.RequestsFinished))
	rate := func(n int64, secs float64) float64 {
		if secs <= 0 {
			return 0
		}
		return float64(n) / secs
	}
	gauge(descPromptRate, rate(st.PromptTokens, st.PromptTime.Seconds()))
	gauge(descGenRate, rate(st.GeneratedTokens, st.GenerateTime.Seconds()))
	gauge(descProcessing, float64(st.Busy))
	gauge(descDeferred, float64(st.Queued))
	gauge(descKVUsed, float64(st.KVUsed))
	ratio := 0.0
	if st.KVSize > 0 {
		ratio = float64(st.KVUsed) / float64(st.KVSize)
	}
	gauge(descKVRatio, ratio)
}

func (s *Server) serveMetrics(w http.ResponseWriter, r *http.Request) error {
	if !s.cfg.Metrics {
		return &apiError{Status: http.StatusNotImplemented, Type: "not_supported_error",
			Message: "this server does not serve /metrics: start it with --metrics"}
	}
	s.metrics.handler.ServeHTTP(w, r)
	return nil
}

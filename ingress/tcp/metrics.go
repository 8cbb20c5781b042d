package tcp

import (
	"github.com/VictoriaMetrics/metrics"

	"github.com/sluicehq/sluice/wire/frame"
)

// errorCounter counts Error frames sent, by code.
func errorCounter(code frame.Code) *metrics.Counter {
	return metrics.GetOrCreateCounter(`sluice_tcp_errors_total{code="` + code.String() + `"}`)
}

// Process-wide counters of the TCP ingest port (all servers of the
// process together).
var (
	connsTotal        = metrics.NewCounter(`sluice_tcp_connections_total`)
	putsTotal         = metrics.NewCounter(`sluice_tcp_puts_total`)
	recordsTotal      = metrics.NewCounter(`sluice_tcp_records_total`)
	recordBytesTotal  = metrics.NewCounter(`sluice_tcp_record_bytes_total`)
	dedupReplaysTotal = metrics.NewCounter(`sluice_tcp_dedup_replays_total`)
	windowPausesTotal = metrics.NewCounter(`sluice_tcp_backpressure_pauses_total{limit="window"}`)
	budgetPausesTotal = metrics.NewCounter(`sluice_tcp_backpressure_pauses_total{limit="global"}`)
)

package segment

import (
	"bytes"
	"os"
	"strconv"
	"sync/atomic"
	"time"
)

// Write-back gate for the prefill (append.go). Pieces of zeros written
// ahead make large folios that the data writes then fill cheaply; but while
// the kernel is writing dirty pages back, the same folios cost more than
// they save: measured on the sustained 8 GiB load, the prefill made sluice
// 5-35% slower, and the third pass of bench/RESULTS.md saw prefilled folios
// written back at 4-37k pages/s instead of 100-600k. So the prefill runs
// only while the system's dirty and under-write-back pages together stay
// under the background write-back threshold (the point at which the
// flusher threads start): bursts, not sustained streams.
//
// The state comes from /proc/vmstat, read at most once per
// writebackCheckEvery by whichever writer asks; without it (not Linux, no
// procfs) the write-back counts as quiet and the prefill runs as before.

// vmstatPath is /proc/vmstat; tests point it elsewhere.
var vmstatPath = "/proc/vmstat"

const writebackCheckEvery = 50 * time.Millisecond

var (
	writebackChecked atomic.Int64 // unix nanoseconds of the last read
	writebackIsBusy  atomic.Bool
)

// writebackBusy tells whether the kernel's write-back is running (see
// above), as of at most writebackCheckEvery ago.
func writebackBusy() bool {
	now := time.Now().UnixNano()
	last := writebackChecked.Load()
	if now-last >= int64(writebackCheckEvery) && writebackChecked.CompareAndSwap(last, now) {
		busy := false
		if b, err := os.ReadFile(vmstatPath); err == nil {
			busy = vmstatBusy(b)
		}
		writebackIsBusy.Store(busy)
	}
	return writebackIsBusy.Load()
}

// vmstatBusy tells from the text of /proc/vmstat whether nr_dirty +
// nr_writeback reach nr_dirty_background_threshold. Text without those
// three counters is not busy.
func vmstatBusy(b []byte) bool {
	var dirty, wb, bg int64
	var found uint8 // one bit per counter seen
	for len(b) > 0 {
		line := b
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			line, b = b[:i], b[i+1:]
		} else {
			b = nil
		}
		name, val, ok := bytes.Cut(line, []byte{' '})
		if !ok {
			continue
		}
		var dst *int64
		var bit uint8
		switch string(name) {
		case "nr_dirty":
			dst, bit = &dirty, 1
		case "nr_writeback":
			dst, bit = &wb, 2
		case "nr_dirty_background_threshold":
			dst, bit = &bg, 4
		default:
			continue
		}
		v, err := strconv.ParseInt(string(val), 10, 64)
		if err != nil || v < 0 || v > 1<<48 { // pages: far beyond any memory
			return false
		}
		*dst = v
		found |= bit
	}
	return found == 7 && bg > 0 && dirty+wb >= bg
}

package main

import (
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/bench/internal/stats"
	"github.com/sluicehq/sluice/wire/frame"
)

// loopChunkBytes is the write size of the loopback baseline: large enough
// that the per-call cost vanishes against the copy through the kernel.
const loopChunkBytes = 1 << 20

// loopRun is one loopback baseline run.
type loopRun struct {
	bytes int64
	secs  float64
	mbps  float64 // 10^6 bytes per second
}

// runLoopbackBaseline measures the machine's loopback TCP limit: conns
// plain TCP connections on 127.0.0.1 (Go's net package, no event loop),
// each written in loopChunkBytes writes for d while a reader per
// connection reads into a 1 MiB buffer and drops the bytes. The rate
// counts bytes the readers received.
func runLoopbackBaseline(conns int, d time.Duration) (loopRun, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return loopRun{}, fmt.Errorf("loopback baseline: %w", err)
	}
	defer ln.Close()
	var received atomic.Int64
	var wg sync.WaitGroup
	errs := make(chan error, 2*conns)
	go func() {
		for range conns {
			c, err := ln.Accept()
			if err != nil {
				errs <- err
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer c.Close()
				buf := make([]byte, 1<<20)
				for {
					n, err := c.Read(buf)
					received.Add(int64(n))
					if err != nil {
						if !errors.Is(err, io.EOF) {
							errs <- err
						}
						return
					}
				}
			}()
		}
	}()
	chunk := make([]byte, loopChunkBytes)
	for i := range chunk {
		chunk[i] = byte(i * 7)
	}
	clients := make([]net.Conn, 0, conns)
	defer func() {
		for _, c := range clients {
			_ = c.Close()
		}
	}()
	for range conns {
		c, err := net.Dial("tcp", ln.Addr().String())
		if err != nil {
			return loopRun{}, fmt.Errorf("loopback baseline: %w", err)
		}
		clients = append(clients, c)
	}
	start := time.Now()
	deadline := start.Add(d)
	var wwg sync.WaitGroup
	for _, c := range clients {
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for time.Now().Before(deadline) {
				if _, err := c.Write(chunk); err != nil {
					errs <- err
					return
				}
			}
			_ = c.(*net.TCPConn).CloseWrite()
		}()
	}
	wwg.Wait()
	wg.Wait()
	secs := time.Since(start).Seconds()
	select {
	case err := <-errs:
		return loopRun{}, fmt.Errorf("loopback baseline: %w", err)
	default:
	}
	r := loopRun{bytes: received.Load(), secs: secs}
	if r.bytes == 0 || secs <= 0 {
		return loopRun{}, errors.New("loopback baseline: nothing received")
	}
	r.mbps = float64(r.bytes) / secs / 1e6
	return r, nil
}

// putFrame returns the Put frame the binary client sends for one batch of
// scenario s (the gnet discard target writes it back to back).
func putFrame(s tcpScenario) []byte {
	data := make([]byte, s.size)
	p := frame.Put{BatchID: 1, Stream: "bench", Records: make([]frame.Record, s.batch)}
	for i := range p.Records {
		p.Records[i] = frame.Record{PartitionKey: []byte(apiload.PartitionKey(0, i)), Data: data}
	}
	return frame.AppendFrame(nil, frame.TypePut, 0, frame.AppendPut(nil, &p))
}

// wireBytesPerRecord is what one record of scenario s costs on the wire
// over the binary protocol, frame header and batch fields included.
func wireBytesPerRecord(s tcpScenario) float64 {
	return float64(len(putFrame(s))) / float64(s.batch)
}

// ofLoopback is the "of loopback" cell of a target: its wire bytes per
// second over the loopback limit, run by run (run i against round i's
// loopback baseline), median [min-max]; "-" for targets that do not send
// Put frames.
func ofLoopback(s tcpScenario, target string, runs []tcpRun, loopMBps []float64) string {
	if target != tcpBinary && target != tcpRaw && target != tcpNull && target != tcpDiscard || len(loopMBps) == 0 {
		return "-"
	}
	per := wireBytesPerRecord(s)
	wire := make([]float64, len(runs))
	for i, r := range runs {
		wire[i] = r.recs * per / 1e6
	}
	n := min(len(wire), len(loopMBps))
	return fmtSummary(stats.Summarize(stats.Ratios(wire[:n], loopMBps[:n])), func(v float64) string { return fmt.Sprintf("%.2f", v) })
}

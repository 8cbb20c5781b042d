package main

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/bench/internal/apiload"
	"github.com/sluicehq/sluice/wire/frame"
)

// The pre-encoded binary load: the binary protocol driven the way the api
// suite drives the JSON API, with request bodies encoded once before the
// clock starts, so that the two protocols' server paths compare like for
// like. The sluicetcp rows show what the real client costs on top.

// rawPutFrames returns one Put frame per batch id 1..n for stream name:
// the records of scenario s, partition keys as the client load uses them.
func rawPutFrames(name string, s tcpScenario, data []byte, n int) [][]byte {
	out := make([][]byte, n)
	p := frame.Put{Stream: name, Records: make([]frame.Record, s.batch)}
	for k := range out {
		p.BatchID = uint64(k + 1)
		for i := range p.Records {
			p.Records[i] = frame.Record{PartitionKey: []byte(apiload.PartitionKey(k, i)), Data: data}
		}
		out[k] = frame.AppendFrame(nil, frame.TypePut, 0, frame.AppendPut(nil, &p))
	}
	return out
}

// rawInFlight is how many Puts a connection of rawLoad keeps unanswered at
// most (within the server's window): two, so that the server always has
// the next one while it answers one, without queueing that would only
// add latency.
const rawInFlight = 2

// rawLoad runs conns connections to addr until deadline, each keeping as
// as many pre-encoded Puts in flight as rawInFlight and the server's
// window allow, and
// checks every answer: an Ack of the batch id sent, with every record
// written. It returns the records acknowledged and the latency of every
// Put (send to Ack).
func rawLoad(addr string, conns int, frames [][]byte, batch int, deadline time.Time) (int64, []time.Duration, error) {
	var recs atomic.Int64
	var mu sync.Mutex
	var lats []time.Duration
	var firstErr error
	var wg sync.WaitGroup
	for c := range conns {
		wg.Add(1)
		go func() {
			defer wg.Done()
			l, err := rawConn(addr, frames, c, batch, deadline, &recs)
			mu.Lock()
			defer mu.Unlock()
			lats = append(lats, l...)
			if err != nil && firstErr == nil {
				firstErr = err
			}
		}()
	}
	wg.Wait()
	return recs.Load(), lats, firstErr
}

// rawConn is one connection of rawLoad; it sends frames[c%len],
// frames[(c+conns)%len], ... so that connections send different bodies.
func rawConn(addr string, frames [][]byte, c, batch int, deadline time.Time, recs *atomic.Int64) ([]time.Duration, error) {
	nc, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	defer nc.Close()
	br := bufio.NewReaderSize(nc, 256<<10)
	// No producer id: like the JSON API, no deduplication of resends.
	hello := frame.Hello{MinVersion: frame.Version, MaxVersion: frame.Version, ClientName: "sluice-bench"}
	if _, err := nc.Write(frame.AppendFrame(nil, frame.TypeHello, 0, frame.AppendHello(nil, &hello))); err != nil {
		return nil, err
	}
	typ, body, err := rawReadFrame(br, nil)
	if err != nil {
		return nil, fmt.Errorf("handshake: %w", err)
	}
	var ok frame.HelloOK
	if typ != frame.TypeHelloOK {
		return nil, fmt.Errorf("handshake: frame type 0x%02x, want HelloOK", typ)
	}
	if err := frame.DecodeHelloOK(body, &ok); err != nil {
		return nil, err
	}
	// Sender and reader share the window: the sender waits for room, the
	// reader gives it back with every Ack.
	type sent struct {
		id   uint64
		size int
		at   time.Time
	}
	inflight := make(chan sent, rawInFlight)
	var window sync.Mutex
	room := sync.NewCond(&window)
	avail := int64(ok.Window)
	done := make(chan struct{})
	var lats []time.Duration
	var readErr error
	go func() {
		defer close(done)
		var buf []byte
		for s := range inflight {
			var typ byte
			typ, buf, readErr = rawReadFrame(br, buf)
			if readErr != nil {
				return
			}
			if readErr = rawAckOK(typ, buf, s.id, batch); readErr != nil {
				return
			}
			lats = append(lats, time.Since(s.at))
			recs.Add(int64(batch))
			window.Lock()
			avail += int64(s.size)
			window.Unlock()
			room.Signal()
		}
	}()
	var sendErr error
	for k := c; time.Now().Before(deadline); k += 7 {
		f := frames[k%len(frames)]
		window.Lock()
		for (avail < int64(len(f)) || len(inflight) == rawInFlight) && readErr == nil {
			room.Wait()
		}
		avail -= int64(len(f))
		window.Unlock()
		if readErr != nil {
			break
		}
		inflight <- sent{id: uint64(k%len(frames) + 1), size: len(f), at: time.Now()}
		if _, sendErr = nc.Write(f); sendErr != nil {
			break
		}
	}
	close(inflight)
	<-done
	return lats, errors.Join(sendErr, readErr)
}

// rawReadFrame reads one frame into buf (grown as needed).
func rawReadFrame(r io.Reader, buf []byte) (byte, []byte, error) {
	var hb [frame.HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return 0, nil, err
	}
	h, err := frame.DecodeHeader(hb[:], frame.MaxBodySize)
	if err != nil {
		return 0, nil, err
	}
	if cap(buf) < int(h.Length) {
		buf = make([]byte, h.Length)
	}
	buf = buf[:h.Length]
	if _, err := io.ReadFull(r, buf); err != nil {
		return 0, nil, err
	}
	return h.Type, buf, h.CheckBody(buf)
}

// rawAckOK checks that an answer is the Ack of batch id with batch
// records, all written.
func rawAckOK(typ byte, body []byte, id uint64, batch int) error {
	if typ != frame.TypeAck {
		if typ == frame.TypeError {
			var e frame.Error
			if err := frame.DecodeError(body, &e); err == nil {
				return &e
			}
		}
		return fmt.Errorf("frame type 0x%02x, want Ack", typ)
	}
	var a frame.Ack
	if err := frame.DecodeAck(body, &a, batch); err != nil {
		return err
	}
	if a.BatchID != id || a.Count != batch {
		return fmt.Errorf("Ack of batch %d with %d records, want batch %d with %d", a.BatchID, a.Count, id, batch)
	}
	// DecodeAck checked that the groups cover every record once.
	for _, g := range a.Groups {
		if g.Code != frame.CodeOK {
			return fmt.Errorf("batch %d: %d records failed: %s %s", id, len(g.Indexes), g.Code, g.Message)
		}
	}
	return nil
}

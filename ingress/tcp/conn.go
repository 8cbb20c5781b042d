package tcp

import (
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/panjf2000/gnet/v2"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/frame"
)

// Connection phases.
const (
	phaseHello = iota
	phaseAuth
	phaseReady
	phaseDead // a fatal error was queued: input is discarded
)

// flowSlack is what a client may have buffered beyond its window in frames
// that do not count against it (Ping).
const flowSlack = 64 << 10

// connState is one connection. The fields above mu are owned by the
// connection's event loop; the queue is shared with the worker.
type connState struct {
	srv   *Server
	conn  gnet.Conn
	phase int
	nonce [frame.NonceSize]byte
	// producer is the Hello's producer id; zero disables deduplication.
	producer [frame.ProducerIDSize]byte
	dedupOn  bool

	// inflight is the bytes of this connection's Put frames decoded and not
	// yet answered (the worker subtracts them before writing the answer).
	inflight atomic.Int64
	// wantWake: the loop stopped decoding because the window is full; the
	// worker wakes the connection when it frees bytes.
	wantWake atomic.Bool
	// deadline (Unix ns) by which the handshake or the partial frame in the
	// buffer must be complete; 0 for none.
	deadline atomic.Int64

	// entries is the worker's scratch for the records of one store call
	// (putRun), reused from call to call.
	entries []stream.PutEntry

	mu      sync.Mutex
	queue   []*request
	closed  bool
	signal  chan struct{} // cap 1: the queue is not empty or closed
	stopped chan struct{} // closed by stop
}

// request is one answered frame, in connection order.
type request struct {
	bytes int64 // frame bytes counted against the windows (Put only)
	// Exactly one of:
	put   *frame.Put
	resp  []byte      // a ready answer frame (Pong, Error)
	fatal bool        // resp is fatal: close after writing it
	dedup *dedupEntry // with put: the entry to finish (fresh) or to wait for
	fresh bool        // dedup entry is ours to finish
	crc   uint32      // Put body CRC (for dedup mismatch)
	body  []byte      // the Put body copy the records alias
}

func newConnState(s *Server, c gnet.Conn) *connState {
	return &connState{srv: s, conn: c, signal: make(chan struct{}, 1), stopped: make(chan struct{})}
}

// enqueue hands r to the worker.
func (st *connState) enqueue(r *request) {
	st.mu.Lock()
	st.queue = append(st.queue, r)
	st.mu.Unlock()
	select {
	case st.signal <- struct{}{}:
	default:
	}
}

// stop ends the worker (OnClose).
func (st *connState) stop() {
	st.mu.Lock()
	if !st.closed {
		st.closed = true
		close(st.stopped)
	}
	st.mu.Unlock()
}

// fatal queues a fatal Error after what is already queued and discards all
// further input.
func (st *connState) fatal(code frame.Code, batch uint64, msg string) {
	st.phase = phaseDead
	st.deadline.Store(0)
	errorCounter(code).Inc()
	st.srv.cfg.Logger.Debug("tcp ingest: closing connection", "remote", st.conn.RemoteAddr(), "code", code.String(), "err", msg)
	e := frame.Error{BatchID: batch, Code: code, Fatal: true, Message: msg}
	st.enqueue(&request{resp: frame.AppendFrame(nil, frame.TypeError, 0, frame.AppendError(nil, &e)), fatal: true})
	_, _ = st.conn.Discard(st.conn.InboundBuffered())
}

// reply queues a non-fatal answer frame.
func (st *connState) reply(typ byte, body []byte) {
	st.enqueue(&request{resp: frame.AppendFrame(nil, typ, 0, body)})
}

func (st *connState) replyError(code frame.Code, batch uint64, msg string) {
	errorCounter(code).Inc()
	st.reply(frame.TypeError, frame.AppendError(nil, &frame.Error{BatchID: batch, Code: code, Message: msg}))
}

// onTraffic runs on the event loop: it decodes complete frames until the
// buffer holds none or a window is full. It never blocks.
func (st *connState) onTraffic() {
	c := st.conn
	s := st.srv
	if st.phase == phaseDead {
		_, _ = c.Discard(c.InboundBuffered())
		return
	}
	now := time.Now()
	if d := st.deadline.Load(); d != 0 && now.UnixNano() > d {
		what := "frame"
		if st.phase != phaseReady {
			what = "handshake"
		}
		st.fatal(frame.CodeTimeout, 0, fmt.Sprintf("the %s was not complete within %s", what, s.cfg.FrameTimeout))
		return
	}
	if s.draining.Load() {
		st.fatal(frame.CodeShuttingDown, 0, "the server is shutting down; reconnect and resend unacknowledged batches")
		return
	}
	if n := int64(c.InboundBuffered()); n > s.peakBuffered.Load() {
		s.peakBuffered.Store(n) // loops race here; a close estimate is enough
	}
	progressed, paused := false, false
	for st.phase != phaseDead {
		hb, err := c.Peek(frame.HeaderSize)
		if err != nil {
			break // partial header
		}
		h, err := frame.DecodeHeader(hb, uint32(s.cfg.MaxFrameBytes))
		if err != nil {
			st.fatal(frame.CodeOf(err), 0, err.Error())
			return
		}
		total := frame.HeaderSize + int(h.Length)
		if h.Type == frame.TypePut && st.phase == phaseReady {
			// Flow control before the body is read: the connection's window,
			// then the global budget.
			if st.inflight.Load()+int64(total) > int64(s.cfg.WindowBytes) {
				st.wantWake.Store(true)
				if st.inflight.Load()+int64(total) > int64(s.cfg.WindowBytes) {
					windowPausesTotal.Inc()
					paused = true
					break
				}
				st.wantWake.Store(false)
			}
			if c.InboundBuffered() < total {
				break
			}
			if !s.acquire(st, int64(total)) {
				budgetPausesTotal.Inc()
				paused = true
				break
			}
		} else if c.InboundBuffered() < total {
			break
		}
		fb, err := c.Peek(total)
		if err != nil {
			// Cannot happen (total bytes are buffered); give back what the
			// Put took so the budget cannot leak.
			if h.Type == frame.TypePut && st.phase == phaseReady {
				s.release(int64(total))
			}
			break
		}
		body := fb[frame.HeaderSize:]
		if h.Type == frame.TypePut && st.phase == phaseReady {
			st.inflight.Add(int64(total))
			st.handlePut(h, body, int64(total))
		} else {
			st.handleControl(h, body)
		}
		_, _ = c.Discard(total)
		progressed = true
	}
	if st.phase == phaseDead {
		return
	}
	buffered := c.InboundBuffered()
	switch {
	case paused:
		st.deadline.Store(0) // waiting on us, not on the client
		if int64(buffered)+st.inflight.Load() > int64(s.cfg.WindowBytes)+flowSlack {
			st.fatal(frame.CodeFlowControl, 0, fmt.Sprintf("%d bytes sent beyond the acknowledged ones, window %d", int64(buffered)+st.inflight.Load(), s.cfg.WindowBytes))
		}
	case buffered > 0:
		if progressed || st.deadline.Load() == 0 {
			st.deadline.Store(now.Add(s.cfg.FrameTimeout).UnixNano())
		}
	case st.phase == phaseReady:
		st.deadline.Store(0)
	}
}

// handleControl answers a frame other than a Put in the ready phase.
func (st *connState) handleControl(h frame.Header, body []byte) {
	s := st.srv
	if err := h.CheckBody(body); err != nil {
		if st.phase != phaseReady {
			st.fatal(frame.CodeChecksum, 0, err.Error())
		} else {
			st.replyError(frame.CodeChecksum, 0, err.Error())
		}
		return
	}
	switch {
	case st.phase == phaseHello && h.Type == frame.TypeHello:
		var hello frame.Hello
		if err := frame.DecodeHello(body, &hello); err != nil {
			st.fatal(frame.CodeMalformed, 0, err.Error())
			return
		}
		if hello.MinVersion > frame.Version || hello.MaxVersion < frame.Version {
			st.fatal(frame.CodeUnsupportedVersion, 0, fmt.Sprintf("client speaks versions %d to %d, the server speaks %d",
				hello.MinVersion, hello.MaxVersion, frame.Version))
			return
		}
		st.producer = hello.ProducerID
		st.dedupOn = hello.ProducerID != [frame.ProducerIDSize]byte{}
		ok := frame.HelloOK{Version: frame.Version, Window: uint32(s.cfg.WindowBytes),
			MaxFrame: uint32(s.cfg.MaxFrameBytes), MaxRecords: uint32(s.cfg.MaxRecords), Nonce: st.nonce}
		st.phase = phaseReady
		if len(s.cfg.Credentials) > 0 {
			ok.Flags |= frame.FlagAuthRequired
			st.phase = phaseAuth
		}
		st.reply(frame.TypeHelloOK, frame.AppendHelloOK(nil, &ok))
	case st.phase == phaseHello:
		st.fatal(frame.CodeUnexpectedFrame, 0, fmt.Sprintf("frame type 0x%02x before Hello", h.Type))
	case st.phase == phaseAuth && h.Type == frame.TypeAuth:
		var a frame.Auth
		if err := frame.DecodeAuth(body, &a); err != nil {
			st.fatal(frame.CodeMalformed, 0, err.Error())
			return
		}
		secret, known := s.cfg.Credentials[a.AccessKeyID]
		if !known || !frame.CheckAuthMAC(secret, st.nonce, a.AccessKeyID, a.MAC) {
			// One text for both: do not tell which key ids exist.
			st.fatal(frame.CodeAuthFailed, 0, "the access key id or the signature is invalid")
			return
		}
		st.phase = phaseReady
		st.reply(frame.TypeAuthOK, nil)
	case st.phase == phaseAuth && h.Type == frame.TypePut:
		st.fatal(frame.CodeAuthRequired, frame.PeekBatchID(body), "the server requires authentication: send Auth after HelloOK")
	case st.phase == phaseAuth:
		st.fatal(frame.CodeUnexpectedFrame, 0, fmt.Sprintf("frame type 0x%02x before Auth", h.Type))
	case h.Type == frame.TypePing:
		st.reply(frame.TypePong, body)
	case h.Type == frame.TypeHello || h.Type == frame.TypeAuth:
		st.fatal(frame.CodeUnexpectedFrame, 0, fmt.Sprintf("frame type 0x%02x after the handshake", h.Type))
	default:
		st.replyError(frame.CodeUnexpectedFrame, 0, fmt.Sprintf("unknown frame type 0x%02x", h.Type))
	}
}

// handlePut queues a Put for the worker. size is already counted in the
// windows; every path queues exactly one request that gives it back.
func (st *connState) handlePut(h frame.Header, raw []byte, size int64) {
	if err := h.CheckBody(raw); err != nil {
		st.enqueue(&request{bytes: size, resp: errorFrame(frame.CodeChecksum, 0, err.Error())})
		return
	}
	body := append([]byte(nil), raw...) // raw is gnet's buffer, valid until Discard
	p := putPool.Get().(*frame.Put)
	if err := frame.DecodePut(body, p, st.srv.cfg.MaxRecords); err != nil {
		releasePut(p)
		st.enqueue(&request{bytes: size, resp: errorFrame(frame.CodeMalformed, frame.PeekBatchID(body), err.Error())})
		return
	}
	putsTotal.Inc()
	recordsTotal.Add(len(p.Records))
	for i := range p.Records {
		recordBytesTotal.Add(len(p.Records[i].Data))
	}
	r := &request{bytes: size, put: p, body: body}
	if st.dedupOn && p.BatchID != 0 {
		r.crc = h.BodyCRC
		r.dedup, r.fresh = st.srv.dedup.begin(dedupKey{st.producer, p.BatchID}, h.BodyCRC)
	}
	st.enqueue(r)
}

// putPool holds decoded Puts (their Records slices); a request's Put goes
// back once its answer is built.
var putPool = sync.Pool{New: func() any { return new(frame.Put) }}

func releasePut(p *frame.Put) {
	if cap(p.Records) > 1<<16 {
		p.Records = nil
	}
	clear(p.Records[:cap(p.Records)])
	p.Records = p.Records[:0]
	putPool.Put(p)
}

func errorFrame(code frame.Code, batch uint64, msg string) []byte {
	errorCounter(code).Inc()
	return frame.AppendFrame(nil, frame.TypeError, 0, frame.AppendError(nil, &frame.Error{BatchID: batch, Code: code, Message: msg}))
}

// work runs the queue of one connection: Puts go to the store, answers go
// back in request order through AsyncWrite.
func (st *connState) work() {
	defer st.srv.workers.Done()
	var batch []*request
	for {
		select {
		case <-st.signal:
		case <-st.stopped:
		}
		st.mu.Lock()
		batch = append(batch[:0], st.queue...)
		clear(st.queue)
		st.queue = st.queue[:0]
		closed := st.closed
		st.mu.Unlock()
		if closed {
			st.drop(batch)
			return
		}
		if len(batch) > 0 {
			st.process(batch)
		}
	}
}

// drop gives back the budget of requests that will never be answered.
func (st *connState) drop(batch []*request) {
	for _, r := range batch {
		if r.dedup != nil && r.fresh {
			st.srv.dedup.finish(r.dedup, false, nil)
		}
		st.give(r.bytes)
	}
	st.mu.Lock()
	rest := st.queue
	st.queue = nil
	st.mu.Unlock()
	if len(rest) > 0 {
		st.drop(rest)
	}
}

// give returns n bytes to the connection's window and the global budget.
func (st *connState) give(n int64) {
	if n == 0 {
		return
	}
	st.inflight.Add(-n)
	st.srv.release(n)
	if st.wantWake.CompareAndSwap(true, false) {
		_ = st.conn.Wake(nil)
	}
}

// process answers batch in order with one write.
func (st *connState) process(batch []*request) {
	bp := outPool.Get().(*[]byte)
	out := (*bp)[:0]
	var freed int64
	fatal := false
	for i := 0; i < len(batch); {
		r := batch[i]
		if r.put == nil {
			out = append(out, r.resp...)
			freed += r.bytes
			fatal = fatal || r.fatal
			i++
			continue
		}
		// A run of fresh Puts to one stream goes to the store in one call.
		j := i + 1
		for j < len(batch) && batch[j].put != nil && (batch[j].dedup == nil || batch[j].fresh) &&
			(r.dedup == nil || r.fresh) && batch[j].put.Stream == r.put.Stream {
			j++
		}
		out = st.putRun(out, batch[i:j])
		for _, q := range batch[i:j] {
			freed += q.bytes
			releasePut(q.put)
			q.put, q.body = nil, nil
		}
		i = j
	}
	// Free the window before the answer can reach the client, so that a
	// client that sends on receiving an ack never exceeds the window as
	// the server counts it.
	st.give(freed)
	// gnet copies out into the connection's buffer or the socket before it
	// calls the callback, so the buffer goes back to the pool there.
	*bp = out
	if fatal {
		_ = st.conn.AsyncWrite(out, func(c gnet.Conn, _ error) error { putOut(bp); return c.Close() })
		return
	}
	if err := st.conn.AsyncWrite(out, func(gnet.Conn, error) error { putOut(bp); return nil }); err != nil {
		putOut(bp)
	}
}

// outPool holds answer buffers of process.
var outPool = sync.Pool{New: func() any { return new([]byte) }}

// putOut returns a buffer to outPool; very large ones are dropped.
func putOut(bp *[]byte) {
	if cap(*bp) > 8<<20 {
		*bp = nil
	}
	*bp = (*bp)[:0]
	outPool.Put(bp)
}

// putRun writes the records of run (Puts to one stream) and appends their
// answers to out.
// maxKeptEntries bounds connState.entries between store calls.
const maxKeptEntries = 1 << 16

func (st *connState) putRun(out []byte, run []*request) []byte {
	first := run[0]
	if first.dedup != nil && !first.fresh {
		// A resend of a batch this server has seen: wait for the first
		// attempt (it may still run on another connection) and replay.
		<-first.dedup.done
		if first.dedup.crc != first.crc {
			return append(out, errorFrame(frame.CodeBatchMismatch, first.put.BatchID,
				"the batch id was already used for other records by this producer")...)
		}
		if first.dedup.ok {
			dedupReplaysTotal.Inc()
			return frame.AppendFrame(out, frame.TypeAck, 0, first.dedup.resp)
		}
		first.dedup, first.fresh = nil, false // the first attempt failed: run again
	}
	n := 0
	for _, r := range run {
		n += len(r.put.Records)
	}
	entries := st.entries[:0]
	if cap(entries) < n {
		entries = make([]stream.PutEntry, 0, n)
	}
	defer func() {
		// The store keeps no reference to the entries; drop theirs to
		// the request bodies, and do not pin an unusually large array.
		clear(entries)
		if cap(entries) <= maxKeptEntries {
			st.entries = entries[:0]
		}
	}()
	for _, r := range run {
		for i := range r.put.Records {
			rec := &r.put.Records[i]
			// The strings alias the request's body copy, which nothing
			// writes to after decoding and which stays alive as long as
			// the strings do.
			entries = append(entries, stream.PutEntry{
				PartitionKey:    unsafeString(rec.PartitionKey),
				ExplicitHashKey: unsafeString(rec.ExplicitHashKey),
				Data:            rec.Data,
			})
		}
	}
	groups := groupsPool.Get().(*stream.PutGroups)
	defer putGroups(groups)
	err := st.srv.cfg.Store.PutRecordsGroups(first.put.Stream, entries, groups)
	if err != nil && len(run) > 1 && batchLocal(err) {
		// One batch's invalid record failed the merged call before anything
		// was written: answer each batch on its own.
		for _, r := range run {
			out = st.putRun(out, []*request{r})
		}
		return out
	}
	gs := groups.Groups
	// cur[g] is the first index of group g not yet answered: the indexes
	// of a group ascend, so each Put of the run takes the next stretch.
	var curBuf [16]int
	cur := curBuf[:0]
	if err == nil {
		cur = append(cur, make([]int, len(gs))...)
		// Size the answers once: an Ack is most of what goes back. An
		// index takes one byte, two beyond gaps of 128.
		out = slices.Grow(out, len(run)*(frame.HeaderSize+16+len(gs)*(10+stream.SeqNumDigits+24))+2*n)
	}
	off := 0
	for _, r := range run {
		k := len(r.put.Records)
		if err != nil {
			code, msg := st.batchError(first.put.Stream, err)
			if r.dedup != nil && r.fresh {
				st.srv.dedup.finish(r.dedup, false, nil)
			}
			out = append(out, errorFrame(code, r.put.BatchID, msg)...)
			continue
		}
		ng := 0
		for g := range gs {
			if cur[g] < len(gs[g].Indexes) && int(gs[g].Indexes[cur[g]]) < off+k {
				ng++
			}
		}
		start := len(out) + frame.HeaderSize
		out = append(out, make([]byte, frame.HeaderSize)...)
		out = frame.AppendAckHeader(out, r.put.BatchID, k, ng)
		for g := range gs {
			gr := &gs[g]
			a := cur[g]
			b := a
			for b < len(gr.Indexes) && int(gr.Indexes[b]) < off+k {
				b++
			}
			if b == a {
				continue
			}
			cur[g] = b
			if gr.Err != nil {
				code := frame.CodeInternal
				if errors.Is(gr.Err, stream.ErrThroughputExceeded) {
					code = frame.CodeThrottled
				}
				out = frame.AppendAckGroupError(out, b-a, code, gr.Err.Error())
			} else {
				// The one sequence number formatted: the stretch's first.
				sn := gr.First
				sn.Position += uint64(a)
				var buf [stream.SeqNumDigits]byte
				out = frame.AppendAckGroupOK(out, b-a, gr.ShardID, unsafeString(stream.AppendSeqNum(buf[:0], sn)))
			}
			out = frame.AppendAckIndexes(out, gr.Indexes[a:b], int32(off))
		}
		ackBody := out[start:]
		frame.AppendHeader(out[start-frame.HeaderSize:start-frame.HeaderSize], frame.TypeAck, 0, ackBody)
		if r.dedup != nil && r.fresh {
			st.srv.dedup.finish(r.dedup, true, append([]byte(nil), ackBody...))
		}
		off += k
	}
	return out
}

// groupsPool holds the stream.PutGroups of putRun.
var groupsPool = sync.Pool{New: func() any { return new(stream.PutGroups) }}

func putGroups(g *stream.PutGroups) {
	g.Reset()
	groupsPool.Put(g)
}

// batchLocal reports whether err is about one record of the request
// (nothing was written).
func batchLocal(err error) bool {
	var ae *stream.ArgumentError
	var te *stream.RecordTooLargeError
	return errors.As(err, &ae) || errors.As(err, &te)
}

// batchError maps a PutRecords error to a protocol code and message.
func (st *connState) batchError(name string, err error) (frame.Code, string) {
	var ae *stream.ArgumentError
	var te *stream.RecordTooLargeError
	switch {
	case errors.Is(err, stream.ErrStreamNotFound):
		// The Kinesis ResourceNotFoundException text.
		return frame.CodeStreamNotFound, fmt.Sprintf("Stream %s under account %s not found.", name, st.srv.cfg.AccountID)
	case errors.As(err, &ae):
		return frame.CodeInvalidArgument, ae.Msg
	case errors.As(err, &te):
		return frame.CodeInvalidArgument, te.Error()
	case errors.Is(err, stream.ErrThroughputExceeded):
		return frame.CodeThrottled, err.Error()
	case errors.Is(err, stream.ErrClosed):
		return frame.CodeShuttingDown, "the server is shutting down"
	default:
		return frame.CodeInternal, err.Error()
	}
}

func unsafeString(b []byte) string {
	if len(b) == 0 {
		return ""
	}
	return unsafe.String(&b[0], len(b))
}

package sluicetcp

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"time"

	"github.com/sluicehq/sluice/wire/frame"
)

// errConnBroken wraps every failure of a connection; the request is resent
// on another one.
var errConnBroken = errors.New("sluicetcp: connection broken")

// reply is the answer to one request frame.
type reply struct {
	typ  byte
	body []byte
	err  error // the connection broke first
}

// pending is a request waiting for its answer.
type pending struct {
	size int64
	done chan reply // cap 1
}

// conn is one connection to the server. Safe for concurrent use.
type conn struct {
	nc    net.Conn
	hello frame.HelloOK

	wmu sync.Mutex // serializes writes and the order of queue
	mu  sync.Mutex
	// queue is the requests written and not answered, in write order.
	queue  []*pending
	avail  int64         // window bytes left
	freed  chan struct{} // closed (and replaced) when window bytes come back
	broken error
	done   chan struct{} // closed when the reader ends

	// testAfterCredit, set by tests, runs in send between taking window
	// credit and queueing the request.
	testAfterCredit func()
}

// dial connects, says Hello and authenticates.
func dial(ctx context.Context, cfg *Config) (*conn, error) {
	d := net.Dialer{Timeout: cfg.DialTimeout}
	nc, err := d.DialContext(ctx, "tcp", cfg.Addr)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", errConnBroken, err)
	}
	if tc, ok := nc.(*net.TCPConn); ok {
		_ = tc.SetNoDelay(true)
	}
	c := &conn{nc: nc, freed: make(chan struct{}), done: make(chan struct{})}
	if err := c.handshake(ctx, cfg); err != nil {
		_ = nc.Close()
		return nil, err
	}
	c.avail = int64(c.hello.Window)
	go c.read()
	return c, nil
}

func (c *conn) handshake(ctx context.Context, cfg *Config) error {
	deadline := time.Now().Add(cfg.DialTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(deadline) {
		deadline = d
	}
	_ = c.nc.SetDeadline(deadline)
	defer func() { _ = c.nc.SetDeadline(time.Time{}) }()
	br := bufio.NewReaderSize(c.nc, 4096)
	hello := frame.Hello{MinVersion: frame.Version, MaxVersion: frame.Version, ProducerID: cfg.ProducerID, ClientName: cfg.ClientName}
	if _, err := c.nc.Write(frame.AppendFrame(nil, frame.TypeHello, 0, frame.AppendHello(nil, &hello))); err != nil {
		return fmt.Errorf("%w: %w", errConnBroken, err)
	}
	typ, body, err := readFrame(br)
	if err != nil {
		return err
	}
	if typ != frame.TypeHelloOK {
		return unexpected(typ, body, "HelloOK")
	}
	if err := frame.DecodeHelloOK(body, &c.hello); err != nil {
		return fmt.Errorf("%w: %w", errConnBroken, err)
	}
	if c.hello.Flags&frame.FlagAuthRequired != 0 {
		if cfg.AccessKeyID == "" {
			return &frame.Error{Code: frame.CodeAuthRequired, Fatal: true, Message: "the server requires credentials: set Config.AccessKeyID and SecretKey"}
		}
		a := frame.Auth{AccessKeyID: cfg.AccessKeyID, MAC: frame.AuthMAC(cfg.SecretKey, c.hello.Nonce, cfg.AccessKeyID)}
		if _, err := c.nc.Write(frame.AppendFrame(nil, frame.TypeAuth, 0, frame.AppendAuth(nil, &a))); err != nil {
			return fmt.Errorf("%w: %w", errConnBroken, err)
		}
		typ, body, err := readFrame(br)
		if err != nil {
			return err
		}
		if typ != frame.TypeAuthOK {
			return unexpected(typ, body, "AuthOK")
		}
	}
	if br.Buffered() > 0 {
		return fmt.Errorf("%w: unsolicited bytes after the handshake", errConnBroken)
	}
	return nil
}

// unexpected turns an answer of the wrong type into an error (the Error
// frame's, if it is one).
func unexpected(typ byte, body []byte, want string) error {
	if typ == frame.TypeError {
		var e frame.Error
		if err := frame.DecodeError(body, &e); err == nil {
			return &e
		}
	}
	return fmt.Errorf("%w: frame type 0x%02x, want %s", errConnBroken, typ, want)
}

// readFrame reads one frame, header checks first.
func readFrame(r io.Reader) (byte, []byte, error) {
	var hb [frame.HeaderSize]byte
	if _, err := io.ReadFull(r, hb[:]); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errConnBroken, err)
	}
	h, err := frame.DecodeHeader(hb[:], frame.MaxBodySize)
	if err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errConnBroken, err)
	}
	body := make([]byte, h.Length)
	if _, err := io.ReadFull(r, body); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errConnBroken, err)
	}
	if err := h.CheckBody(body); err != nil {
		return 0, nil, fmt.Errorf("%w: %w", errConnBroken, err)
	}
	return h.Type, body, nil
}

// read delivers answers in order until the connection fails.
func (c *conn) read() {
	defer close(c.done)
	br := bufio.NewReaderSize(c.nc, 64<<10)
	for {
		typ, body, err := readFrame(br)
		if err == nil && typ == frame.TypeError {
			var e frame.Error
			if derr := frame.DecodeError(body, &e); derr != nil {
				err = fmt.Errorf("%w: %w", errConnBroken, derr)
			} else if e.Fatal {
				err = fmt.Errorf("%w: %w", errConnBroken, &e)
			}
		}
		if err != nil {
			c.fail(err)
			return
		}
		c.mu.Lock()
		if len(c.queue) == 0 {
			c.mu.Unlock()
			c.fail(fmt.Errorf("%w: an answer (type 0x%02x) to no request", errConnBroken, typ))
			return
		}
		p := c.queue[0]
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.avail += p.size
		close(c.freed)
		c.freed = make(chan struct{})
		c.mu.Unlock()
		p.done <- reply{typ: typ, body: body}
	}
}

// fail breaks the connection: every waiting request gets err.
func (c *conn) fail(err error) {
	c.mu.Lock()
	if c.broken == nil {
		c.broken = err
	}
	q := c.queue
	c.queue = nil
	close(c.freed)
	c.freed = make(chan struct{})
	c.mu.Unlock()
	_ = c.nc.Close()
	for _, p := range q {
		p.done <- reply{err: err}
	}
}

func (c *conn) err() error {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.broken
}

// send writes one request frame (whole, header included; a Put counts
// size bytes against the window, waiting for credit) and returns its
// pending answer. buf is not modified.
func (c *conn) send(ctx context.Context, buf []byte, size int64) (*pending, error) {
	for {
		c.mu.Lock()
		if c.broken != nil {
			err := c.broken
			c.mu.Unlock()
			return nil, err
		}
		// A frame larger than the whole window may go alone: when all
		// the credit is back. (Not "when the queue is empty": a sender
		// that has taken credit is queued only later, under wmu, so
		// concurrent senders all saw an empty queue and together went
		// past the window, which TestTCPBackpressure caught.)
		if c.avail >= size || c.avail == int64(c.hello.Window) {
			c.avail -= size
			c.mu.Unlock()
			break
		}
		ch := c.freed
		c.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	p := &pending{size: size, done: make(chan reply, 1)}
	if c.testAfterCredit != nil {
		c.testAfterCredit()
	}
	c.wmu.Lock()
	c.mu.Lock()
	if c.broken != nil {
		err := c.broken
		c.mu.Unlock()
		c.wmu.Unlock()
		return nil, err
	}
	c.queue = append(c.queue, p)
	c.mu.Unlock()
	_, err := c.nc.Write(buf)
	c.wmu.Unlock()
	if err != nil {
		c.fail(fmt.Errorf("%w: %w", errConnBroken, err))
	}
	return p, nil
}

func (c *conn) close() error {
	c.fail(fmt.Errorf("%w: closed by the client", errConnBroken))
	<-c.done
	return nil
}

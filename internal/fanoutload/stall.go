package fanoutload

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"strconv"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Stalled is a consumer that subscribed and then stopped reading: its
// connection is never read again, so the server's writes to it first use
// up the HTTP/2 flow-control windows it granted and then fill the socket
// buffers, and block.
type Stalled struct {
	conn net.Conn
}

// Close closes the stalled consumer's connection.
func (s *Stalled) Close() error { return s.conn.Close() }

// stallWindow is the flow-control window the stalled consumer grants, per
// stream and for the connection: large, so that the server can write until
// the socket itself is full (the harshest stall: the server's connection
// writer blocks, not only its flow control).
const stallWindow = 1<<31 - 1

// Stall opens a raw HTTP/2 connection (h2c with prior knowledge) to addr,
// subscribes consumerARN to each of shardIDs from pos on its own stream,
// waits for every response head (status 200) and the first DATA frame of
// every stream (the initial-response), and then stops reading. Any other
// answer is an error.
func Stall(ctx context.Context, addr, consumerARN string, shardIDs []string, pos Position) (*Stalled, error) {
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", addr)
	if err != nil {
		return nil, err
	}
	if dl, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(dl)
	} else {
		_ = conn.SetDeadline(time.Now().Add(30 * time.Second))
	}
	s, err := stall(conn, addr, consumerARN, shardIDs, pos)
	if err != nil {
		conn.Close()
		return nil, err
	}
	_ = conn.SetDeadline(time.Time{})
	return s, nil
}

func stall(conn net.Conn, addr, consumerARN string, shardIDs []string, pos Position) (*Stalled, error) {
	if _, err := conn.Write([]byte(http2.ClientPreface)); err != nil {
		return nil, err
	}
	fr := http2.NewFramer(conn, conn)
	if err := fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: stallWindow},
		http2.Setting{ID: http2.SettingEnablePush, Val: 0}); err != nil {
		return nil, err
	}
	if err := fr.WriteWindowUpdate(0, stallWindow-65535); err != nil {
		return nil, err
	}
	var hb bytes.Buffer
	enc := hpack.NewEncoder(&hb)
	pending := map[uint32]string{} // stream -> shard, until its first DATA frame
	for i, shard := range shardIDs {
		id := uint32(2*i + 1)
		body := subscribeBody(consumerARN, shard, pos)
		hb.Reset()
		for _, f := range []hpack.HeaderField{
			{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"}, {Name: ":authority", Value: addr},
			{Name: ":path", Value: "/"}, {Name: "content-type", Value: "application/x-amz-json-1.1"},
			{Name: "x-amz-target", Value: "Kinesis_20131202.SubscribeToShard"}, {Name: "x-amz-date", Value: "20261206T000000Z"},
			{Name: "authorization", Value: authorization}, {Name: "content-length", Value: strconv.Itoa(len(body))},
		} {
			if err := enc.WriteField(f); err != nil {
				return nil, err
			}
		}
		if err := fr.WriteHeaders(http2.HeadersFrameParam{StreamID: id, BlockFragment: hb.Bytes(), EndHeaders: true}); err != nil {
			return nil, err
		}
		if err := fr.WriteData(id, true, body); err != nil {
			return nil, err
		}
		pending[id] = shard
	}
	fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	status := map[uint32]string{}
	for len(pending) > 0 {
		f, err := fr.ReadFrame()
		if err != nil {
			return nil, fmt.Errorf("stalled consumer: reading the responses: %w", err)
		}
		switch f := f.(type) {
		case *http2.SettingsFrame:
			if !f.IsAck() {
				if err := fr.WriteSettingsAck(); err != nil {
					return nil, err
				}
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				if err := fr.WritePing(true, f.Data); err != nil {
					return nil, err
				}
			}
		case *http2.MetaHeadersFrame:
			status[f.StreamID] = f.PseudoValue("status")
		case *http2.DataFrame:
			shard, ok := pending[f.StreamID]
			if !ok {
				continue
			}
			if status[f.StreamID] != "200" {
				return nil, fmt.Errorf("stalled consumer: SubscribeToShard %s: HTTP %s: %s", shard, status[f.StreamID], f.Data())
			}
			delete(pending, f.StreamID)
		case *http2.RSTStreamFrame:
			return nil, fmt.Errorf("stalled consumer: stream %d reset: %v", f.StreamID, f.ErrCode)
		case *http2.GoAwayFrame:
			return nil, errors.New("stalled consumer: GOAWAY: " + f.ErrCode.String())
		}
	}
	return &Stalled{conn: conn}, nil
}

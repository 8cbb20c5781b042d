package tcp

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"math/big"
	"strings"
	"testing"
	"time"

	"github.com/sluicehq/sluice/wire/frame"
)

// TestTCPFraming drives every malformed input class through a raw
// connection: each gets its protocol error, and after a non-fatal one the
// next valid frame on the same connection works.
func TestTCPFraming(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("s", 2); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m, MaxFrameBytes: 64 << 10, FrameTimeout: 400 * time.Millisecond})
	var producer [16]byte

	// ready returns a connection after the handshake.
	ready := func() *rawConn {
		r := dialRaw(t, s)
		ok := r.hello(producer)
		if ok.Version != 2 || ok.MaxFrame != 64<<10 || ok.Flags&frame.FlagAuthRequired != 0 {
			t.Fatalf("HelloOK %+v", ok)
		}
		return r
	}
	// next checks that the connection still works.
	next := func(r *rawConn, batch uint64) {
		t.Helper()
		r.send(frame.TypePut, putBody(batch, "s", "after"))
		r.wantAck(batch, 1)
	}

	t.Run("short frame body", func(t *testing.T) {
		r := ready()
		body := putBody(1, "s", "a", "b")
		binary.BigEndian.PutUint32(body[8+1+1:], 3) // claims 3 records, holds 2
		r.send(frame.TypePut, body)
		if e := r.wantError(frame.CodeMalformed, false); e.BatchID != 1 || !strings.Contains(e.Message, "truncated") {
			t.Fatalf("error %+v", e)
		}
		next(r, 2)
	})
	t.Run("short frame never completed", func(t *testing.T) {
		r := ready()
		f := frame.AppendFrame(nil, frame.TypePut, 0, putBody(1, "s", "a"))
		r.write(f[:len(f)-3])
		start := time.Now()
		r.wantError(frame.CodeTimeout, true)
		r.wantClosed()
		if d := time.Since(start); d < 300*time.Millisecond || d > 8*time.Second {
			t.Fatalf("timeout after %s, want about 400ms", d)
		}
	})
	t.Run("oversized length", func(t *testing.T) {
		r := ready()
		// Only the header: the server must refuse before any body byte.
		h := frame.AppendHeader(nil, frame.TypePut, 0, make([]byte, 64<<10+1))
		r.write(h)
		e := r.wantError(frame.CodeFrameTooLarge, true)
		if !strings.Contains(e.Message, "65537 bytes, limit 65536") {
			t.Fatalf("message %q", e.Message)
		}
		r.wantClosed()
	})
	t.Run("bad version", func(t *testing.T) {
		r := dialRaw(t, s)
		// A version 1 client (one Ack result per record) is refused.
		r.send(frame.TypeHello, frame.AppendHello(nil, &frame.Hello{MinVersion: 1, MaxVersion: 1}))
		e := r.wantError(frame.CodeUnsupportedVersion, true)
		if e.Message != "client speaks versions 1 to 1, the server speaks 2" {
			t.Fatalf("message %q", e.Message)
		}
		r.wantClosed()
		// A range that holds 2 gets 2.
		r = dialRaw(t, s)
		r.send(frame.TypeHello, frame.AppendHello(nil, &frame.Hello{MinVersion: 1, MaxVersion: 3}))
		typ, body := r.read()
		var ok frame.HelloOK
		if err := frame.DecodeHelloOK(body, &ok); typ != frame.TypeHelloOK || err != nil || ok.Version != 2 {
			t.Fatalf("hello 1..3: type 0x%02x %+v %v", typ, ok, err)
		}
	})
	t.Run("bad magic", func(t *testing.T) {
		r := dialRaw(t, s)
		r.write([]byte("GET / HTTP/1.1\r\nHost: x\r\n\r\n"))
		r.wantError(frame.CodeMalformed, true)
		r.wantClosed()
	})
	t.Run("bad body checksum", func(t *testing.T) {
		r := ready()
		f := frame.AppendFrame(nil, frame.TypePut, 0, putBody(1, "s", "a"))
		f[len(f)-1] ^= 0xFF
		r.write(f)
		r.wantError(frame.CodeChecksum, false)
		next(r, 2)
	})
	t.Run("bad header checksum", func(t *testing.T) {
		r := ready()
		f := frame.AppendFrame(nil, frame.TypePut, 0, putBody(1, "s", "a"))
		f[3] ^= 1 // flags
		r.write(f)
		r.wantError(frame.CodeChecksum, true)
		r.wantClosed()
	})
	t.Run("unknown stream", func(t *testing.T) {
		r := ready()
		r.send(frame.TypePut, putBody(7, "nope", "a"))
		e := r.wantError(frame.CodeStreamNotFound, false)
		if e.BatchID != 7 || e.Message != "Stream nope under account 000000000000 not found." {
			t.Fatalf("error %+v", e)
		}
		next(r, 8)
	})
	t.Run("invalid record", func(t *testing.T) {
		r := ready()
		p := frame.Put{BatchID: 3, Stream: "s", Records: []frame.Record{{PartitionKey: nil, Data: []byte("x")}}}
		r.send(frame.TypePut, frame.AppendPut(nil, &p))
		e := r.wantError(frame.CodeInvalidArgument, false)
		if !strings.Contains(e.Message, "PartitionKey") {
			t.Fatalf("message %q", e.Message)
		}
		next(r, 4)
	})
	t.Run("slowloris", func(t *testing.T) {
		r := ready()
		f := frame.AppendFrame(nil, frame.TypePut, 0, putBody(1, "s", "slow"))
		start := time.Now()
		var got error
		// One byte every 50 ms, for 650 ms at least: past the 400 ms
		// deadline, with bytes still arriving.
		for i := range f {
			if _, err := r.nc.Write(f[i : i+1]); err != nil {
				got = err
				break
			}
			time.Sleep(50 * time.Millisecond)
			if time.Since(start) > 650*time.Millisecond {
				break
			}
		}
		_ = got // a write may fail once the server has given up
		r.wantError(frame.CodeTimeout, true)
		r.wantClosed()
	})
	t.Run("silent handshake", func(t *testing.T) {
		r := dialRaw(t, s)
		e := r.wantError(frame.CodeTimeout, true)
		if !strings.Contains(e.Message, "handshake") {
			t.Fatalf("message %q", e.Message)
		}
		r.wantClosed()
	})
	t.Run("put before hello", func(t *testing.T) {
		r := dialRaw(t, s)
		r.send(frame.TypePut, putBody(1, "s", "a"))
		r.wantError(frame.CodeUnexpectedFrame, true)
		r.wantClosed()
	})
	t.Run("unknown type and ping", func(t *testing.T) {
		r := ready()
		r.send(0x55, []byte("?"))
		r.wantError(frame.CodeUnexpectedFrame, false)
		r.send(frame.TypePing, []byte("12345678"))
		if typ, body := r.read(); typ != frame.TypePong || string(body) != "12345678" {
			t.Fatalf("pong 0x%02x %q", typ, body)
		}
		next(r, 1)
	})
	t.Run("pipelined order", func(t *testing.T) {
		r := ready()
		var all []byte
		for i := range 50 {
			all = frame.AppendFrame(all, frame.TypePut, 0, putBody(uint64(100+i), "s", fmt.Sprint(i)))
			if i == 20 {
				all = frame.AppendFrame(all, frame.TypePut, 0, putBody(999, "missing", "x"))
			}
		}
		r.write(all)
		last := map[string]*big.Int{}
		for i := range 50 {
			a := r.wantAck(uint64(100+i), 1)
			res := ackRecords(&a)[0]
			// Puts of one connection are written in order (PROTOCOL.md 5).
			seq, ok := new(big.Int).SetString(res.seq, 10)
			if !ok {
				t.Fatalf("sequence number %q", res.seq)
			}
			if prev := last[res.shard]; prev != nil && seq.Cmp(prev) <= 0 {
				t.Fatalf("put %d: sequence number %s not above %s in %s", i, seq, prev, res.shard)
			}
			last[res.shard] = seq
			if i == 20 {
				if e := r.wantError(frame.CodeStreamNotFound, false); e.BatchID != 999 {
					t.Fatalf("error %+v", e)
				}
			}
		}
	})
	// The error frames above left nothing behind: only the records of
	// accepted Puts are in the stream.
	recs := readAll(t, m, "s")
	n := 0
	for _, r := range recs {
		if bytes.Equal(r.Data, []byte("after")) {
			n++
		}
	}
	if n != 5 || len(recs) != 5+50 {
		t.Fatalf("%d records (%d 'after'), want 55 (5)", len(recs), n)
	}
}

// TestTCPAuth checks the Auth challenge (PROTOCOL.md section 4).
func TestTCPAuth(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("s", 1); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m, Credentials: map[string]string{"AKID": "secret"}})
	t.Run("put before auth", func(t *testing.T) {
		r := dialRaw(t, s)
		if ok := r.hello([16]byte{}); ok.Flags&frame.FlagAuthRequired == 0 {
			t.Fatal("auth not required")
		}
		r.send(frame.TypePut, putBody(5, "s", "a"))
		if e := r.wantError(frame.CodeAuthRequired, true); e.BatchID != 5 {
			t.Fatalf("error %+v", e)
		}
		r.wantClosed()
	})
	for name, a := range map[string]func(frame.HelloOK) frame.Auth{
		"wrong secret": func(ok frame.HelloOK) frame.Auth {
			return frame.Auth{AccessKeyID: "AKID", MAC: frame.AuthMAC("Secret", ok.Nonce, "AKID")}
		},
		"unknown key": func(ok frame.HelloOK) frame.Auth {
			return frame.Auth{AccessKeyID: "OTHER", MAC: frame.AuthMAC("secret", ok.Nonce, "OTHER")}
		},
		"replayed nonce": func(frame.HelloOK) frame.Auth {
			return frame.Auth{AccessKeyID: "AKID", MAC: frame.AuthMAC("secret", [32]byte{}, "AKID")}
		},
	} {
		t.Run(name, func(t *testing.T) {
			r := dialRaw(t, s)
			auth := a(r.hello([16]byte{}))
			r.send(frame.TypeAuth, frame.AppendAuth(nil, &auth))
			r.wantError(frame.CodeAuthFailed, true)
			r.wantClosed()
		})
	}
	t.Run("good", func(t *testing.T) {
		r := dialRaw(t, s)
		ok := r.hello([16]byte{})
		auth := frame.Auth{AccessKeyID: "AKID", MAC: frame.AuthMAC("secret", ok.Nonce, "AKID")}
		r.send(frame.TypeAuth, frame.AppendAuth(nil, &auth))
		if typ, _ := r.read(); typ != frame.TypeAuthOK {
			t.Fatalf("type 0x%02x", typ)
		}
		r.send(frame.TypePut, putBody(1, "s", "a"))
		r.wantAck(1, 1)
	})
}

// TestTCPDedup resends a batch with the same producer and batch id: the
// second answer is the first's, and the records are written once.
func TestTCPDedup(t *testing.T) {
	m := openManager(t)
	if err := m.CreateStream("s", 2); err != nil {
		t.Fatal(err)
	}
	s := startServer(t, Config{Store: m})
	producer := [16]byte{1, 2, 3}
	replays := dedupReplaysTotal.Get()
	r1 := dialRaw(t, s)
	r1.hello(producer)
	body := putBody(77, "s", "x", "y", "z")
	r1.send(frame.TypePut, body)
	a1 := r1.wantAck(77, 3)
	// Another connection of the same producer resends it.
	r2 := dialRaw(t, s)
	r2.hello(producer)
	r2.send(frame.TypePut, body)
	a2 := r2.wantAck(77, 3)
	r1s, r2s := ackRecords(&a1), ackRecords(&a2)
	for i := range r1s {
		if r1s[i] != r2s[i] || r1s[i].seq == "" {
			t.Fatalf("record %d: %+v then %+v", i, r1s[i], r2s[i])
		}
	}
	if got := dedupReplaysTotal.Get() - replays; got != 1 {
		t.Fatalf("sluice_tcp_dedup_replays_total rose by %d, want 1", got)
	}
	// Same id, other records: refused.
	r2.send(frame.TypePut, putBody(77, "s", "other"))
	r2.wantError(frame.CodeBatchMismatch, false)
	// Another producer with the same batch id is another batch.
	r3 := dialRaw(t, s)
	r3.hello([16]byte{9})
	r3.send(frame.TypePut, body)
	a3 := r3.wantAck(77, 3)
	if ackRecords(&a3)[0] == r1s[0] {
		t.Fatal("another producer's batch was deduplicated")
	}
	// The sequence numbers of the Acks are those GetRecords shows.
	stored := readAll(t, m, "s")
	if len(stored) != 6 {
		t.Fatalf("%d records, want 6", len(stored))
	}
	bySeq := map[string]string{}
	for _, r := range stored {
		bySeq[r.SequenceNumber] = string(r.Data)
	}
	for _, a := range []frame.Ack{a1, a3} {
		for i, res := range ackRecords(&a) {
			if want := []string{"x", "y", "z"}[i]; bySeq[res.seq] != want {
				t.Fatalf("record %q acknowledged with sequence number %s, which GetRecords shows for %q", want, res.seq, bySeq[res.seq])
			}
		}
	}
}

package fanoutload

import (
	"context"
	"encoding/base64"
	"fmt"
	"strconv"
	"time"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// Poll reads shardID of stream with GetRecords every interval (calls start
// on a fixed schedule, as a KCL polling worker with that idle time would;
// a call that returned a full batch is followed at once by the next),
// from a LATEST iterator taken at the start, and calls onRecord with the
// data and sequence number of every record and the time the response
// arrived. ready, if not nil, is called once the iterator is taken. It
// returns when ctx ends (nil) or a call fails. limit is GetRecords' Limit.
func Poll(ctx context.Context, addr, stream, shardID string, interval time.Duration, limit int, now func() int64,
	ready func(), onRecord func(data, seq []byte, at int64)) error {
	c := &fasthttp.HostClient{Addr: addr, MaxConns: 1, ReadTimeout: 30 * time.Second, WriteTimeout: 30 * time.Second,
		NoDefaultUserAgentHeader: true, MaxIdleConnDuration: time.Second, Dial: dial, MaxResponseBodySize: 64 << 20}
	defer c.CloseIdleConnections()
	req, resp := fasthttp.AcquireRequest(), fasthttp.AcquireResponse()
	defer fasthttp.ReleaseRequest(req)
	defer fasthttp.ReleaseResponse(resp)
	call := func(op string, body []byte) (*fastjson.Value, *fastjson.Parser, error) {
		req.Reset()
		req.SetRequestURI("http://" + addr + "/")
		req.Header.SetMethod(fasthttp.MethodPost)
		req.Header.SetContentType("application/x-amz-json-1.1")
		req.Header.Set("X-Amz-Target", "Kinesis_20131202."+op)
		req.Header.Set("X-Amz-Date", "20261206T000000Z")
		req.Header.Set("Authorization", authorization)
		req.SetBodyRaw(body)
		resp.Reset()
		if err := c.Do(req, resp); err != nil {
			return nil, nil, fmt.Errorf("%s: %w", op, err)
		}
		if resp.StatusCode() != fasthttp.StatusOK {
			return nil, nil, fmt.Errorf("%s: HTTP %d: %s", op, resp.StatusCode(), resp.Body())
		}
		var p fastjson.Parser
		v, err := p.ParseBytes(resp.Body())
		if err != nil {
			return nil, nil, fmt.Errorf("%s: %w", op, err)
		}
		return v, &p, nil
	}
	v, _, err := call("GetShardIterator", fmt.Appendf(nil, `{"StreamName":%s,"ShardId":%s,"ShardIteratorType":"LATEST"}`,
		strconv.Quote(stream), strconv.Quote(shardID)))
	if err != nil {
		return err
	}
	it := string(v.GetStringBytes("ShardIterator"))
	if ready != nil {
		ready()
	}
	next := time.Now()
	var data []byte
	for ctx.Err() == nil && it != "" {
		if d := time.Until(next); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return nil
			}
		}
		next = next.Add(interval)
		v, _, err := call("GetRecords", fmt.Appendf(nil, `{"ShardIterator":%s,"Limit":%d}`, strconv.Quote(it), limit))
		if err != nil {
			if ctx.Err() != nil {
				return nil
			}
			return err
		}
		at := now()
		recs := v.GetArray("Records")
		for _, r := range recs {
			data, err = base64.StdEncoding.AppendDecode(data[:0], r.GetStringBytes("Data"))
			if err != nil {
				return fmt.Errorf("GetRecords: record data: %w", err)
			}
			onRecord(data, r.GetStringBytes("SequenceNumber"), at)
		}
		it = string(v.GetStringBytes("NextShardIterator"))
		if len(recs) == limit {
			next = time.Now() // behind: read on at once
		}
	}
	return nil
}

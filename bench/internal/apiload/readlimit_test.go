package apiload

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"testing"

	"github.com/valyala/fasthttp"
	"github.com/valyala/fastjson"
)

// TestBenchGetRecordsTooLarge: a server whose GetRecords answer is larger
// than the client takes (as kinesalite's, which ignores the 10 MiB cap)
// is asked again with the same iterator for a tenth as many records, and
// the lower Limit sticks.
func TestBenchGetRecordsTooLarge(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var mu sync.Mutex
	var limits []int
	big := bytes.Repeat([]byte("x"), 65<<20) // over the client's 64 MiB
	srv := &fasthttp.Server{Handler: func(ctx *fasthttp.RequestCtx) {
		v, err := fastjson.ParseBytes(ctx.PostBody())
		if err != nil {
			ctx.SetStatusCode(400)
			return
		}
		n := v.GetInt("Limit")
		mu.Lock()
		limits = append(limits, n)
		mu.Unlock()
		if n > 100 {
			ctx.SetBody(big)
			return
		}
		ctx.SetBodyString(`{"Records":[],"MillisBehindLatest":0,"Limit":` + strconv.Itoa(n) + `}`)
	}, MaxRequestBodySize: 1 << 20}
	go srv.Serve(ln)
	defer srv.Shutdown()
	c := NewClient(ln.Addr().String())
	defer c.Close()
	limit := readLimit
	b, err := getRecords(c, "it", &limit)
	if err != nil || limit != 100 || !bytes.Contains(b, []byte(`"Limit":100`)) {
		t.Fatalf("getRecords: limit %d, %v, %.60s", limit, err, b)
	}
	if _, err := getRecords(c, "it", &limit); err != nil || limit != 100 {
		t.Fatalf("second call: limit %d, %v", limit, err)
	}
	mu.Lock()
	defer mu.Unlock()
	if want := []int{10000, 1000, 100, 100}; len(limits) != len(want) || limits[0] != 10000 || limits[1] != 1000 || limits[2] != 100 || limits[3] != 100 {
		t.Fatalf("Limits asked: %v, want %v", limits, want)
	}
}

//go:build !race

package kinesis

import "testing"

func TestWireAllocs(t *testing.T) {
	body := putRecordsBody(500, 100)
	var req PutRecordsRequest
	decode := func() {
		if err := DecodePutRecords(body, &req); err != nil {
			t.Fatal(err)
		}
		if err := req.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	decode() // warm up the parser, the Records slice and the data buffer
	if n := testing.AllocsPerRun(100, decode); n != 0 {
		t.Fatalf("DecodePutRecords+Validate of 500 records: %v allocs, want 0", n)
	}
	if len(req.Records) != 500 || len(req.Records[499].Data) != 100 {
		t.Fatalf("decoded %d records", len(req.Records))
	}

	resp := putRecordsResponse(500)
	buf := AppendPutRecordsResponse(nil, resp)
	encode := func() { buf = AppendPutRecordsResponse(buf[:0], resp) }
	if n := testing.AllocsPerRun(100, encode); n != 0 {
		t.Fatalf("AppendPutRecordsResponse of 500 entries: %v allocs, want 0", n)
	}

	var gr GetRecordsRequest
	grBody := []byte(`{"ShardIterator":"AAAAAAAAAAHSywljv0zEgPX4NyKdZ5wryMzP9yALs8NeKbUjp1IxtZs1Sp+KEd9I6AJ9ZG4lNR1EMi+9Md/nHvtLyxpfhEzYvkTZ4D9DQVz/mBYWRO6OTZRKnW9gd+efGN2aHFdkH1rJl4BL9Wyrk+ghYG22D2T1Da2EyNSH1+LAbK33gQweTJADBdyMwlo5r6PqcP2dzhg=","Limit":1000}`)
	getRecords := func() {
		if err := DecodeGetRecords(grBody, &gr); err != nil {
			t.Fatal(err)
		}
		if err := gr.Validate(); err != nil {
			t.Fatal(err)
		}
	}
	getRecords()
	if n := testing.AllocsPerRun(100, getRecords); n != 0 {
		t.Fatalf("DecodeGetRecords: %v allocs, want 0", n)
	}
}

package kinesis

import "testing"

func BenchmarkDecodePutRecords(b *testing.B) {
	b.Run("records=500/size=100B", func(b *testing.B) {
		body := putRecordsBody(500, 100)
		var req PutRecordsRequest
		if err := DecodePutRecords(body, &req); err != nil {
			b.Fatal(err)
		}
		b.SetBytes(int64(len(body)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if err := DecodePutRecords(body, &req); err != nil {
				b.Fatal(err)
			}
			if err := req.Validate(); err != nil {
				b.Fatal(err)
			}
		}
	})
}

func BenchmarkAppendPutRecordsResponse(b *testing.B) {
	b.Run("records=500", func(b *testing.B) {
		resp := putRecordsResponse(500)
		buf := AppendPutRecordsResponse(nil, resp)
		b.SetBytes(int64(len(buf)))
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			buf = AppendPutRecordsResponse(buf[:0], resp)
		}
	})
}

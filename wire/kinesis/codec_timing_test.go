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

// BenchmarkAppendBase64 compares appendBase64 with encoding/base64 on the
// Data of a 1 KiB record.
func BenchmarkAppendBase64(b *testing.B) {
	src := make([]byte, 1024)
	for i := range src {
		src[i] = byte(i * 7)
	}
	dst := make([]byte, 0, 2048)
	b.Run("impl=sluice", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			dst = appendBase64(dst[:0], src)
		}
	})
	b.Run("impl=encoding-base64", func(b *testing.B) {
		b.SetBytes(int64(len(src)))
		b.ReportAllocs()
		for b.Loop() {
			dst = strictBase64.AppendEncode(dst[:0], src)
		}
	})
}

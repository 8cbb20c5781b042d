package sigv4

import (
	"bytes"
	"fmt"
	"strings"
	"testing"
)

// BenchmarkVerify measures Verify on a PutRecords-like request signed by
// aws-sdk-go-v2, with a warm signing-key cache (the steady state with
// --auth on).
func BenchmarkVerify(b *testing.B) {
	for _, size := range []int{1 << 10, 64 << 10, 1 << 20} {
		b.Run(fmt.Sprintf("size=%dKiB", size>>10), func(b *testing.B) {
			body := bytes.Repeat([]byte("x"), size)
			hdr := append(kinesisHeaders("PutRecords"),
				[2]string{"Amz-Sdk-Invocation-Id", "7f0e2a5c-1f7e-4a57-a0a1-2b5b5c1c0d11"},
				[2]string{"Amz-Sdk-Request", "attempt=1; max=3"})
			tr := sdkSign(b, "POST", "http://127.0.0.1:4567/", body, hdr, testCreds, "us-east-1", "kinesis")
			v := newTestVerifier(b, Config{})
			// A lookup by lower-case name without allocations, as a
			// front end would provide it.
			lower := make(map[string][]string, len(tr.header))
			for k, vs := range tr.header {
				lower[strings.ToLower(k)] = vs
			}
			r := tr.request()
			r.Header = func(name string) []string { return lower[name] }
			if _, err := v.Verify(r, signTime); err != nil {
				b.Fatal(err)
			}
			b.SetBytes(int64(size))
			b.ReportAllocs()
			b.ResetTimer()
			for b.Loop() {
				if _, err := v.Verify(r, signTime); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

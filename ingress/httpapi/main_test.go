package httpapi

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when goroutines outlive them: every
// connection (HTTP/1.1, HTTP/2, sniffing) must end with Shutdown. fasthttp's
// own background goroutines are ignored: the worker pool's cleaner sleeps
// out its period after Stop, the server date updater is global, and the
// fasthttp.Client of the in-memory tests keeps its connection cleaners.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m,
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
		goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
	)
}

package httpapi

import (
	"fmt"
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when goroutines outlive them: every
// connection (HTTP/1.1, HTTP/2, sniffing) must end with Shutdown. fasthttp's
// own background goroutines are ignored: the worker pool's cleaner sleeps
// out its period after Stop, the server date updater is global, and the
// fasthttp.Client of the in-memory tests keeps its connection cleaners.
//
// goleak.VerifyTestMain retries for about half a second; on a loaded
// machine the last goroutines of a closed HTTP/2 connection (its frame
// writer) can take longer to go, so the check is repeated for up to ~5 s.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var err error
		for range 10 {
			if err = goleak.Find(
				goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
				goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
				goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*Client).mCleaner"),
				goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*HostClient).connsCleaner"),
			); err == nil {
				break
			}
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "goleak: %v\n", err)
			code = 1
		}
	}
	os.Exit(code)
}

package main

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"

	"go.uber.org/goleak"
)

// TestMain checks that no goroutine outlives the tests. fasthttp's own
// background goroutines are ignored: the worker pool's cleaner sleeps out
// its period after the server stops, and the date updater is global. The
// check is repeated for up to ~5 s (goleak.VerifyTestMain retries for about
// half a second): on a loaded machine the last goroutines of a closed
// HTTP/2 connection can take longer to go.
func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		var err error
		for range 10 {
			if err = goleak.Find(
				goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.(*workerPool).Start.func2"),
				goleak.IgnoreAnyFunction("github.com/valyala/fasthttp.updateServerDate.func1"),
				// gnet (ingress/tcp) starts a package-level ants pool on init.
				goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).purgeStaleWorkers"),
				goleak.IgnoreTopFunction("github.com/panjf2000/ants/v2.(*poolCommon).ticktock"),
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

func TestCmdHandlers(t *testing.T) {
	var ready atomic.Bool
	h := newHandler(&ready)
	f := func(method, path string, wantStatus int, wantBody string) *httptest.ResponseRecorder {
		t.Helper()
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, httptest.NewRequest(method, path, nil))
		if rec.Code != wantStatus {
			t.Fatalf("%s %s: status %d, want %d (body %q)", method, path, rec.Code, wantStatus, rec.Body)
		}
		if wantBody != "" && rec.Body.String() != wantBody {
			t.Fatalf("%s %s: body %q, want %q", method, path, rec.Body, wantBody)
		}
		return rec
	}

	f("GET", "/healthz", 200, "ok")
	f("GET", "/readyz", 503, "not ready")
	ready.Store(true)
	f("GET", "/readyz", 200, "ready")
	ready.Store(false)
	f("GET", "/readyz", 503, "not ready")
	f("HEAD", "/healthz", 200, "")

	rec := f("GET", "/metrics", 200, "")
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("/metrics Content-Type %q, want text/plain", ct)
	}
	if !strings.Contains(rec.Body.String(), "go_goroutines ") {
		t.Fatalf("/metrics lacks go_goroutines:\n%s", rec.Body)
	}

	checkJSON := func(rec *httptest.ResponseRecorder, wantPath string) {
		t.Helper()
		if ct := rec.Header().Get("Content-Type"); ct != "application/json" {
			t.Fatalf("Content-Type %q, want application/json", ct)
		}
		var body struct{ Error, Path string }
		if err := json.Unmarshal(rec.Body.Bytes(), &body); err != nil {
			t.Fatalf("body %q is not JSON: %v", rec.Body, err)
		}
		if body.Error == "" || body.Path != wantPath {
			t.Fatalf("body %+v, want an error for path %q", body, wantPath)
		}
	}
	checkJSON(f("GET", "/nope", 404, ""), "/nope")
	checkJSON(f("GET", "/healthz/extra", 404, ""), "/healthz/extra")
	checkJSON(f("POST", "/", 404, ""), "/")
	rec = f("POST", "/healthz", 405, "")
	checkJSON(rec, "/healthz")
	if allow := rec.Header().Get("Allow"); allow != "GET, HEAD" {
		t.Fatalf("405 Allow header %q, want \"GET, HEAD\"", allow)
	}
}

func TestCmdLock(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "nested", "data")
	first, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("first lock: %v", err)
	}
	fi, err := os.Stat(dir)
	if err != nil || !fi.IsDir() || fi.Mode().Perm()&0o700 != 0o700 {
		t.Fatalf("data dir not created as a directory: %v %v", fi, err)
	}
	// flock locks belong to the open file description, so a second open in
	// the same process conflicts just like a second process would.
	if _, err := lockDataDir(dir); err == nil {
		t.Fatalf("second lock on %s succeeded, want an error", dir)
	} else if !strings.Contains(err.Error(), dir) || !strings.Contains(err.Error(), "locked") {
		t.Fatalf("second lock error %q does not name the locked directory %s", err, dir)
	} else if !strings.Contains(err.Error(), "pid ") {
		t.Fatalf("second lock error %q does not name the holder's pid", err)
	}
	if err := first.release(); err != nil {
		t.Fatalf("release: %v", err)
	}
	again, err := lockDataDir(dir)
	if err != nil {
		t.Fatalf("lock after release: %v", err)
	}
	if err := again.release(); err != nil {
		t.Fatalf("second release: %v", err)
	}
}

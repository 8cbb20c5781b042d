package stream

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a shard log's goroutines outlive
// the Manager that opened them. With SLUICE_STREAM_STATE_CRASH_CHILD set it
// runs the child of TestStreamStateCrash instead.
func TestMain(m *testing.M) {
	if os.Getenv(stateCrashEnv) != "" {
		os.Exit(stateCrashChild())
	}
	goleak.VerifyTestMain(m)
}

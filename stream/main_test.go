package stream

import (
	"os"
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a shard log's goroutines outlive
// the Manager that opened them. Run as the child of TestStreamStateCrash or
// TestReshardCrash, it runs that child instead.
func TestMain(m *testing.M) {
	if os.Getenv(stateCrashEnv) != "" {
		os.Exit(stateCrashChild())
	}
	if os.Getenv(reshardCrashEnv) != "" {
		os.Exit(reshardCrashChild())
	}
	goleak.VerifyTestMain(m)
}

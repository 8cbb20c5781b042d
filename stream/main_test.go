package stream

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests if a shard log's goroutines outlive
// the Manager that opened them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

package sdkhttp_test

import (
	"testing"

	"go.uber.org/goleak"
)

// TestMain fails the package's tests when a connection's goroutines
// outlive them.
func TestMain(m *testing.M) {
	goleak.VerifyTestMain(m)
}

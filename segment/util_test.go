package segment

import (
	"context"
	"time"
)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

const crashChildEnv = "SLUICE_SEGMENT_CRASH_CHILD"

func crashChild() int { return 3 }

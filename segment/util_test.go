package segment

import (
	"context"
	"log/slog"
	"time"
)

// quietLogger drops the recovery reports that tests provoke on purpose.
var quietLogger = slog.New(slog.DiscardHandler)

func contextWithTimeout(d time.Duration) (context.Context, context.CancelFunc) {
	return context.WithTimeout(context.Background(), d)
}

package fanout

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sluicehq/sluice/stream"
	"github.com/sluicehq/sluice/wire/eventstream"
)

// Subscription is one registered SubscribeToShard call: a consumer's read
// position in one shard. It is made by Server.Open and driven by Run on
// one goroutine.
type Subscription struct {
	srv         *Server
	key         subKey
	follower    *stream.ShardFollower
	streamName  string
	consumerARN string
	cbor        bool // payloads in CBOR
	started     time.Time

	stopOnce sync.Once
	stopped  chan struct{} // closed by stop
	stopType string        // exception to send when stopped; "" ends cleanly
	stopMsg  string
	ran      atomic.Bool

	// Owned by Run.
	enc     *eventstream.Encoder
	payload []byte
	out     []byte
	encType string
	checked time.Time // last refresh

}

// stop makes Run end after the event it is writing: with an exception
// event of type excType (message msg), or cleanly for excType "".
func (sub *Subscription) stop(excType, msg string) {
	sub.stopOnce.Do(func() {
		sub.stopType, sub.stopMsg = excType, msg
		close(sub.stopped)
	})
}

// Close releases a subscription whose Run was never called (e.g. the
// response could not be started). After Run it does nothing harmful.
func (sub *Subscription) Close() {
	sub.stop("", "")
	sub.srv.release(sub)
}

// ContinuationSequenceNumber returns the continuation of the position the
// subscription has reached: what the last event carried, or what the next
// one would carry. It must be called from the goroutine of Run or after
// Run returned.
func (sub *Subscription) ContinuationSequenceNumber() string { return sub.follower.Continuation() }

// Run streams the subscription to w until it ends:
//
//  1. an initial-response event ({} payload), then at once a first
//     SubscribeToShardEvent (records if there are any, else an empty one
//     carrying the ContinuationSequenceNumber of the start position);
//  2. a SubscribeToShardEvent as soon as records are committed (Run waits
//     on the shard log's commit notification, not a timer), each with at
//     most Config.MaxEventRecords records and Config.MaxEventBytes of data,
//     back to back while the subscription is behind;
//  3. an empty event (heartbeat) after Config.Heartbeat without an event.
//
// It ends, returning nil, after Config.Lifetime; at the end of a closed
// shard (a final event with ChildShards and no continuation); or after an
// exception event: ResourceInUseException when a newer subscription took
// over, ResourceNotFoundException when the stream was deleted or the
// consumer deregistered, InternalFailureException when the shard cannot
// be read (logged). Server.Close ends it cleanly. It returns the error of
// w (the client went away) or ctx.Err() when ctx ends.
//
// Run is called at most once per Subscription.
func (sub *Subscription) Run(ctx context.Context, w StreamWriter) error {
	defer sub.srv.release(sub)
	if !sub.ran.CompareAndSwap(false, true) {
		return errors.New("fanout: Subscription.Run called twice")
	}
	cfg := &sub.srv.cfg
	sub.enc = eventstream.NewEncoder()
	initial := eventstream.NewInitialResponse()
	if sub.cbor {
		initial = eventstream.NewInitialResponseCBOR()
	}
	if err := sub.write(w, initial); err != nil {
		return err
	}
	if err := sub.refresh(); err != nil {
		return sub.fail(w, err)
	}
	lifetime := time.NewTimer(cfg.Lifetime)
	defer lifetime.Stop()
	heartbeat := time.NewTimer(cfg.Heartbeat)
	defer heartbeat.Stop()
	due := true // the first event goes out at once
	for {
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-sub.stopped:
			return sub.sendStop(w)
		case <-lifetime.C:
			return nil
		default:
		}
		if time.Since(sub.checked) >= cfg.Heartbeat {
			if err := sub.refresh(); err != nil {
				return sub.fail(w, err)
			}
		}
		// Take the notification channel before reading, so that a commit
		// between the read and the wait below is not missed.
		notify := sub.follower.Notify()
		b, err := sub.follower.Next(cfg.MaxEventRecords, cfg.MaxEventBytes)
		if err != nil {
			return sub.fail(w, err)
		}
		if len(b.Records) > 0 || b.ShardEnd || due {
			if err := sub.writeEvent(w, &b); err != nil {
				return err
			}
			due = false
			heartbeat.Reset(cfg.Heartbeat)
			if b.ShardEnd {
				return nil
			}
			if len(b.Records) > 0 {
				continue // more may be waiting: read on without waiting
			}
		}
		select {
		case <-notify:
		case <-heartbeat.C:
			due = true
		case <-lifetime.C:
			return nil
		case <-sub.stopped:
			return sub.sendStop(w)
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// refresh re-checks that the consumer is still registered and reads the
// stream's encryption type (shown on every record).
func (sub *Subscription) refresh() error {
	sub.checked = time.Now()
	if _, err := sub.srv.m.DescribeStreamConsumer("", "", sub.consumerARN); err != nil {
		return err
	}
	info, err := sub.srv.m.DescribeStream(sub.streamName)
	if err != nil {
		return err
	}
	sub.encType = info.EncryptionType
	return nil
}

// fail ends the stream after err: an exception event for a deleted stream
// or consumer and for read failures, nothing when the manager closed.
func (sub *Subscription) fail(w StreamWriter, err error) error {
	var api *stream.APIError
	switch {
	case errors.Is(err, stream.ErrClosed):
		return nil
	case errors.Is(err, stream.ErrStreamNotFound):
		return sub.write(w, sub.exception(ExceptionResourceNotFound,
			"Stream "+sub.streamName+" under account "+arnAccount(sub.consumerARN)+" not found."))
	case errors.Is(err, stream.ErrResourceNotFound) && errors.As(err, &api):
		return sub.write(w, sub.exception(ExceptionResourceNotFound, api.Msg))
	}
	sub.srv.cfg.Logger.Error("fanout: subscription failed", "consumer", sub.consumerARN, "shard", sub.key.shardID, "err", err)
	// [unsure] AWS's text.
	return sub.write(w, sub.exception(ExceptionInternalFailure, "Internal service failure."))
}

// exception returns the exception event in the subscription's encoding.
func (sub *Subscription) exception(excType, msg string) eventstream.Message {
	if sub.cbor {
		return eventstream.NewExceptionCBOR(excType, msg)
	}
	return eventstream.NewException(excType, msg)
}

// sendStop ends a stopped subscription: the exception it was stopped with,
// if any.
func (sub *Subscription) sendStop(w StreamWriter) error {
	if sub.stopType == "" {
		return nil
	}
	return sub.write(w, sub.exception(sub.stopType, sub.stopMsg))
}

func (sub *Subscription) writeEvent(w StreamWriter, b *stream.FollowBatch) error {
	var m eventstream.Message
	if sub.cbor {
		sub.payload = appendEventCBOR(sub.payload[:0], b, sub.encType)
		m = eventstream.NewEvent(EventSubscribeToShard, eventstream.ContentTypeCBOR, sub.payload)
	} else {
		sub.payload = appendEventJSON(sub.payload[:0], b, sub.encType)
		m = eventstream.NewEvent(EventSubscribeToShard, eventstream.ContentTypeJSON, sub.payload)
	}
	err := sub.write(w, m)
	sub.shrink()
	return err
}

// write encodes m, writes it and flushes.
func (sub *Subscription) write(w StreamWriter, m eventstream.Message) error {
	var err error
	sub.out, err = sub.enc.Append(sub.out[:0], m)
	if err != nil {
		return err
	}
	if _, err := w.Write(sub.out); err != nil {
		return err
	}
	return w.Flush()
}

// shrink drops buffers that one unusually large record grew far past the
// usual event size, so an idle subscription does not pin them.
func (sub *Subscription) shrink() {
	limit := 4 * sub.srv.cfg.MaxEventBytes
	if cap(sub.payload) > limit {
		sub.payload = nil
	}
	if cap(sub.out) > limit {
		sub.out = nil
	}
}

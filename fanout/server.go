package fanout

import (
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/sluicehq/sluice/stream"
)

// Defaults of Config.
const (
	DefaultLifetime        = 5 * time.Minute
	DefaultHeartbeat       = 5 * time.Second
	DefaultTakeoverAfter   = 5 * time.Second
	DefaultMaxEventRecords = 10000
	DefaultMaxEventBytes   = 1 << 20
)

// Config configures a Server. Zero values select the defaults.
type Config struct {
	// Lifetime is how long a subscription lives before the server ends
	// its stream cleanly (AWS: 5 minutes; the client re-subscribes from
	// the last ContinuationSequenceNumber). Default DefaultLifetime.
	Lifetime time.Duration
	// Heartbeat is the longest time without an event: an idle
	// subscription gets an empty SubscribeToShardEvent (with a fresh
	// ContinuationSequenceNumber) this long after its last event. The
	// consumer's registration and the stream's encryption are re-checked
	// at the same pace. Default DefaultHeartbeat (AWS sends an event at
	// least every ~5 s).
	Heartbeat time.Duration
	// TakeoverAfter is the age from which a live subscription of the same
	// consumer and shard is taken over by a new SubscribeToShard (the old
	// stream ends with a ResourceInUseException event); a younger one
	// makes the new call fail with ResourceInUseException. Default
	// DefaultTakeoverAfter (AWS: 5 s); negative: never take over.
	TakeoverAfter time.Duration
	// CallInterval is the least time between two SubscribeToShard calls
	// of one consumer and shard that are let through: a call sooner fails
	// with LimitExceededException (AWS: one call per second per consumer
	// and shard). Zero: no limit (cmd/sluice sets 1 s with
	// --emulate-quotas).
	CallInterval time.Duration
	// MaxEventRecords caps the records of one event. Default
	// DefaultMaxEventRecords.
	MaxEventRecords int
	// MaxEventBytes caps the record data of one event (a single larger
	// record still goes alone). It bounds the memory of a subscription:
	// about twice this (base64 JSON and the encoded message) per live
	// subscription. Default DefaultMaxEventBytes (1 MiB).
	MaxEventBytes int
	// Now is the clock of subscription ages. Default time.Now.
	Now func() time.Time
	// Logger gets subscription failures. Default slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.Lifetime == 0 {
		c.Lifetime = DefaultLifetime
	}
	if c.Heartbeat == 0 {
		c.Heartbeat = DefaultHeartbeat
	}
	if c.TakeoverAfter == 0 {
		c.TakeoverAfter = DefaultTakeoverAfter
	}
	if c.MaxEventRecords == 0 {
		c.MaxEventRecords = DefaultMaxEventRecords
	}
	if c.MaxEventBytes == 0 {
		c.MaxEventBytes = DefaultMaxEventBytes
	}
	if c.Now == nil {
		c.Now = time.Now
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks a configuration whose defaults have been filled in.
func (c Config) Validate() error {
	switch {
	case c.Lifetime < 0:
		return errors.New("fanout: Config.Lifetime must not be negative")
	case c.Heartbeat < 0:
		return errors.New("fanout: Config.Heartbeat must not be negative")
	case c.MaxEventRecords < 1 || c.MaxEventRecords > stream.MaxGetRecordsLimit:
		return fmt.Errorf("fanout: Config.MaxEventRecords %d is not in [1, %d]", c.MaxEventRecords, stream.MaxGetRecordsLimit)
	case c.MaxEventBytes < 1 || c.MaxEventBytes > 8<<20:
		return fmt.Errorf("fanout: Config.MaxEventBytes %d is not in [1, 8 MiB] (an event must stay below the 16 MiB frame limit in base64)", c.MaxEventBytes)
	}
	return nil
}

// Server serves SubscribeToShard for the streams of one stream.Manager.
// It is safe for concurrent use. It starts no goroutines: a subscription
// runs on the goroutine that calls Subscription.Run (the HTTP handler's).
type Server struct {
	cfg Config
	m   *stream.Manager

	mu     sync.Mutex
	closed bool
	live   map[subKey]*Subscription
	calls  map[subKey]time.Time // with CallInterval: the last call let through
}

type subKey struct{ consumerARN, shardID string }

// New returns a Server over m.
func New(m *stream.Manager, cfg Config) (*Server, error) {
	cfg = cfg.withDefaults()
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	return &Server{cfg: cfg, m: m, live: make(map[subKey]*Subscription)}, nil
}

// Close ends every live subscription cleanly (their streams finish without
// an exception after the event being written) and makes later Opens fail
// with stream.ErrClosed. It does not wait: the subscriptions run on the
// HTTP layer's goroutines, whose shutdown waits for them.
func (s *Server) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	for k, sub := range s.live {
		sub.stop("", "")
		delete(s.live, k)
	}
	return nil
}

// Live returns the number of live subscriptions.
func (s *Server) Live() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.live)
}

// Open checks a SubscribeToShard request and registers the subscription,
// in this order (each failure is returned before the stream starts):
//
//   - the consumer (stream.Manager.DescribeStreamConsumer by ARN):
//     *stream.ArgumentError for a malformed ARN, an error wrapping
//     stream.ErrStreamNotFound or stream.ErrResourceNotFound when the
//     stream or consumer does not exist; *stream.APIError of kind
//     stream.ErrResourceInUse when the consumer is not ACTIVE;
//   - the shard and starting position (stream.Manager.FollowShard):
//     *stream.ArgumentError, an error wrapping stream.ErrShardNotFound;
//   - one live subscription per consumer and shard: *stream.APIError of
//     kind stream.ErrResourceInUse ("Another active subscription exists
//     for this consumer: <ARN>") while the live one is younger than
//     Config.TakeoverAfter; an older one is taken over.
//
// The caller must call Run or Close on the returned Subscription.
func (s *Server) Open(req Request) (*Subscription, error) {
	if err := s.admitCall(subKey{req.ConsumerARN, req.ShardID}); err != nil {
		return nil, err
	}
	info, err := s.m.DescribeStreamConsumer("", "", req.ConsumerARN)
	if err != nil {
		return nil, err
	}
	streamName, _, err := s.m.ResolveResource(req.ConsumerARN)
	if err != nil {
		return nil, err
	}
	if info.Status != stream.ConsumerActive {
		// Observed AWS text (awslabs/kinesis-hot-shard-advisor#37); the
		// account part was elided there [unsure].
		return nil, &stream.APIError{Kind: stream.ErrResourceInUse, Msg: "Consumer " + info.Name + " with creation timestamp " +
			arnSeconds(info.ARN) + " under stream: " + streamName + " , account " + arnAccount(info.ARN) + " is not in ACTIVE status."}
	}
	sp := req.StartingPosition
	if sp.Type == stream.IterAtTimestamp && !sp.HasTimestamp {
		// [unsure] AWS's text.
		return nil, &stream.ArgumentError{Msg: "Must specify Timestamp in StartingPosition for type AT_TIMESTAMP."}
	}
	f, err := s.m.FollowShard(streamName, req.ShardID, stream.FollowPosition{
		Type: sp.Type, SequenceNumber: sp.SequenceNumber, TimestampMillis: sp.TimestampMillis,
	})
	if err != nil {
		return nil, err
	}
	sub := &Subscription{
		srv:         s,
		key:         subKey{req.ConsumerARN, req.ShardID},
		follower:    f,
		streamName:  streamName,
		consumerARN: req.ConsumerARN,
		cbor:        req.CBOR,
		started:     s.cfg.Now(),
		stopped:     make(chan struct{}),
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return nil, stream.ErrClosed
	}
	if old := s.live[sub.key]; old != nil {
		if s.cfg.TakeoverAfter < 0 || sub.started.Sub(old.started) < s.cfg.TakeoverAfter {
			return nil, &stream.APIError{Kind: stream.ErrResourceInUse, Msg: inUseText(req.ConsumerARN)}
		}
		old.stop(ExceptionResourceInUse, inUseText(req.ConsumerARN))
	}
	s.live[sub.key] = sub
	return sub, nil
}

// admitCall applies Config.CallInterval to a call of key: a
// *stream.APIError of kind stream.ErrLimitExceeded when the last call let
// through is more recent. A refused call does not count.
func (s *Server) admitCall(key subKey) error {
	if s.cfg.CallInterval <= 0 {
		return nil
	}
	now := s.cfg.Now()
	s.mu.Lock()
	defer s.mu.Unlock()
	if last, ok := s.calls[key]; ok && now.Sub(last) < s.cfg.CallInterval {
		// [unsure] AWS's text.
		return &stream.APIError{Kind: stream.ErrLimitExceeded, Msg: "Rate exceeded for consumer " + key.consumerARN +
			" and shard " + key.shardID + "."}
	}
	if s.calls == nil || len(s.calls) >= maxCallKeys {
		// Forget the calls too old to matter, so that the map stays as
		// small as the set of recently subscribed keys.
		if s.calls == nil {
			s.calls = make(map[subKey]time.Time)
		}
		for k, t := range s.calls {
			if now.Sub(t) >= s.cfg.CallInterval {
				delete(s.calls, k)
			}
		}
	}
	s.calls[key] = now
	return nil
}

// maxCallKeys is the size of Server.calls from which admitCall prunes it.
const maxCallKeys = 4096

// inUseText is AWS's ResourceInUseException text for a second live
// subscription (seen in client tests; the ARN suffix [unsure]).
func inUseText(consumerARN string) string {
	return "Another active subscription exists for this consumer: " + consumerARN
}

// release unregisters sub if it is still the live one of its key.
func (s *Server) release(sub *Subscription) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.live[sub.key] == sub {
		delete(s.live, sub.key)
	}
}

// arnSeconds returns the creation seconds of a consumer ARN
// (<StreamARN>/consumer/<name>:<seconds>).
func arnSeconds(arn string) string {
	if i := strings.LastIndexByte(arn, ':'); i >= 0 {
		if _, err := strconv.ParseInt(arn[i+1:], 10, 64); err == nil {
			return arn[i+1:]
		}
	}
	return ""
}

// arnAccount returns the account field of an ARN.
func arnAccount(arn string) string {
	f := strings.SplitN(arn, ":", 6)
	if len(f) < 6 {
		return ""
	}
	return f[4]
}

// Subscribe is Open for the HTTP front end, which knows the service only
// as a stream.Subscriber (ingress and fanout never import each other).
func (s *Server) Subscribe(req stream.SubscribeRequest) (stream.Subscription, error) {
	sub, err := s.Open(req)
	if err != nil {
		return nil, err
	}
	return sub, nil
}

var _ stream.Subscriber = (*Server)(nil)

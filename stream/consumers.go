package stream

import (
	"cmp"
	"encoding/base64"
	"maps"
	"slices"
	"strconv"
	"strings"
)

// Consumer statuses (ConsumerStatus).
const (
	ConsumerCreating = "CREATING"
	ConsumerActive   = "ACTIVE"
	ConsumerDeleting = "DELETING"
)

const (
	// DefaultListConsumers and MaxListConsumers are the default and largest
	// MaxResults of ListStreamConsumers.
	DefaultListConsumers = 100
	MaxListConsumers     = 10000
	// MaxConsumerNameLen is the model's limit of ConsumerName.
	MaxConsumerNameLen = 128
)

// ConsumerInfo describes an enhanced fan-out consumer (Consumer and
// ConsumerDescription).
type ConsumerInfo struct {
	Name          string
	ARN           string // <StreamARN>/consumer/<Name>:<creation Unix seconds>
	Status        string
	CreatedMillis int64 // ConsumerCreationTimestamp, Unix ms
	StreamARN     string
}

func (m *Manager) consumerInfo(s *streamState, c *consumerMeta) ConsumerInfo {
	status := ConsumerActive
	if m.cfg.Now().UnixMilli() < c.CreatedMillis+m.cfg.ConsumerActivationDelay.Milliseconds() {
		status = ConsumerCreating
	}
	return ConsumerInfo{Name: c.Name, ARN: c.ARN, Status: status, CreatedMillis: c.CreatedMillis, StreamARN: s.meta.ARN}
}

func checkConsumerName(name string) error {
	if len(name) < 1 || len(name) > MaxConsumerNameLen {
		return argError("ConsumerName must be 1 to " + strconv.Itoa(MaxConsumerNameLen) + " characters long")
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_' || c == '.' || c == '-') {
			return argError("ConsumerName " + quoteInput(name) + " must satisfy regular expression pattern: [a-zA-Z0-9_.-]+")
		}
	}
	return nil
}

// resourceARN is a parsed stream or consumer ARN of this manager.
type resourceARN struct {
	stream   string
	consumer string // full consumer ARN, "" for a stream ARN
}

// parseResourceARN parses a stream ARN or a consumer ARN
// (<StreamARN>/consumer/<name>:<seconds>). A malformed one is an
// *ArgumentError; one of another region or account wraps
// ErrStreamNotFound.
func (m *Manager) parseResourceARN(arn string) (resourceARN, error) {
	streamPart, consumerPart, isConsumer := strings.Cut(arn, "/consumer/")
	name, err := m.ParseStreamARN(streamPart)
	if err != nil {
		return resourceARN{}, err
	}
	if !isConsumer {
		return resourceARN{stream: name}, nil
	}
	cname, secs, ok := strings.Cut(consumerPart, ":")
	if !ok || checkConsumerName(cname) != nil || secs == "" || checkDigits(secs) != "" {
		// [unsure] AWS's text.
		return resourceARN{}, argError("Invalid ConsumerARN " + quoteInput(arn) + ".")
	}
	return resourceARN{stream: name, consumer: arn}, nil
}

// ResolveResource checks a ResourceARN (tags, resource policies): it
// returns the stream name and whether the ARN is a consumer's.
func (m *Manager) ResolveResource(arn string) (streamName string, consumer bool, err error) {
	r, err := m.parseResourceARN(arn)
	return r.stream, r.consumer != "", err
}

func (m *Manager) consumerNotFound(what string) error {
	// [unsure] AWS's text.
	return apiError(ErrResourceNotFound, "Consumer "+what+" under account "+m.cfg.AccountID+" not found.")
}

func findConsumer(st *settingsMeta, arn, name string) int {
	for i := range st.Consumers {
		c := &st.Consumers[i]
		if (arn != "" && c.ARN == arn) || (arn == "" && c.Name == name) {
			return i
		}
	}
	return -1
}

// updateResource runs fn on the settings copy of the stream of arn and, for
// a consumer ARN, on the consumer in that copy (nil for a stream).
func (m *Manager) updateResource(arn string, fn func(s *streamState, st *settingsMeta, c *consumerMeta) error) error {
	r, err := m.parseResourceARN(arn)
	if err != nil {
		return err
	}
	return m.updateSettings(r.stream, func(s *streamState, st *settingsMeta) error {
		if r.consumer == "" {
			return fn(s, st, nil)
		}
		i := findConsumer(st, r.consumer, "")
		if i < 0 {
			return m.consumerNotFound(r.consumer)
		}
		return fn(s, st, &st.Consumers[i])
	})
}

// readResource runs fn on the current (immutable) settings of the resource
// of arn.
func (m *Manager) readResource(arn string, fn func(st *settingsMeta, c *consumerMeta)) error {
	r, err := m.parseResourceARN(arn)
	if err != nil {
		return err
	}
	s, err := m.stream(r.stream)
	if err != nil {
		return err
	}
	st := s.settings.Load()
	if r.consumer == "" {
		fn(st, nil)
		return nil
	}
	i := findConsumer(st, r.consumer, "")
	if i < 0 {
		return m.consumerNotFound(r.consumer)
	}
	fn(st, &st.Consumers[i])
	return nil
}

// RegisterStreamConsumer registers consumer name with the stream of
// streamARN. The consumer is returned in status CREATING (as AWS does) and
// is ACTIVE once Config.ConsumerActivationDelay has passed (default 0: at
// the next call).
//
// Errors: *ArgumentError for a bad name, ARN or tag; ErrResourceInUse when
// the name is taken or the stream is not ACTIVE; ErrLimitExceeded beyond
// Limits.MaxConsumersPerStream consumers or Limits.MaxCreatingConsumers in
// CREATING; ErrStreamNotFound.
func (m *Manager) RegisterStreamConsumer(streamARN, name string, tags map[string]string) (ConsumerInfo, error) {
	if err := checkConsumerName(name); err != nil {
		return ConsumerInfo{}, err
	}
	if len(tags) > 0 {
		if err := checkTags(tags); err != nil {
			return ConsumerInfo{}, err
		}
		if len(tags) > MaxTagsPerResource {
			return ConsumerInfo{}, tooManyTags(name, m.cfg.AccountID)
		}
	}
	streamName, err := m.ParseStreamARN(streamARN)
	if err != nil {
		return ConsumerInfo{}, err
	}
	var out ConsumerInfo
	err = m.updateSettings(streamName, func(s *streamState, st *settingsMeta) error {
		if err := m.checkActive(s); err != nil {
			return err
		}
		if findConsumer(st, "", name) >= 0 {
			// [unsure] AWS's text.
			return apiError(ErrResourceInUse, "Consumer "+name+" under stream "+streamName+" already exists for account "+m.cfg.AccountID+".")
		}
		if len(st.Consumers) >= m.cfg.Limits.MaxConsumersPerStream {
			// [unsure] AWS's text.
			return apiError(ErrLimitExceeded, "Consumer limit of "+strconv.Itoa(m.cfg.Limits.MaxConsumersPerStream)+
				" exceeded for stream "+streamName+" under account "+m.cfg.AccountID+".")
		}
		creating := 0
		for i := range st.Consumers {
			if m.consumerInfo(s, &st.Consumers[i]).Status == ConsumerCreating {
				creating++
			}
		}
		if creating >= m.cfg.Limits.MaxCreatingConsumers {
			// [unsure] AWS's text.
			return apiError(ErrLimitExceeded, "Only "+strconv.Itoa(m.cfg.Limits.MaxCreatingConsumers)+
				" consumers can be in CREATING status at once for stream "+streamName+" under account "+m.cfg.AccountID+".")
		}
		now := m.cfg.Now()
		secs := now.Unix()
		key := s.meta.ARN + "/" + name
		// A re-registered name gets a new ARN even within the same second,
		// so that stale subscriptions can be told apart.
		if last, ok := m.lastConsumerSecs[key]; ok && secs <= last {
			secs = last + 1
		}
		c := consumerMeta{
			Name:          name,
			ARN:           s.meta.ARN + "/consumer/" + name + ":" + strconv.FormatInt(secs, 10),
			CreatedMillis: now.UnixMilli(),
			Tags:          maps.Clone(tags),
		}
		st.Consumers = append(st.Consumers, c)
		slices.SortStableFunc(st.Consumers, func(a, b consumerMeta) int {
			if a.CreatedMillis != b.CreatedMillis {
				return cmp.Compare(a.CreatedMillis, b.CreatedMillis)
			}
			return strings.Compare(a.Name, b.Name)
		})
		m.lastConsumerSecs[key] = secs
		out = m.consumerInfo(s, &c)
		out.Status = ConsumerCreating
		return nil
	})
	return out, err
}

// locateConsumer resolves the (StreamARN, ConsumerName, ConsumerARN) triple
// of DescribeStreamConsumer and DeregisterStreamConsumer: either
// consumerARN, or streamARN and name; what is given must agree.
func (m *Manager) locateConsumer(streamARN, name, consumerARN string) (streamName, arn string, err error) {
	if consumerARN != "" {
		r, err := m.parseResourceARN(consumerARN)
		if err != nil {
			return "", "", err
		}
		if r.consumer == "" {
			return "", "", argError("Invalid ConsumerARN " + quoteInput(consumerARN) + ".")
		}
		if streamARN != "" && !strings.HasPrefix(consumerARN, streamARN+"/consumer/") ||
			name != "" && !strings.Contains(consumerARN, "/consumer/"+name+":") {
			// [unsure] AWS's text.
			return "", "", argError("ConsumerARN " + quoteInput(consumerARN) + " does not match the given StreamARN or ConsumerName.")
		}
		return r.stream, consumerARN, nil
	}
	if streamARN == "" || name == "" {
		// [unsure] AWS's text.
		return "", "", argError("Either ConsumerARN or both StreamARN and ConsumerName must be provided.")
	}
	if err := checkConsumerName(name); err != nil {
		return "", "", err
	}
	streamName, err = m.ParseStreamARN(streamARN)
	return streamName, "", err
}

// DescribeStreamConsumer returns a consumer, given by consumerARN or by
// streamARN and name. A missing consumer is ErrResourceNotFound.
func (m *Manager) DescribeStreamConsumer(streamARN, name, consumerARN string) (ConsumerInfo, error) {
	streamName, arn, err := m.locateConsumer(streamARN, name, consumerARN)
	if err != nil {
		return ConsumerInfo{}, err
	}
	s, err := m.stream(streamName)
	if err != nil {
		return ConsumerInfo{}, err
	}
	st := s.settings.Load()
	i := findConsumer(st, arn, name)
	if i < 0 {
		return ConsumerInfo{}, m.consumerNotFound(firstNonEmpty(arn, name))
	}
	return m.consumerInfo(s, &st.Consumers[i]), nil
}

func firstNonEmpty(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// DeregisterStreamConsumer removes a consumer (the DELETING phase
// completes at once). A missing consumer is ErrResourceNotFound.
func (m *Manager) DeregisterStreamConsumer(streamARN, name, consumerARN string) error {
	streamName, arn, err := m.locateConsumer(streamARN, name, consumerARN)
	if err != nil {
		return err
	}
	return m.updateSettings(streamName, func(s *streamState, st *settingsMeta) error {
		i := findConsumer(st, arn, name)
		if i < 0 {
			return m.consumerNotFound(firstNonEmpty(arn, name))
		}
		st.Consumers = append(st.Consumers[:i], st.Consumers[i+1:]...)
		return nil
	})
}

// ListStreamConsumers lists the consumers of the stream of streamARN in
// registration order: at most maxResults (1..10000, 0 for 100) from
// nextToken ("" for the first page); it returns the token of the next page
// ("" at the end). streamCreatedMillis, when not 0, must be the stream's
// creation time (to the second), else the stream counts as not found
// [unsure].
func (m *Manager) ListStreamConsumers(streamARN, nextToken string, maxResults int, streamCreatedMillis int64) ([]ConsumerInfo, string, error) {
	if maxResults == 0 {
		maxResults = DefaultListConsumers
	}
	if maxResults < 1 || maxResults > MaxListConsumers {
		return nil, "", argError("MaxResults must be between 1 and " + strconv.Itoa(MaxListConsumers))
	}
	streamName, err := m.ParseStreamARN(streamARN)
	if err != nil {
		return nil, "", err
	}
	s, err := m.stream(streamName)
	if err != nil {
		return nil, "", err
	}
	if streamCreatedMillis != 0 && streamCreatedMillis/1000 != s.meta.CreatedMillis/1000 {
		return nil, "", notFound(streamName)
	}
	start := 0
	st := s.settings.Load()
	if nextToken != "" {
		created, after, err := decodeConsumerToken(nextToken, s.meta.CreatedMillis)
		if err != nil {
			return nil, "", err
		}
		for start < len(st.Consumers) && !consumerAfter(&st.Consumers[start], created, after) {
			start++
		}
	}
	end := min(start+maxResults, len(st.Consumers))
	out := make([]ConsumerInfo, 0, end-start)
	for i := start; i < end; i++ {
		out = append(out, m.consumerInfo(s, &st.Consumers[i]))
	}
	token := ""
	if end < len(st.Consumers) {
		last := &st.Consumers[end-1]
		token = encodeConsumerToken(s.meta.CreatedMillis, last.CreatedMillis, last.Name)
	}
	return out, token, nil
}

// consumerAfter reports whether c comes after the consumer (created, name)
// in registration order (creation time, then name).
func consumerAfter(c *consumerMeta, created int64, name string) bool {
	return c.CreatedMillis > created || c.CreatedMillis == created && c.Name > name
}

// Consumer page tokens: base64url("c1:<stream created ms>:<consumer created
// ms>:<consumer name>").
func encodeConsumerToken(streamCreated, created int64, name string) string {
	return base64.RawURLEncoding.EncodeToString([]byte("c1:" + strconv.FormatInt(streamCreated, 10) + ":" +
		strconv.FormatInt(created, 10) + ":" + name))
}

func decodeConsumerToken(tok string, streamCreated int64) (int64, string, error) {
	bad := argError("Invalid NextToken.") // [unsure] AWS's text
	b, err := base64.RawURLEncoding.DecodeString(tok)
	if err != nil {
		return 0, "", bad
	}
	f := strings.SplitN(string(b), ":", 4)
	if len(f) != 4 || f[0] != "c1" {
		return 0, "", bad
	}
	sc, err1 := strconv.ParseInt(f[1], 10, 64)
	created, err2 := strconv.ParseInt(f[2], 10, 64)
	if err1 != nil || err2 != nil || sc != streamCreated {
		return 0, "", bad
	}
	return created, f[3], nil
}

// checkConsumersLocked refuses to delete a stream with consumers unless
// enforce is set. Lock must be held.
func (m *Manager) checkConsumersLocked(s *streamState, enforce bool) error {
	if n := len(s.settings.Load().Consumers); n > 0 && !enforce {
		// [unsure] AWS's text.
		return apiError(ErrResourceInUse, "Stream "+s.meta.Name+" under account "+m.cfg.AccountID+" has "+strconv.Itoa(n)+
			" registered consumers; set EnforceConsumerDeletion to delete it with them.")
	}
	return nil
}

package stream

import (
	"maps"
	"slices"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

const (
	// MaxTagsPerResource is AWS's limit of tags per stream or consumer.
	MaxTagsPerResource = 50
	// MaxTagKeyLen and MaxTagValueLen bound tags in characters (model).
	MaxTagKeyLen   = 128
	MaxTagValueLen = 256
	// MaxListTagsLimit is the largest (and default) Limit of
	// ListTagsForStream.
	MaxListTagsLimit = 50
	// MaxTagsPerAddCall is the most tags one AddTagsToStream call may carry
	// (the API reference: "A set of up to 10 key-value pairs"; the model
	// allows 200, and TagResource is bounded by MaxTagsPerResource only).
	MaxTagsPerAddCall = 10
)

// Tag is a resource tag.
type Tag struct {
	Key, Value string
}

// checkTags checks the keys and values of tags (AWS's tag restrictions:
// key 1-128 and value 0-256 characters of Unicode letters, digits, white
// space and _ . / = + - @ :; the prefix aws: is reserved).
func checkTags(tags map[string]string) error {
	if len(tags) == 0 {
		return argError("Tags must not be empty.")
	}
	for k, v := range tags {
		if err := checkTagKey(k); err != nil {
			return err
		}
		if utf8.RuneCountInString(v) > MaxTagValueLen {
			// [unsure] AWS's text.
			return argError("Tag value of key " + quoteInput(k) + " must be at most " + strconv.Itoa(MaxTagValueLen) + " characters long.")
		}
		if !validTagChars(v) {
			return invalidTagChars()
		}
	}
	return nil
}

func checkTagKey(k string) error {
	if n := utf8.RuneCountInString(k); n < 1 || n > MaxTagKeyLen {
		// [unsure] AWS's text.
		return argError("Tag key " + quoteInput(k) + " must be 1 to " + strconv.Itoa(MaxTagKeyLen) + " characters long.")
	}
	if !validTagChars(k) {
		return invalidTagChars()
	}
	if len(k) >= 4 && strings.EqualFold(k[:4], "aws:") {
		// [unsure] AWS's text; AWS reserves the prefix.
		return argError("Tag key " + quoteInput(k) + " uses the reserved prefix 'aws:'.")
	}
	return nil
}

func validTagChars(s string) bool {
	for _, r := range s {
		if unicode.IsLetter(r) || unicode.IsDigit(r) || unicode.IsSpace(r) || strings.ContainsRune("_./=+-@:", r) {
			continue
		}
		return false
	}
	return utf8.ValidString(s)
}

// invalidTagChars is kinesalite's text, captured from AWS.
func invalidTagChars() error {
	return argError("Some tags contain invalid characters. Valid characters: Unicode letters, digits, white space, _ . / = + - % @ :.")
}

func tooManyTags(resource, account string) error {
	// kinesalite's text (captured from AWS when the limit was 10).
	return argError("Failed to add tags to stream " + resource + " under account " + account +
		" because a given stream cannot have more than " + strconv.Itoa(MaxTagsPerResource) + " tags associated with it.")
}

func checkTagKeys(keys []string) error {
	if len(keys) < 1 || len(keys) > MaxTagsPerResource {
		return argError("TagKeys must hold 1 to " + strconv.Itoa(MaxTagsPerResource) + " keys.")
	}
	for _, k := range keys {
		if n := utf8.RuneCountInString(k); n < 1 || n > MaxTagKeyLen {
			return argError("Tag key " + quoteInput(k) + " must be 1 to " + strconv.Itoa(MaxTagKeyLen) + " characters long.")
		}
	}
	return nil
}

// mergeTags adds tags to *dst (a map owned by the caller's copy), checking
// the per-resource limit. resource names the resource in the error.
func (m *Manager) mergeTags(dst *map[string]string, tags map[string]string, resource string) error {
	if err := checkTags(tags); err != nil {
		return err
	}
	n := len(*dst)
	for k := range tags {
		if _, ok := (*dst)[k]; !ok {
			n++
		}
	}
	if n > MaxTagsPerResource {
		return tooManyTags(resource, m.cfg.AccountID)
	}
	if *dst == nil {
		*dst = make(map[string]string, len(tags))
	}
	maps.Copy(*dst, tags)
	return nil
}

// AddTagsToStream adds or overwrites tags of a stream: at most 10 per call
// and 50 per stream in all.
func (m *Manager) AddTagsToStream(name string, tags map[string]string) error {
	if len(tags) > MaxTagsPerAddCall {
		// [unsure] AWS's text.
		return argError("Failed to add tags to stream " + name + " under account " + m.cfg.AccountID +
			" because a request may add at most " + strconv.Itoa(MaxTagsPerAddCall) + " tags.")
	}
	return m.updateSettings(name, func(s *streamState, st *settingsMeta) error {
		return m.mergeTags(&st.Tags, tags, name)
	})
}

// RemoveTagsFromStream removes tags by key; absent keys are ignored.
func (m *Manager) RemoveTagsFromStream(name string, keys []string) error {
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	return m.updateSettings(name, func(s *streamState, st *settingsMeta) error {
		return removeTags(st.Tags, keys)
	})
}

func removeTags(tags map[string]string, keys []string) error {
	n := len(tags)
	for _, k := range keys {
		delete(tags, k)
	}
	if len(tags) == n {
		return errUnchanged
	}
	return nil
}

// ListTagsForStream returns the stream's tags sorted by key, starting after
// exclusiveStartKey ("" for the first), at most limit (1..50, 0 for 50),
// and whether more follow (HasMoreTags).
func (m *Manager) ListTagsForStream(name, exclusiveStartKey string, limit int) ([]Tag, bool, error) {
	if limit == 0 {
		limit = MaxListTagsLimit
	}
	if limit < 1 || limit > MaxListTagsLimit {
		return nil, false, argError("Limit must be between 1 and " + strconv.Itoa(MaxListTagsLimit))
	}
	s, err := m.stream(name)
	if err != nil {
		return nil, false, err
	}
	all := sortedTags(s.settings.Load().Tags)
	i, _ := slices.BinarySearchFunc(all, exclusiveStartKey, func(t Tag, k string) int { return strings.Compare(t.Key, k) })
	if i < len(all) && exclusiveStartKey != "" && all[i].Key == exclusiveStartKey {
		i++
	}
	all = all[i:]
	if len(all) > limit {
		return all[:limit], true, nil
	}
	return all, false, nil
}

func sortedTags(tags map[string]string) []Tag {
	out := make([]Tag, 0, len(tags))
	for _, k := range slices.Sorted(maps.Keys(tags)) {
		out = append(out, Tag{Key: k, Value: tags[k]})
	}
	return out
}

// TagResource adds or overwrites tags of a stream or consumer, given by its
// ARN (see ResolveResource for the errors of the ARN).
func (m *Manager) TagResource(arn string, tags map[string]string) error {
	return m.updateResource(arn, func(s *streamState, st *settingsMeta, c *consumerMeta) error {
		if c != nil {
			return m.mergeTags(&c.Tags, tags, arn)
		}
		return m.mergeTags(&st.Tags, tags, s.meta.Name)
	})
}

// UntagResource removes tags of a stream or consumer by key.
func (m *Manager) UntagResource(arn string, keys []string) error {
	if err := checkTagKeys(keys); err != nil {
		return err
	}
	return m.updateResource(arn, func(s *streamState, st *settingsMeta, c *consumerMeta) error {
		if c != nil {
			return removeTags(c.Tags, keys)
		}
		return removeTags(st.Tags, keys)
	})
}

// ListTagsForResource returns all tags of a stream or consumer, sorted by
// key.
func (m *Manager) ListTagsForResource(arn string) ([]Tag, error) {
	var out []Tag
	err := m.readResource(arn, func(st *settingsMeta, c *consumerMeta) {
		if c != nil {
			out = sortedTags(c.Tags)
		} else {
			out = sortedTags(st.Tags)
		}
	})
	return out, err
}

package stream

import (
	"encoding/json"
	"strconv"
)

// MaxPolicyBytes bounds a resource policy document [unsure: AWS's limit
// for Kinesis resource policies; 20 KiB is IAM's for resource policies].
const MaxPolicyBytes = 20 << 10

// PutResourcePolicy attaches policy (a JSON document, stored as given) to
// a stream or consumer, replacing any earlier one. The policy is not
// evaluated: sluice does no authorization.
func (m *Manager) PutResourcePolicy(arn, policy string) error {
	if len(policy) > MaxPolicyBytes {
		// [unsure] AWS's text.
		return argError("Policy must be at most " + strconv.Itoa(MaxPolicyBytes) + " bytes long.")
	}
	var doc map[string]any
	if err := json.Unmarshal([]byte(policy), &doc); err != nil {
		// [unsure] AWS's text.
		return argError("Policy is not a valid JSON document.")
	}
	return m.updateResource(arn, func(s *streamState, st *settingsMeta, c *consumerMeta) error {
		if c != nil {
			c.Policy = policy
		} else {
			st.Policy = policy
		}
		return nil
	})
}

// GetResourcePolicy returns the policy of a stream or consumer, "{}" when
// it has none [unsure: what AWS returns then].
func (m *Manager) GetResourcePolicy(arn string) (string, error) {
	p := ""
	err := m.readResource(arn, func(st *settingsMeta, c *consumerMeta) {
		if c != nil {
			p = c.Policy
		} else {
			p = st.Policy
		}
	})
	if err == nil && p == "" {
		p = "{}"
	}
	return p, err
}

// DeleteResourcePolicy removes the policy of a stream or consumer; without
// one it is a no-op [unsure: AWS may return ResourceNotFoundException].
func (m *Manager) DeleteResourcePolicy(arn string) error {
	return m.updateResource(arn, func(s *streamState, st *settingsMeta, c *consumerMeta) error {
		p := &st.Policy
		if c != nil {
			p = &c.Policy
		}
		if *p == "" {
			return errUnchanged
		}
		*p = ""
		return nil
	})
}

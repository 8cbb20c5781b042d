package stream

import "time"

// Statuses of MinimumThroughputBillingCommitment.
const (
	CommitmentEnabled                        = "ENABLED"
	CommitmentDisabled                       = "DISABLED"
	CommitmentEnabledUntilEarliestAllowedEnd = "ENABLED_UNTIL_EARLIEST_ALLOWED_END"
)

// CommitmentMinimum is how long a MinimumThroughputBillingCommitment lasts
// at least once enabled [unsure: AWS's period; state only here].
const CommitmentMinimum = 24 * time.Hour

// accountMeta is the account's settings in streams.json ("account").
type accountMeta struct {
	CommitmentStatus  string `json:"commitmentStatus,omitempty"` // "" is DISABLED
	StartedMillis     int64  `json:"startedMillis,omitempty"`
	EndedMillis       int64  `json:"endedMillis,omitempty"`
	EarliestEndMillis int64  `json:"earliestEndMillis,omitempty"`
}

// BillingCommitment is the account's MinimumThroughputBillingCommitment
// (DescribeAccountSettings, UpdateAccountSettings). Times are Unix ms, 0
// when absent.
type BillingCommitment struct {
	Status               string
	StartedAt            int64
	EndedAt              int64
	EarliestAllowedEndAt int64
}

// commitmentLocked returns the commitment as of now. Lock must be held
// (shared is enough).
func (m *Manager) commitmentLocked() BillingCommitment {
	a := m.account
	c := BillingCommitment{Status: a.CommitmentStatus, StartedAt: a.StartedMillis, EndedAt: a.EndedMillis, EarliestAllowedEndAt: a.EarliestEndMillis}
	if c.Status == "" {
		c.Status = CommitmentDisabled
	}
	if c.Status == CommitmentEnabledUntilEarliestAllowedEnd && m.cfg.Now().UnixMilli() >= c.EndedAt {
		c.Status = CommitmentDisabled
	}
	return c
}

// commitmentActiveLocked reports whether the commitment is in force. Lock
// must be held.
func (m *Manager) commitmentActiveLocked() bool {
	return m.commitmentLocked().Status != CommitmentDisabled
}

// DescribeAccountSettings returns the account's billing commitment.
func (m *Manager) DescribeAccountSettings() (BillingCommitment, error) {
	m.mu.RLock()
	defer m.mu.RUnlock()
	if m.closed {
		return BillingCommitment{}, ErrClosed
	}
	return m.commitmentLocked(), nil
}

// UpdateAccountSettings enables (status ENABLED) or disables (DISABLED) the
// account's MinimumThroughputBillingCommitment (state only). Enabling sets
// StartedAt to now and EarliestAllowedEndAt to now + CommitmentMinimum;
// disabling before EarliestAllowedEndAt leaves it
// ENABLED_UNTIL_EARLIEST_ALLOWED_END until then [unsure: AWS's exact
// semantics]. Another status is an ErrValidation.
func (m *Manager) UpdateAccountSettings(status string) (BillingCommitment, error) {
	if status != CommitmentEnabled && status != CommitmentDisabled {
		return BillingCommitment{}, apiError(ErrValidation, "1 validation error detected: Value '"+status+
			"' at 'minimumThroughputBillingCommitment.status' failed to satisfy constraint: Member must satisfy enum value set: [ENABLED, DISABLED]")
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.closed {
		return BillingCommitment{}, ErrClosed
	}
	cur := m.commitmentLocked()
	now := m.cfg.Now().UnixMilli()
	next := m.account
	switch {
	case status == CommitmentEnabled && cur.Status == CommitmentEnabled:
		return cur, nil
	case status == CommitmentEnabled:
		next = accountMeta{CommitmentStatus: CommitmentEnabled, StartedMillis: now, EarliestEndMillis: now + CommitmentMinimum.Milliseconds()}
	case cur.Status == CommitmentDisabled || cur.Status == CommitmentEnabledUntilEarliestAllowedEnd:
		return cur, nil
	case now < next.EarliestEndMillis:
		next.CommitmentStatus = CommitmentEnabledUntilEarliestAllowedEnd
		next.EndedMillis = next.EarliestEndMillis
	default:
		next.CommitmentStatus = CommitmentDisabled
		next.EndedMillis = now
	}
	old := m.account
	m.account = next
	if err := writeMeta(m.cfg.DataDir, m.metaLocked()); err != nil {
		m.account = old
		return BillingCommitment{}, err
	}
	return m.commitmentLocked(), nil
}

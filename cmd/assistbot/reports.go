package main

import "github.com/assistbot/assistbot/core/report"

// reports returns the store as the reports' source (core/report): both
// stores compute reports from the event log, in SQL. Nil for a store that
// does not, whose reports then answer 503.
func (m *Main) reports() report.Store {
	rs, _ := m.store.(report.Store)
	return rs
}

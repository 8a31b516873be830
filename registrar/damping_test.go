package registrar

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// TestDamper: the turn to critical and back needs its count of results
// spanning as many intervals; a burst of evaluations confirms nothing
// early; results on one side move freely; the first is taken as it is.
func TestDamper(t *testing.T) {
	const (
		ok   = api.HealthPassing
		warn = api.HealthWarning
		crit = api.HealthCritical
		pend = "pending"
	)
	type step struct {
		at     time.Duration // since the start
		status string        // pend: a critical answer with no figure yet
		want   string        // pushed status
		held   bool
	}
	tests := []struct {
		name                string
		successes, failures int
		steps               []step
	}{
		{"no damping", 1, 1, []step{{0, ok, ok, false}, {time.Second, crit, crit, false}, {2 * time.Second, ok, ok, false}}},
		{"first result as it is", 3, 3, []step{{0, crit, crit, false}, {time.Second, crit, crit, false}}},
		{"defaults: critical at once, passing after an interval", 2, 1, []step{
			{0, ok, ok, false},
			{1500 * time.Millisecond, crit, crit, false}, // a socket gone: at once
			{1600 * time.Millisecond, ok, crit, true},    // back: held
			{2600 * time.Millisecond, ok, ok, false},     // back one interval later: passing
		}},
		{"a flap resets the streak", 2, 1, []step{
			{0, crit, crit, false},
			{time.Second, ok, crit, true},
			{1500 * time.Millisecond, crit, crit, false},
			{2 * time.Second, ok, crit, true},
			{2500 * time.Millisecond, crit, crit, false},
			{3 * time.Second, ok, crit, true},
			{4 * time.Second, ok, ok, false},
		}},
		{"a burst of events confirms nothing early", 2, 1, []step{
			{0, crit, crit, false},
			{time.Second, ok, crit, true},
			{1001 * time.Millisecond, ok, crit, true},
			{1002 * time.Millisecond, ok, crit, true},
			{2 * time.Second, ok, ok, false},
		}},
		{"failures before critical", 1, 3, []step{
			{0, ok, ok, false},
			{time.Second, crit, ok, true},
			{2 * time.Second, crit, ok, true},
			{3 * time.Second, crit, crit, false},
			{4 * time.Second, warn, warn, false},
		}},
		{"a pending answer is no result", 2, 1, []step{
			{0, pend, crit, false},                       // not measured yet: shown
			{time.Second, pend, crit, false},             // still not
			{1100 * time.Millisecond, ok, ok, false},     // the first figure: as it is
			{1200 * time.Millisecond, pend, ok, true},    // pending later: the confirmed one stays
			{1300 * time.Millisecond, crit, crit, false}, // at once (failures 1)
			{1400 * time.Millisecond, ok, crit, true},    // back: held as ever
		}},
		{"passing and warning move freely", 3, 3, []step{
			{0, ok, ok, false}, {100 * time.Millisecond, warn, warn, false}, {200 * time.Millisecond, ok, ok, false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := newDamper(TTLCheck{Interval: time.Second, SuccessBeforePassing: tt.successes, FailuresBeforeCritical: tt.failures})
			start := time.Now()
			for i, s := range tt.steps {
				status := s.status
				if status == pend {
					status = crit
				}
				got, out, held := d.next(status, status+" output", s.status == pend, start.Add(s.at))
				if got != s.want || held != s.held || out != got+" output" {
					t.Fatalf("step %d (%s at %v): pushed %s %q held %v, want %s held %v", i, s.status, s.at, got, out, held, s.want, s.held)
				}
			}
		})
	}
}

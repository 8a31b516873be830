package registrar

import (
	"time"

	"github.com/hashicorp/consul/api"
)

// damper holds back what a TTL check pushes while its probe flaps, the way
// Consul's success_before_passing / failures_before_critical hold back the
// checks the agent runs (which it does not apply to TTL checks).
//
// A result crosses the critical line (passing or warning on one side,
// critical on the other) only once the probe has answered on the new side
// at `need` consecutive evaluations spanning at least need-1 intervals
// (need is failures for a turn to critical, successes for a turn back).
// Until then the last confirmed status and output stay what is pushed.
// Counting time as well as evaluations matters here: the daemon also
// evaluates a check when a watched path changes, and a burst of such events
// must not confirm a recovery in milliseconds. On one side, results move
// freely (passing to warning, one critical output to another). The first
// result is taken as it is, as Consul's own counters start satisfied. A
// pending answer (the probe has no figure yet) is no result: pushed as it
// is while nothing was confirmed, it starts nothing and confirms nothing,
// so the first figure after it is the first result (dirsize's first figure
// after a start is not held back an interval behind "not measured yet").
//
// Pure and owned by one check's goroutine.
type damper struct {
	successes, failures int           // thresholds, ≥ 1
	interval            time.Duration // between scheduled evaluations

	started        bool
	status, output string // confirmed: what is pushed
	streakFailing  bool   // the side of the current streak
	streakN        int
	streakStart    time.Time
}

// newDamper returns the damper of c (0 counts as 1: at once).
func newDamper(c TTLCheck) *damper {
	return &damper{successes: max(1, c.SuccessBeforePassing), failures: max(1, c.FailuresBeforeCritical), interval: c.Interval}
}

// next takes a new result evaluated at now and returns what to push, and
// whether the result is held back.
func (d *damper) next(status, output string, pending bool, now time.Time) (string, string, bool) {
	if pending {
		if !d.started {
			return status, output, false
		}
		return d.status, d.output, true
	}
	failing := status == api.HealthCritical
	if !d.started || failing != d.streakFailing {
		d.streakFailing, d.streakN, d.streakStart = failing, 0, now
	}
	d.streakN++
	if !d.started || failing == (d.status == api.HealthCritical) {
		d.started, d.status, d.output = true, status, output
		return d.status, d.output, false
	}
	need := d.successes
	if failing {
		need = d.failures
	}
	if d.streakN >= need && now.Sub(d.streakStart) >= time.Duration(need-1)*d.interval {
		d.status, d.output = status, output
		return d.status, d.output, false
	}
	return d.status, d.output, true
}

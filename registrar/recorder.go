package registrar

import (
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// Recorder receives what the daemon observes, for metrics (implemented by
// registrar/metrics; nil records nothing). The Daemon calls Reconciled from
// its goroutine after every pass; the TTLRunner calls Probed and Pushed from
// the check goroutines, concurrently. Every call is on the daemon's own path,
// so an implementation only stores what it is given.
type Recorder interface {
	// Reconciled reports one pass: the desired state, what the pass read
	// (out.AgentChecks, nil when the agent could not be read) and wrote,
	// and its error.
	Reconciled(st State, out Outcome, err error)
	// Probed reports one in-process evaluation of a TTL check and its full
	// result (perfdata included: the agent stores only the steady form).
	Probed(c TTLCheck, r checkscript.Result, took time.Duration)
	// Pushed reports one TTL update sent to the agent, and its error.
	Pushed(c TTLCheck, err error)
}

// nopRecorder is the Recorder of a daemon without metrics.
type nopRecorder struct{}

func (nopRecorder) Reconciled(State, Outcome, error)                   {}
func (nopRecorder) Probed(TTLCheck, checkscript.Result, time.Duration) {}
func (nopRecorder) Pushed(TTLCheck, error)                             {}

// recorderOr returns r, or a Recorder that records nothing.
func recorderOr(r Recorder) Recorder {
	if r == nil {
		return nopRecorder{}
	}
	return r
}

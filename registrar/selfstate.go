package registrar

import (
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
)

// selfState is the daemon's own health, which its heartbeat reports: every
// way in which the agent answers but does not hold what is declared (a
// refused reload, registration or TTL update, an unwritable fragment, a
// missing service, an ID taken by someone else). With none the heartbeat
// passes; with any it turns warning and its output names them, so the
// alarm is in Consul, where the operator looks, and not only in the log.
//
// The daemon's goroutine sets the reconcile pass's problems, the TTL
// goroutines their refused updates; changed is signalled (without
// blocking) on every change, so the heartbeat is pushed at once.
type selfState struct {
	mu      sync.Mutex
	pass    []string          // the last reconcile pass's problems
	ttl     map[string]string // refused TTL updates, by check ID
	changed chan struct{}
}

func newSelfState() *selfState {
	return &selfState{ttl: map[string]string{}, changed: make(chan struct{}, 1)}
}

// setPass records the problems of a finished reconcile pass and reports
// whether they differ from the last pass's.
func (s *selfState) setPass(problems []string) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	if slices.Equal(s.pass, problems) {
		return false
	}
	s.pass = slices.Clone(problems)
	notify(s.changed)
	return true
}

// ttlRefused records that the agent refused a TTL update of checkID.
func (s *selfState) ttlRefused(checkID, reason string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	text := fmt.Sprintf("the agent refuses the TTL updates of %s: %s", checkID, reason)
	if s.ttl[checkID] != text {
		s.ttl[checkID] = text
		notify(s.changed)
	}
}

// ttlWorks records an accepted TTL update of checkID.
func (s *selfState) ttlWorks(checkID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.ttl[checkID]; ok {
		delete(s.ttl, checkID)
		notify(s.changed)
	}
}

// problems lists every current problem: the pass's, then the TTL ones by
// check ID.
func (s *selfState) problems() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := slices.Clone(s.pass)
	for _, id := range slices.Sorted(maps.Keys(s.ttl)) {
		out = append(out, s.ttl[id])
	}
	return out
}

// maxProblemsNamed bounds how many problems the heartbeat's output names.
const maxProblemsNamed = 5

// summary is the heartbeat's text for problems ("" with none).
func summarizeProblems(problems []string) string {
	if len(problems) == 0 {
		return ""
	}
	more := ""
	if len(problems) > maxProblemsNamed {
		more = fmt.Sprintf("; and %d more", len(problems)-maxProblemsNamed)
		problems = problems[:maxProblemsNamed]
	}
	return "carbonio-health daemon running, but the consul agent does not hold what is declared: " + strings.Join(problems, "; ") + more
}

// settle records whether the agent holds what is declared after a pass
// that reached it: the heartbeat says so, the log says so once per change,
// and "in sync" is never logged while something declared is missing.
func (d *Daemon) settle(out Outcome, back bool) {
	changed := d.self.setPass(out.Problems)
	if len(out.Problems) == 0 {
		d.problems.reset()
		d.retry = nil
		if !d.inSync || back {
			d.Log.Info("in sync with the consul agent", "services", len(d.state.Services), "registered", len(out.Registered), "deregistered", len(out.Deregistered))
		}
		d.inSync = true
		return
	}
	if changed || d.inSync || back {
		d.Log.Warn("the consul agent does not hold what is declared; the heartbeat check says so until it does, retrying",
			"problems", strings.Join(out.Problems, "; "))
	}
	if changed {
		d.problems.reset() // a new cause: retry soon
		d.retry = nil
	}
	d.inSync = false
}

package registrar

import (
	"context"
	"time"

	"github.com/hashicorp/consul/api"
)

// First outputs at once.
//
// A new check starts critical with no output. When its first run is
// critical too, only its output changed, and the agent defers an
// output-only change by check_update_interval (0.5-1.5 × 5 min: Consul's
// agent/local/state.go UpdateCheck arms a DeferCheck timer): the catalog,
// and with it the Consul UI and every other node, shows a red check without
// a reason for minutes after a start, a reload, or an agent restart (whose
// first sync also wipes the catalog's old outputs).
//
// The agent offers a way to write such an output at once without touching
// its status: it carries a pending DeferCheck over when a check is added
// again (setCheckStateLocked marks such a check out of sync), and it keeps
// a re-added check's status and output (addServiceInternal restores them
// from its snapshot of the checks). So registering a service again, as it
// is, makes the agent sync its checks' held outputs now, and a reload does
// the same for every service (it re-adds them all). The daemon does that
// for a while after the agent got new checks: it compares the agent's
// checks with the catalog's, and for every non-passing check whose output
// waits in the agent it registers its service again (one API call, one
// catalog write per waiting check), or reloads the agent for the services
// of its config fragment once their first runs are in (or the oldest waited
// half its interval: a reload restarts every check's schedule). Passing
// checks need none of it: their first result is a status change, synced at
// once. Later output-only changes keep the agent's deferral: that is what
// keeps a steady node at zero catalog writes.

// Timing of the first-output follow-up.
const (
	// firstOutputPoll is how often the agent and the catalog are compared
	// while it runs (two local reads).
	firstOutputPoll = time.Second
	// firstOutputSlack is added to the longest interval and timeout of
	// the node's checks, which bound when a first run comes.
	firstOutputSlack = 5 * time.Second
	// firstOutputRecheck is how long after making a check's output sync
	// the catalog is given to show it before it is made to sync again: the
	// agent may run a full anti-entropy sync first (a new leader, or its
	// periodic one), which, while an output is deferred, compares checks
	// without their outputs and marks the re-added check in sync again.
	firstOutputRecheck = 3 * time.Second
)

// firstOutputs is the follow-up's state, owned by the daemon's goroutine.
type firstOutputs struct {
	until   time.Time
	timer   *time.Timer
	waiting map[string]time.Time // output held in the agent, since
	flushed map[string]flushedOutput
}

// flushedOutput is an output made to sync, and when.
type flushedOutput struct {
	output string
	at     time.Time
}

// arm follows the node's checks for window from now (longer when already
// following). What was made to sync before is forgotten: the agent's
// checks are new (an agent restarted has run them again from nothing).
func (f *firstOutputs) arm(window time.Duration) {
	if until := time.Now().Add(window); until.After(f.until) {
		f.until = until
	}
	f.waiting, f.flushed = map[string]time.Time{}, map[string]flushedOutput{}
	if f.timer == nil {
		f.timer = time.NewTimer(firstOutputPoll)
	}
}

// C fires when the next comparison is due; nil while not following.
func (f *firstOutputs) C() <-chan time.Time {
	if f.timer == nil {
		return nil
	}
	return f.timer.C
}

// again schedules the next comparison (after C fired).
func (f *firstOutputs) again() { f.timer.Reset(firstOutputPoll) }

// stop ends the follow-up.
func (f *firstOutputs) stop() {
	if f.timer != nil {
		f.timer.Stop()
	}
	*f = firstOutputs{}
}

// firstOutputStep is what one comparison decided.
type firstOutputStep struct {
	// register are the API services to register again; reload says the
	// agent is to reload (for the fragment's services).
	register []ServiceState
	reload   bool
	// flush are the checks whose held output these writes sync.
	flush []string
	// done: every check in sight has its first output in the catalog (or
	// passes); nothing is left to follow.
	done bool
}

// decide compares the agent's checks with the catalog's for the declared
// services of st at now. viaFile says which services the fragment carries,
// mayReload whether the agent may be reloaded for them now.
func (f *firstOutputs) decide(now time.Time, st State, viaFile func(ServiceState) bool, mayReload bool,
	agent map[string]*api.AgentCheck, catalog map[string]*api.HealthCheck) firstOutputStep {
	var step firstOutputStep
	running := false // a check has not run yet, or its status is being synced
	fileRunning, fileDue := false, false
	var fileFlush []string
	for _, s := range st.Services {
		file := viaFile(s)
		again := false
		intervals := checkIntervals(s)
		for _, id := range s.CheckIDs() {
			ac, cc := agent[id], catalog[id]
			switch {
			case ac == nil || ac.Status == api.HealthPassing:
				running = running || ac == nil
				delete(f.waiting, id)
				continue
			case ac.Output != "" && cc != nil && cc.Status == ac.Status && cc.Output == ac.Output:
				delete(f.waiting, id) // in the catalog
				continue
			case ac.Output == "" || cc == nil || cc.Status != ac.Status ||
				(f.flushed[id].output == ac.Output && now.Sub(f.flushed[id].at) < firstOutputRecheck):
				// Not run yet, or the agent syncs it by itself, or it was
				// made to sync and the (stale) catalog read is behind.
				running = true
				fileRunning = fileRunning || (file && ac.Output == "")
				continue
			}
			since, ok := f.waiting[id]
			if !ok {
				since, f.waiting[id] = now, now
			}
			if file {
				fileFlush = append(fileFlush, id)
				fileDue = fileDue || now.Sub(since) >= intervals[id]/2
				continue
			}
			again = true
			step.flush = append(step.flush, id)
		}
		if again {
			step.register = append(step.register, s)
		}
	}
	if len(fileFlush) > 0 && mayReload && (!fileRunning || fileDue) {
		step.reload = true
		step.flush = append(step.flush, fileFlush...)
		fileFlush = nil
	}
	step.done = !running && len(fileFlush) == 0 && len(step.register) == 0 && !step.reload
	return step
}

// commit records that the step's checks were made to sync their outputs
// at now.
func (f *firstOutputs) commit(step firstOutputStep, agent map[string]*api.AgentCheck, now time.Time) {
	for _, id := range step.flush {
		if ac := agent[id]; ac != nil {
			f.flushed[id] = flushedOutput{ac.Output, now}
		}
	}
}

// checkIntervals are the intervals of a service's checks (TTL ones from
// what the daemon evaluates), by check ID.
func checkIntervals(s ServiceState) map[string]time.Duration {
	out := map[string]time.Duration{}
	for _, c := range s.Registration.Checks {
		if d, err := time.ParseDuration(c.Interval); err == nil {
			out[c.CheckID] = d
		}
	}
	for _, t := range s.TTL {
		out[t.CheckID] = t.Interval
	}
	return out
}

// firstOutputWindow is how long after the agent got new checks their first
// outputs are followed: the longest interval plus timeout of st's checks
// (a first run comes within one interval), and some slack.
func firstOutputWindow(st State) time.Duration {
	var longest time.Duration
	for _, s := range st.Services {
		for _, c := range s.Registration.Checks {
			i, _ := time.ParseDuration(c.Interval)
			t, _ := time.ParseDuration(c.Timeout)
			longest = max(longest, i+t)
		}
		for _, t := range s.TTL {
			longest = max(longest, t.Interval)
		}
	}
	return longest + firstOutputSlack
}

// followFirstOutputs runs one comparison and the writes it decides.
func (d *Daemon) followFirstOutputs(ctx context.Context) {
	f := &d.first
	if d.node == "" || time.Now().After(f.until) {
		f.stop()
		return
	}
	agent, catalog, err := d.readOutputs(ctx)
	if err != nil {
		d.Log.Debug("cannot compare check outputs with the catalog", "error", err)
		f.again()
		return
	}
	// While the agent does not hold what is declared (maybe it refuses
	// reloads), the reconcile passes and their retries deal with it.
	now := time.Now()
	step := f.decide(now, d.state, d.rec.viaFile, d.inSync, agent, catalog)
	for _, s := range step.register {
		if err := d.rec.register(ctx, s); err != nil {
			d.Log.Debug("cannot register a service again for its checks' outputs", "id", s.ID(), "error", err)
			f.again()
			return
		}
	}
	if step.reload {
		if err := agentReload(ctx, d.Client); err != nil {
			// Not asked again in this follow-up: the agent refuses
			// reloads, which the next pass that needs one reports.
			d.Log.Debug("cannot reload the agent for its checks' outputs", "error", err)
			f.stop()
			return
		}
	}
	if len(step.flush) > 0 {
		d.Log.Debug("checks' first outputs sent to the catalog at once", "checks", len(step.flush), "services", len(step.register), "reload", step.reload)
	}
	f.commit(step, agent, now)
	d.Log.Trace("first outputs compared", "waiting", len(f.waiting), "register", len(step.register), "reload", step.reload, "done", step.done, "until", f.until)
	if step.done {
		f.stop()
		return
	}
	f.again()
}

// readOutputs reads the node's checks from the agent and from the catalog.
func (d *Daemon) readOutputs(ctx context.Context) (map[string]*api.AgentCheck, map[string]*api.HealthCheck, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	q := (&api.QueryOptions{AllowStale: true}).WithContext(ctx)
	agent, err := d.Client.Agent().ChecksWithFilterOpts("", q)
	if err != nil {
		return nil, nil, err
	}
	list, _, err := d.Client.Health().Node(d.node, q)
	if err != nil {
		return nil, nil, err
	}
	catalog := make(map[string]*api.HealthCheck, len(list))
	for _, c := range list {
		catalog[c.CheckID] = c
	}
	return agent, catalog, nil
}

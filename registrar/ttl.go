package registrar

import (
	"context"
	"reflect"
	"sync"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
	"github.com/zextras/carbonio-health/checkscript/consulstatus"
)

// TTLRunner feeds TTL checks: one goroutine per check evaluates its probe
// in-process every Interval (and at once when a watched path changes) and
// pushes the result with the agent's TTL update API when the status or the
// output changed, when asked to (Kick), and otherwise every TTL/2 so the
// check never expires while the daemon lives.
//
// Set and Kick are called from the Daemon's goroutine; the per-check
// goroutines live until their check leaves the set or Set's ctx ends. Wait
// returns once all of them have ended.
type TTLRunner struct {
	// Client talks to the local agent.
	Client *api.Client
	// Log receives state changes only, never one line per push.
	Log hclog.Logger
	// Missing, when set, is signalled (without blocking) when the agent
	// does not know a check: the service must be registered again.
	Missing chan<- struct{}
	// Metrics, when set, is told every evaluation and push.
	Metrics Recorder

	// token, when set, is told about ACL refusals and holds pushes back
	// while the daemon's token is refused (one log line for all checks).
	token *tokenState
	// self, when set, is told about updates the agent refuses (the
	// heartbeat reports them) and is what the heartbeat reads.
	self *selfState

	// FullOutput pushes each result's full line; by default the steady
	// form (checkscript.Result.SteadyString), whose text moves only with
	// the state, so that a calm check costs no catalog write.
	FullOutput bool

	wg      sync.WaitGroup
	running map[string]*ttlWorker
}

// ttlWorker is the goroutine of one TTL check.
type ttlWorker struct {
	def    TTLCheck
	cancel context.CancelFunc
	kick   chan struct{}
	// blind is why the check's paths are not all watched ("" when they
	// are), set by the watching goroutine (ttl_watch.go).
	blind atomic.Pointer[string]
}

// Set makes the running set equal to checks: new checks start, removed or
// changed ones stop, unchanged ones go on undisturbed. A check whose probe
// cannot be built is pushed critical with the reason.
func (r *TTLRunner) Set(ctx context.Context, checks []TTLCheck) {
	if r.running == nil {
		r.running = map[string]*ttlWorker{}
	}
	want := make(map[string]TTLCheck, len(checks))
	for _, c := range checks {
		want[c.CheckID] = c
	}
	for id, w := range r.running {
		if c, ok := want[id]; !ok || !reflect.DeepEqual(c, w.def) {
			w.cancel()
			delete(r.running, id)
		}
	}
	for id, c := range want {
		if _, ok := r.running[id]; ok {
			continue
		}
		wctx, cancel := context.WithCancel(ctx)
		w := &ttlWorker{def: c, cancel: cancel, kick: make(chan struct{}, 1)}
		r.running[id] = w
		r.wg.Add(1)
		go func() {
			defer r.wg.Done()
			r.loop(wctx, w)
		}()
	}
}

// Kick makes the named checks (all when none is named) evaluate and push at
// once, e.g. after their service was registered again.
func (r *TTLRunner) Kick(checkIDs ...string) {
	if len(checkIDs) == 0 {
		for _, w := range r.running {
			w.poke()
		}
		return
	}
	for _, id := range checkIDs {
		if w, ok := r.running[id]; ok {
			w.poke()
		}
	}
}

// Wait blocks until every check goroutine has ended (after ctx is done).
func (r *TTLRunner) Wait() { r.wg.Wait() }

func (w *ttlWorker) poke() {
	select {
	case w.kick <- struct{}{}:
	default:
	}
}

// ttlStatus maps a probe status to a Consul check status; UNKNOWN is
// critical, as Consul treats a script check's exit code 3.
func ttlStatus(s checkscript.Status) string {
	switch s {
	case checkscript.OK:
		return api.HealthPassing
	case checkscript.Warning:
		return api.HealthWarning
	default:
		return api.HealthCritical
	}
}

// refreshPeriod is how long an unchanged result may go without a push.
func refreshPeriod(c TTLCheck) time.Duration {
	if c.TTL <= 0 {
		return c.Interval
	}
	return c.TTL / 2
}

func (r *TTLRunner) loop(ctx context.Context, w *ttlWorker) {
	log := r.Log.With("check", w.def.CheckID)
	check, err := r.newProbe(w.def)
	if err != nil {
		// The loader validated the probe; this is a bug, reported in Consul.
		check = failedCheck{checkscript.Unknownf("PROBE", err.Error())}
	}
	if st, ok := check.(checkscript.Starter); ok {
		// Built once, run every interval: state such as dirsize's index
		// lives as long as this check.
		st.Start(ctx)
	}
	w.watch(ctx, check, log)
	// Evaluated every interval after the last evaluation, whatever caused
	// it, so that the damper's results are an interval apart.
	ticker := time.NewTicker(w.def.Interval)
	defer ticker.Stop()
	damp := newDamper(w.def)
	var last struct {
		status, output string
		at             time.Time
		failed, damped bool
	}
	force := true
	rec := recorderOr(r.Metrics)
	for {
		start := time.Now()
		res := w.withWatch(check.Run(ctx))
		if ctx.Err() != nil {
			return
		}
		rec.Probed(w.def, res, time.Since(start))
		status, output := ttlStatus(res.Status), res.SteadyString()
		if r.FullOutput {
			output = res.String()
		}
		status, output, damped := damp.next(status, output, res.Pending, time.Now())
		if damped && !last.damped {
			log.Debug("result held back until confirmed (flap damping)", "probe_status", ttlStatus(res.Status), "pushed", status)
		}
		last.damped = damped
		held := r.token != nil && r.token.Wait()
		if held {
			force = true // sent once the token works again
		}
		if !held && (force || status != last.status || output != last.output || time.Since(last.at) >= refreshPeriod(w.def)) {
			// The TTL restarts when the agent takes the update, not when it
			// answers: it syncs the catalog before answering, which takes
			// as long as an election when the leader is gone.
			sent := time.Now()
			err := r.update(ctx, w.def.CheckID, output, status)
			if err == nil || ctx.Err() == nil {
				rec.Pushed(w.def, err)
			}
			switch {
			case err != nil && ctx.Err() != nil:
				return
			case err != nil && r.token != nil && r.token.Refused(err):
				force = true
			case err != nil:
				if !last.failed {
					log.Warn("TTL update failed; will retry", "error", err)
				}
				last.failed, force = true, true
				switch consulstatus.Classify(err) {
				case consulstatus.NotFound:
					if r.Missing != nil {
						notify(r.Missing)
					}
				case consulstatus.Rejected:
					if r.self != nil {
						r.self.ttlRefused(w.def.CheckID, answer(err))
					}
				}
			default:
				if r.token != nil {
					r.token.Works()
				}
				if r.self != nil {
					r.self.ttlWorks(w.def.CheckID)
				}
				if last.failed {
					log.Info("TTL updates flowing again")
				}
				if status != last.status {
					log.Debug("check status", "status", status, "output", output)
				}
				last.status, last.output, last.at, last.failed, force = status, output, sent, false, false
			}
		}
		next := w.def.Interval
		if res.Pending {
			// No figure yet: asked again soon (the probe answers from
			// memory), not a whole interval later.
			next = min(pendingRetry, next)
		}
		ticker.Reset(next)
		select {
		case <-ctx.Done():
			return
		case <-ticker.C:
		case <-w.kick:
			force = true
		}
	}
}

// pendingRetry is how soon a check whose probe had no figure yet (a pending
// result) is evaluated again.
const pendingRetry = 2 * time.Second

// update pushes one result, bounded like every call to the agent.
func (r *TTLRunner) update(ctx context.Context, checkID, output, status string) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	return r.Client.Agent().UpdateTTLOpts(checkID, output, status, (&api.QueryOptions{}).WithContext(ctx))
}

// newProbe builds the check a TTL check runs: the daemon's heartbeat, or a
// probe of the registry.
func (r *TTLRunner) newProbe(c TTLCheck) (checkscript.Check, error) {
	if c.Probe == heartbeatProbe {
		return heartbeatCheck{self: r.self}, nil
	}
	return allprobes.Registry.New(c.Probe, c.Args)
}

// failedCheck answers a fixed result.
type failedCheck struct{ res checkscript.Result }

func (f failedCheck) Run(context.Context) checkscript.Result { return f.res }

package registrar

import (
	"context"
	"sort"
	"strings"
	"time"

	"github.com/zextras/carbonio-health/hcl"
)

// Presence: the daemon decides `if_present` services while it runs, so a
// folder created after the start gets its service and checks within one
// check interval, with no reload, and a folder that goes away takes its
// service with it. (A folder a role requires is not conditional: its check
// stays and turns critical.) The plan is loaded with hcl.DeferPresence; each
// look stats every path once and, when the set of present paths changed,
// recomputes the desired state from the plan (declaration → desired state →
// agent, never the other way).

// presencePeriod is how often the paths are looked at: the shortest
// interval of the conditional services' checks (never below
// hcl.MinInterval); 0 when the plan has no conditional service.
func presencePeriod(plan *hcl.Plan) time.Duration {
	var p time.Duration
	for _, s := range plan.Services {
		if s.IfPresent == "" {
			continue
		}
		for _, c := range s.Checks {
			if p == 0 || c.Interval < p {
				p = c.Interval
			}
		}
		if len(s.Checks) == 0 && (p == 0 || hcl.DefaultInterval < p) {
			p = hcl.DefaultInterval
		}
	}
	if p > 0 && p < hcl.MinInterval {
		p = hcl.MinInterval
	}
	return p
}

// presenceSnapshot is which of the plan's paths exist, looked at once.
type presenceSnapshot map[string]bool

// lookPresence stats every conditional path of the plan once.
func lookPresence(plan *hcl.Plan, exists func(string) bool) presenceSnapshot {
	snap := presenceSnapshot{}
	for _, p := range plan.PresencePaths() {
		snap[p] = exists(p)
	}
	return snap
}

// present lists the paths that exist, sorted.
func (s presenceSnapshot) present() []string {
	var out []string
	for p, ok := range s {
		if ok {
			out = append(out, p)
		}
	}
	sort.Strings(out)
	return out
}

// key identifies the set of present paths, to compare two snapshots.
func (s presenceSnapshot) key() string { return strings.Join(s.present(), "\x00") }

func (s presenceSnapshot) exists(p string) bool { return s[p] }

// presenceTicker ticks every presencePeriod of the current plan, or never.
type presenceTicker struct{ t *time.Ticker }

func (p *presenceTicker) reset(period time.Duration) {
	p.stop()
	if period > 0 {
		p.t = time.NewTicker(period)
	}
}

func (p *presenceTicker) stop() {
	if p.t != nil {
		p.t.Stop()
		p.t = nil
	}
}

// C is nil (never ready) when there is nothing to look at.
func (p *presenceTicker) C() <-chan time.Time {
	if p.t == nil {
		return nil
	}
	return p.t.C
}

// pathExists is the Daemon's test of a path: hcl.LookPath with the daemon's
// context (bounded, and never past a stop).
// Only a path that is not there is absent; one that answers an error or
// hangs is present, and the error is logged when it starts or changes.
func (d *Daemon) pathExists(ctx context.Context, p string) bool {
	present, err := hcl.LookPath(ctx, &d.presenceCalls, p)
	text := ""
	if err != nil {
		text = err.Error()
	}
	if d.presenceErrs == nil {
		d.presenceErrs = map[string]string{}
	}
	if text != d.presenceErrs[p] {
		if text != "" {
			d.Log.Warn("an if_present path cannot be read; its service stays registered, its checks name the error", "path", p, "error", text)
		} else {
			d.Log.Info("an if_present path answers again", "path", p)
		}
		d.presenceErrs[p] = text
	}
	return present
}

// desiredNow is the desired state of plan with the paths present now.
func (d *Daemon) desiredNow(ctx context.Context, plan *hcl.Plan) (State, presenceSnapshot) {
	snap := lookPresence(plan, func(p string) bool { return d.pathExists(ctx, p) })
	return Desired(plan.Present(snap.exists), d.Options), snap
}

// followPresence looks at the paths again and, when one appeared or went
// away, applies the new desired state at once.
func (d *Daemon) followPresence(ctx, checksCtx context.Context) {
	if d.plan == nil || lookPresence(d.plan, func(p string) bool { return d.pathExists(ctx, p) }).key() == d.presence.key() {
		return
	}
	if err := d.setPlan(ctx, d.plan); err != nil {
		d.Log.Error("a folder changed, but its services cannot be registered; will retry", "error", err)
		return
	}
	d.Log.Info("folders changed", "present", d.presence.present(), "services", len(d.state.Services))
	d.reconcile(ctx)
	d.ttl.Set(checksCtx, d.state.TTLChecks())
}

package registrar

import (
	"context"
	"errors"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/hcl"
)

// Defaults of the Daemon's timing.
const (
	// DefaultResync is how often the agent's owned state is compared with
	// the desired one (two local reads, no writes when nothing differs) when
	// the NodeWatch has reported nothing: it wakes the daemon on any change
	// of the node and when the agent goes away and comes back, so this is
	// only a safety net. (It was 1 s before the watch: 2 reads a second.)
	DefaultResync = time.Minute
	// maxBackoff caps the wait between attempts to reach an absent agent.
	maxBackoff = 10 * time.Second
	// problemRetryFirst and problemRetryMax space out the retries of what
	// the agent refused to hold (a reload, a registration): the daemon also
	// retries at once when the agent's config folder changes, when the
	// agent comes back, and on SIGHUP.
	problemRetryFirst = time.Second
	problemRetryMax   = 30 * time.Second
	// exitTimeout bounds the deregistration of -deregister-on-exit.
	exitTimeout = 10 * time.Second
)

// Daemon is `carbonio-health run`: it waits for the agent, registers the
// desired state, feeds the TTL checks, and keeps the agent equal to the
// declaration until its context ends. Run is its single long-running loop;
// the TTLRunner's goroutines are started and stopped from it.
type Daemon struct {
	// Client talks to the local agent.
	Client *api.Client
	// AgentAddress is the agent's address, for logs only.
	AgentAddress string
	// Log is the daemon's logger (key-value pairs; tokens never logged).
	Log hclog.Logger
	// Load reads and resolves the declaration; called at start and on
	// every signal on Reload. An error keeps the last good state.
	Load func() (*hcl.Plan, error)
	// Reload delivers SIGHUP.
	Reload <-chan struct{}
	// Options are passed to Desired.
	Options Options
	// ScriptMode is the operator's choice (ScriptAuto when empty).
	ScriptMode ScriptMode
	// AgentConfigDir is the agent's -config-dir, where the script-check
	// fragment goes; empty when not given.
	AgentConfigDir string
	// FragmentStage, when set, is where the fragment is staged for
	// carbonio-health-fragment.service to check and install into
	// AgentConfigDir (fragment_stage.go), instead of being written there.
	FragmentStage string
	// AllViaConfig writes every service into the agent config fragment
	// (needs AgentConfigDir) instead of registering them over the API.
	AllViaConfig bool
	// Resync is the comparison period when nothing was heard
	// (DefaultResync when zero).
	Resync time.Duration
	// DeregisterOnExit removes everything owned when Run ends.
	DeregisterOnExit bool
	// Ready, when set, is closed after the first reconcile pass that
	// reached the agent.
	Ready chan<- struct{}
	// Metrics, when set, is told every reconcile pass and TTL evaluation.
	Metrics Recorder

	rec    Reconciler
	ttl    TTLRunner
	token  tokenState
	leader leaderWatch
	state  State
	node   string // the agent's node name, for the NodeWatch
	online bool
	// self is what the heartbeat reports; inSync is whether the last pass
	// found the agent holding everything declared, problems the retry
	// schedule while it does not.
	self     *selfState
	inSync   bool
	problems backoff
	retry    <-chan time.Time // the next retry while offline or not in sync
	first    firstOutputs

	plan         *hcl.Plan        // the last good declaration
	presence     presenceSnapshot // its paths, when state was computed
	presenceTick presenceTicker
	// presenceCalls holds the stats of if_present paths given up on (a hung
	// mount), presenceErrs the error each path last answered (presence.go).
	presenceCalls checkscript.Calls
	presenceErrs  map[string]string
	// choice is what the agent and its config dir allow, read once per
	// agent (re)connection (connected says it is current); every
	// declaration is checked against it without new probes.
	choice    ScriptChoice
	connected bool
}

// ErrDeclaration wraps the error of a declaration that does not load when
// the daemon starts (a reload keeps the last good one instead).
var ErrDeclaration = errors.New("declaration")

// Run blocks until ctx ends. It fails at once when the declaration is
// invalid (ErrDeclaration) or the agent allows none of the ways to run its
// script checks.
func (d *Daemon) Run(ctx context.Context) error {
	if d.AllViaConfig && d.AgentConfigDir == "" {
		return errors.New("registering through the agent config needs -agent-config-dir")
	}
	plan, err := d.Load()
	if err != nil {
		return fmt.Errorf("%w: %w", ErrDeclaration, err)
	}
	d.token.log = d.Log
	d.self = newSelfState()
	d.problems = backoff{first: problemRetryFirst, max: problemRetryMax}
	if err := d.waitAgent(ctx); err != nil {
		return err
	}
	d.rec = Reconciler{Client: d.Client, Log: d.Log.Named("reconcile"), AllViaFile: d.AllViaConfig}
	if err := d.setPlan(ctx, plan); err != nil {
		return err
	}
	missing := make(chan struct{}, 1)
	if d.AgentConfigDir != "" {
		d.rec.FragmentPath = filepath.Join(d.AgentConfigDir, FragmentName)
		d.rec.FragmentStage = d.FragmentStage
	}
	d.ttl = TTLRunner{Client: d.Client, Log: d.Log.Named("ttl"), Missing: missing, Metrics: d.Metrics, token: &d.token,
		self: d.self, FullOutput: d.Options.FullOutput}
	d.leader = leaderWatch{client: d.Client, log: d.Log, back: make(chan struct{}, 1), suspect: make(chan struct{}, 1)}
	runCtx, stopChecks := context.WithCancel(ctx)
	changed, agentBack := make(chan struct{}, 1), make(chan struct{}, 1)
	watch := NodeWatch{Client: d.Client, Node: d.node, Log: d.Log.Named("watch"), Changed: changed, Leader: d.leader.suspect,
		Back: agentBack}
	watching := make(chan struct{})
	defer func() {
		stopChecks()
		d.ttl.Wait()
		<-watching
		watch.Wait()
	}()
	d.leader.poll(ctx)
	go func() {
		defer close(watching)
		d.leader.run(runCtx)
	}()
	configChanged := make(chan struct{}, 1)
	if d.AgentConfigDir != "" {
		watched := watchConfigDir(runCtx, d.AgentConfigDir, d.Log, configChanged)
		defer func() { stopChecks(); <-watched }()
	}
	d.reconcile(ctx)
	d.ttl.Set(runCtx, d.state.TTLChecks())
	defer d.presenceTick.stop()
	defer d.first.stop()

	period := d.Resync
	if period <= 0 {
		period = DefaultResync
	}
	if d.node != "" {
		watch.Start(runCtx)
	} else {
		d.Log.Warn("the agent did not say its node name; comparing (and asking for the leader) every second", "every", watchPoll)
		period = min(period, watchPoll)
	}
	ticker := time.NewTicker(period)
	defer ticker.Stop()
	for {
		// The agent unreachable: retried every watchRetry (local, cheap).
		// The agent answering but refusing part of what is declared:
		// retried with backoff, and at once when its config folder changes.
		// The timer lives until it fires or the state changes, whatever
		// else wakes the loop meanwhile.
		if d.retry == nil {
			switch {
			case !d.online:
				d.retry = time.After(watchRetry)
			case !d.inSync:
				d.retry = time.After(d.problems.next())
			}
		}
		select {
		case <-ctx.Done():
			stopChecks()
			d.ttl.Wait()
			return d.exit()
		case <-d.Reload:
			d.reload(runCtx)
		case <-missing:
			d.reconcile(ctx)
		case <-d.leader.back:
			d.token.RetryNow()
			d.reconcile(ctx)
			d.ttl.Kick() // each push makes the agent sync all it holds
		case <-changed:
			d.reconcile(ctx)
		case <-agentBack:
			// The agent may have restarted without the daemon seeing it
			// gone: its checks' first outputs are followed as after an
			// outage (a comparison finds nothing to do if it did not).
			d.reconcile(ctx)
			if d.online {
				d.first.arm(firstOutputWindow(d.state))
			}
		case <-configChanged:
			d.rec.ReloadNow()
			d.reconcile(ctx)
		case <-d.retry:
			d.retry = nil
			d.reconcile(ctx)
		case <-ticker.C:
			if d.node == "" {
				d.leader.suspected() // no watch answers to tell
			}
			d.reconcile(ctx)
		case <-d.presenceTick.C():
			d.followPresence(ctx, runCtx)
		case <-d.self.changed:
			d.ttl.Kick(HeartbeatCheckID)
		case <-d.first.C():
			d.followFirstOutputs(ctx)
		}
	}
}

// setPlan computes the desired state of plan with the folders present now,
// and the way its script checks reach the agent, from what connect read; it
// does no I/O but looking at the plan's if_present paths.
func (d *Daemon) setPlan(ctx context.Context, plan *hcl.Plan) error {
	st, snap := d.desiredNow(ctx, plan)
	mode, err := d.chooseMode(st)
	if err != nil {
		return err
	}
	d.state, d.rec.Mode = st, mode
	d.plan, d.presence = plan, snap
	d.presenceTick.reset(presencePeriod(plan))
	return nil
}

// chooseMode decides the script mode of st against the agent as connect
// last read it.
func (d *Daemon) chooseMode(st State) (ScriptMode, error) {
	c := d.choice
	for _, s := range st.Services {
		for _, ck := range s.Registration.Checks {
			if len(ck.Args) > 0 {
				c.Scripts++
			}
		}
	}
	return ChooseScriptMode(c)
}

// reconcile runs one pass and logs agent availability and whether it
// holds what is declared, once per change. After an outage it first reads
// the agent's settings again (reconnect).
func (d *Daemon) reconcile(ctx context.Context) {
	if d.token.Wait() {
		return // refused token: backing off
	}
	if d.leader.lost.Load() {
		return // writes would block in the agent until there is a leader
	}
	var out Outcome
	var err error
	if !d.connected {
		err = d.reconnect(ctx)
	}
	if err == nil {
		out, err = d.rec.Reconcile(ctx, d.state)
	}
	if err != nil {
		if ctx.Err() != nil || d.token.Refused(err) {
			return
		}
		recorderOr(d.Metrics).Reconciled(d.state, out, err)
		d.connected = false
		if d.online {
			d.Log.Warn("consul agent unavailable; will retry", "error", err)
			d.online, d.retry = false, nil
		}
		return
	}
	recorderOr(d.Metrics).Reconciled(d.state, out, nil)
	back := !d.online
	if back {
		d.retry = nil
	}
	d.online = true
	d.settle(out, back)
	if d.Ready != nil {
		close(d.Ready)
		d.Ready = nil
	}
	if d.token.Works() {
		d.ttl.Kick() // held back while the token was refused
	}
	if len(out.Registered) > 0 || out.Reloaded {
		// New or replaced registrations start critical: report at once.
		d.ttl.Kick()
	}
	if len(out.Registered) > 0 || out.Reloaded || back {
		// New checks (or an agent that came back with its checks reset):
		// make their first outputs reach the catalog at once.
		d.first.arm(firstOutputWindow(d.state))
	}
}

// reload applies a new declaration, or keeps the last good one.
func (d *Daemon) reload(ctx context.Context) {
	plan, err := d.Load()
	if err == nil {
		err = d.setPlan(ctx, plan)
	}
	if err != nil {
		d.Log.Error("reload failed; the last good declaration stays registered", "error", strings.TrimSpace(err.Error()))
		return
	}
	d.Log.Info("declaration reloaded", "services", len(d.state.Services))
	d.reconcile(ctx)
	d.ttl.Set(ctx, d.state.TTLChecks())
}

// exit leaves registrations in place (their TTL checks expire: that is the
// alarm) unless DeregisterOnExit.
func (d *Daemon) exit() error {
	if !d.DeregisterOnExit {
		d.Log.Info("stopping; registrations stay in the agent")
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), exitTimeout)
	defer cancel()
	out, err := d.rec.Reconcile(ctx, State{})
	if err != nil {
		return fmt.Errorf("deregister on exit: %w", err)
	}
	d.Log.Info("stopping; deregistered everything owned", "services", len(out.Deregistered))
	return nil
}

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
	// Ready, when set, is closed after the first successful reconcile.
	Ready chan<- struct{}
	// PathExists decides the plan's if_present paths while the daemon runs
	// (nil: os.Stat); Load should defer them (hcl.Options.DeferPresence).
	PathExists func(path string) bool
	// Metrics, when set, is told every reconcile pass and TTL evaluation.
	Metrics Recorder

	rec    Reconciler
	ttl    TTLRunner
	token  tokenState
	leader leaderWatch
	state  State
	node   string // the agent's node name, for the NodeWatch
	online bool

	plan         *hcl.Plan        // the last good declaration
	presence     presenceSnapshot // its paths, when state was computed
	presenceTick presenceTicker
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
	if err := d.waitAgent(ctx); err != nil {
		return err
	}
	d.rec = Reconciler{Client: d.Client, Log: d.Log.Named("reconcile"), AllViaFile: d.AllViaConfig}
	if err := d.setPlan(plan); err != nil {
		return err
	}
	missing := make(chan struct{}, 1)
	if d.AgentConfigDir != "" {
		d.rec.FragmentPath = filepath.Join(d.AgentConfigDir, FragmentName)
		d.rec.FragmentStage = d.FragmentStage
	}
	d.ttl = TTLRunner{Client: d.Client, Log: d.Log.Named("ttl"), Missing: missing, Metrics: d.Metrics, token: &d.token,
		FullOutput: d.Options.FullOutput}
	d.leader = leaderWatch{client: d.Client, log: d.Log, back: make(chan struct{}, 1), suspect: make(chan struct{}, 1)}
	runCtx, stopChecks := context.WithCancel(ctx)
	changed := make(chan struct{}, 1)
	watch := NodeWatch{Client: d.Client, Node: d.node, Log: d.Log.Named("watch"), Changed: changed, Leader: d.leader.suspect}
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
	d.reconcile(ctx)
	d.ttl.Set(runCtx, d.state.TTLChecks())
	defer d.presenceTick.stop()

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
	var retry <-chan time.Time // set while the agent is unreachable
	if !d.online {
		retry = time.After(watchRetry)
	}
	for {
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
		case <-retry:
			d.reconcile(ctx)
		case <-ticker.C:
			if d.node == "" {
				d.leader.suspected() // no watch answers to tell
			}
			d.reconcile(ctx)
		case <-d.presenceTick.C():
			d.followPresence(ctx, runCtx)
		}
		retry = nil
		if !d.online {
			retry = time.After(watchRetry)
		}
	}
}

// waitAgent polls the agent with capped exponential backoff until it
// answers, and reads which script checks it allows. A refused token is
// logged once and waited out the same way (a token just created may not
// have reached the server the agent asks yet; a deleted one may be
// restored): no exit, no restart loop.
func (d *Daemon) waitAgent(ctx context.Context) error {
	wait := 250 * time.Millisecond
	logged := false
	for {
		err := d.connect()
		if err == nil {
			d.token.Works()
			d.Log.Info("consul agent is up", "address", d.AgentAddress, "enable_script_checks", d.choice.Agent.Remote, "enable_local_script_checks", d.choice.Agent.Local)
			return nil
		}
		var pe *parseError
		if errors.As(err, &pe) {
			return err
		}
		if d.token.Refused(err) {
			logged = true // the token line says it all
		}
		if !logged {
			d.Log.Warn("waiting for the consul agent", "address", d.AgentAddress, "error", err)
			logged = true
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		wait = min(2*wait, maxBackoff)
	}
}

// parseError is an answer of /v1/agent/self that cannot be used: waiting
// longer does not help.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// connect reads, once per agent (re)connection, what the agent allows and
// whether a fragment can be written into its config dir (one probe file).
func (d *Daemon) connect() error {
	self, err := d.Client.Agent().Self()
	if err != nil {
		return err
	}
	agent, err := ParseAgentScripts(self)
	if err != nil {
		return &parseError{err}
	}
	d.node, _ = self["Config"]["NodeName"].(string)
	d.choice = ScriptChoice{Want: d.ScriptMode, Agent: agent, ConfigDir: d.AgentConfigDir}
	if d.AgentConfigDir != "" {
		if d.FragmentStage != "" {
			d.choice.Stage = d.FragmentStage
			d.choice.ConfigDirErr = stageUsable(d.FragmentStage, d.AgentConfigDir)
		} else {
			d.choice.ConfigDirErr = dirWritable(d.AgentConfigDir)
		}
	}
	d.connected = true
	return nil
}

// setPlan computes the desired state of plan with the folders present now,
// and the way its script checks reach the agent, from what connect read; it
// does no I/O but looking at the plan's if_present paths.
func (d *Daemon) setPlan(plan *hcl.Plan) error {
	st, snap := d.desiredNow(plan)
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

// reconnect decides the script mode again after the agent was unavailable:
// it may have come back with another configuration, or its config dir may
// have turned unwritable. When no mode works any more the error is logged
// and the last mode kept.
func (d *Daemon) reconnect() error {
	if err := d.connect(); err != nil {
		return err
	}
	mode, err := d.chooseMode(d.state)
	if err != nil {
		d.Log.Error("script checks cannot reach the agent any more; keeping the last way", "mode", d.rec.Mode, "error", err)
		return nil
	}
	if mode != d.rec.Mode {
		d.Log.Info("script checks reach the agent another way now", "mode", mode, "was", d.rec.Mode)
		d.rec.Mode = mode
	}
	return nil
}

// reconcile runs one pass and logs agent availability once per change.
// After an outage it first reads the agent's settings again (reconnect).
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
		err = d.reconnect()
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
			d.online = false
		}
		return
	}
	recorderOr(d.Metrics).Reconciled(d.state, out, nil)
	if !d.online {
		d.Log.Info("in sync with the consul agent", "services", len(d.state.Services), "registered", len(out.Registered), "deregistered", len(out.Deregistered))
		d.online = true
		if d.Ready != nil {
			close(d.Ready)
			d.Ready = nil
		}
	}
	if d.token.Works() {
		d.ttl.Kick() // held back while the token was refused
	}
	for _, id := range out.Conflicts {
		d.Log.Error("service ID taken by a service this tool does not own; left alone", "id", id)
	}
	if len(out.Registered) > 0 || out.Reloaded {
		// New or replaced registrations start critical: report at once.
		d.ttl.Kick()
	}
}

// reload applies a new declaration, or keeps the last good one.
func (d *Daemon) reload(ctx context.Context) {
	plan, err := d.Load()
	if err == nil {
		err = d.setPlan(plan)
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

// isPermission recognises an ACL refusal.
func isPermission(err error) bool {
	var se api.StatusError
	return errors.As(err, &se) && se.Code == 403
}

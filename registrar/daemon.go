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

	rec    Reconciler
	ttl    TTLRunner
	state  State
	agent  AgentScripts
	node   string // the agent's node name, for the NodeWatch
	online bool
}

// Run blocks until ctx ends. It fails at once when the declaration is
// invalid or the agent allows none of the ways to run its script checks.
func (d *Daemon) Run(ctx context.Context) error {
	if d.AllViaConfig && d.AgentConfigDir == "" {
		return errors.New("registering through the agent config needs -agent-config-dir")
	}
	plan, err := d.Load()
	if err != nil {
		return fmt.Errorf("declaration: %w", err)
	}
	if err := d.waitAgent(ctx); err != nil {
		return err
	}
	if err := d.setPlan(plan); err != nil {
		return err
	}
	missing := make(chan struct{}, 1)
	d.rec = Reconciler{Client: d.Client, Log: d.Log.Named("reconcile"), Mode: d.scriptMode(), AllViaFile: d.AllViaConfig}
	if d.AgentConfigDir != "" {
		d.rec.FragmentPath = filepath.Join(d.AgentConfigDir, FragmentName)
	}
	d.ttl = TTLRunner{Client: d.Client, Log: d.Log.Named("ttl"), Missing: missing, FullOutput: d.Options.FullOutput}
	runCtx, stopChecks := context.WithCancel(ctx)
	changed := make(chan struct{}, 1)
	watch := NodeWatch{Client: d.Client, Node: d.node, Log: d.Log.Named("watch"), Changed: changed}
	defer func() {
		stopChecks()
		d.ttl.Wait()
		watch.Wait()
	}()
	d.reconcile(ctx)
	d.ttl.Set(runCtx, d.state.TTLChecks())

	period := d.Resync
	if period <= 0 {
		period = DefaultResync
	}
	if d.node != "" {
		watch.Start(runCtx)
	} else {
		d.Log.Warn("the agent did not say its node name; comparing every second", "every", watchPoll)
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
		case <-changed:
			d.reconcile(ctx)
		case <-retry:
			d.reconcile(ctx)
		case <-ticker.C:
			d.reconcile(ctx)
		}
		retry = nil
		if !d.online {
			retry = time.After(watchRetry)
		}
	}
}

// waitAgent polls the agent with capped exponential backoff until it
// answers, and reads which script checks it allows.
func (d *Daemon) waitAgent(ctx context.Context) error {
	wait := 250 * time.Millisecond
	logged := false
	for {
		self, err := d.Client.Agent().Self()
		if err == nil {
			d.agent, err = ParseAgentScripts(self)
			if err != nil {
				return err
			}
			d.node, _ = self["Config"]["NodeName"].(string)
			d.Log.Info("consul agent is up", "address", d.AgentAddress, "enable_script_checks", d.agent.Remote, "enable_local_script_checks", d.agent.Local)
			return nil
		}
		if isPermission(err) {
			return fmt.Errorf("consul agent refused /v1/agent/self (the token needs agent:read): %w", err)
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

// setPlan computes the desired state of plan and checks that its script
// checks can reach the agent.
func (d *Daemon) setPlan(plan *hcl.Plan) error {
	st := Desired(plan, d.Options)
	if _, err := d.chooseMode(st); err != nil {
		return err
	}
	d.state = st
	return nil
}

func (d *Daemon) chooseMode(st State) (ScriptMode, error) {
	c := ScriptChoice{Want: d.ScriptMode, Agent: d.agent, ConfigDir: d.AgentConfigDir}
	for _, s := range st.Services {
		for _, ck := range s.Registration.Checks {
			if len(ck.Args) > 0 {
				c.Scripts++
			}
		}
	}
	if c.ConfigDir != "" {
		c.ConfigDirErr = dirWritable(c.ConfigDir)
	}
	return ChooseScriptMode(c)
}

// scriptMode is the mode of the current state (already validated).
func (d *Daemon) scriptMode() ScriptMode {
	m, _ := d.chooseMode(d.state)
	return m
}

// reconcile runs one pass and logs agent availability once per change.
func (d *Daemon) reconcile(ctx context.Context) {
	out, err := d.rec.Reconcile(ctx, d.state)
	if err != nil {
		if ctx.Err() != nil {
			return
		}
		if d.online {
			d.Log.Warn("consul agent unavailable; will retry", "error", err)
			d.online = false
		}
		return
	}
	if !d.online {
		d.Log.Info("in sync with the consul agent", "services", len(d.state.Services), "registered", len(out.Registered), "deregistered", len(out.Deregistered))
		d.online = true
		if d.Ready != nil {
			close(d.Ready)
			d.Ready = nil
		}
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
		if self, serr := d.Client.Agent().Self(); serr == nil {
			if a, perr := ParseAgentScripts(self); perr == nil {
				d.agent = a
			}
		}
		err = d.setPlan(plan)
	}
	if err != nil {
		d.Log.Error("reload failed; the last good declaration stays registered", "error", strings.TrimSpace(err.Error()))
		return
	}
	d.rec.Mode = d.scriptMode()
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

package registrar

// Connecting to the agent: waiting for it at start, and reading again what
// it allows after it was away.

import (
	"context"
	"errors"
	"time"
)

// waitAgent polls the agent with capped exponential backoff until it
// answers, and reads which script checks it allows. A refused token is
// logged once and waited out the same way (a token just created may not
// have reached the server the agent asks yet; a deleted one may be
// restored): no exit, no restart loop.
func (d *Daemon) waitAgent(ctx context.Context) error {
	wait := backoff{first: 250 * time.Millisecond, max: maxBackoff}
	logged := false
	for {
		err := d.connect(ctx)
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
		case <-time.After(wait.next()):
		}
	}
}

// parseError is an answer of /v1/agent/self that cannot be used: waiting
// longer does not help.
type parseError struct{ err error }

func (e *parseError) Error() string { return e.err.Error() }
func (e *parseError) Unwrap() error { return e.err }

// connect reads, once per agent (re)connection, what the agent allows and
// whether a fragment can be written into its config dir (one probe file).
func (d *Daemon) connect(ctx context.Context) error {
	self, err := agentSelf(ctx, d.Client)
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

// reconnect decides the script mode again after the agent was unavailable:
// it may have come back with another configuration, or its config dir may
// have turned unwritable. When no mode works any more the error is logged
// and the last mode kept.
func (d *Daemon) reconnect(ctx context.Context) error {
	if err := d.connect(ctx); err != nil {
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

package registrar

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// fragmentReloadPause is the shortest time between two agent reloads asked
// for because fragment services are missing while the file is unchanged
// (an agent that keeps dropping them must not be reloaded in a tight loop).
const fragmentReloadPause = 10 * time.Second

// Reconciler makes the agent's owned services equal to a desired State. It
// reads the agent's services and checks, and writes only what differs:
// services it does not own (Meta managed-by) are never touched, even with
// the same name or ID prefix. It is not safe for concurrent use; the Daemon
// calls it from one goroutine.
type Reconciler struct {
	// Client talks to the local agent.
	Client *api.Client
	// Log receives one line per write.
	Log hclog.Logger
	// Mode says how services with script checks are delivered.
	Mode ScriptMode
	// FragmentPath is the agent config file this tool owns (agent config dir
	// + FragmentName); empty when no agent config dir was given. It holds
	// the services marked ViaFile (the heartbeat) and, with Mode
	// ScriptConfig, the script services; it is removed when none is left.
	FragmentPath string
	// FragmentStage, when set, is a folder of the daemon's own where the
	// fragment is staged for carbonio-health-fragment.service to check and
	// install at FragmentPath (fragment_stage.go): the daemon then needs no
	// write access to the agent's config dir.
	FragmentStage string
	// AllViaFile delivers every service through the fragment (one reload
	// per change) instead of one API call per service: about 10× faster
	// for 1,000 services (deploy/bench/results.md), at the price of a
	// config reload for any change.
	AllViaFile bool

	lastFragmentReload time.Time
}

// Outcome says what one reconcile pass wrote.
type Outcome struct {
	// Registered and Deregistered are service IDs written through the API.
	Registered, Deregistered []string
	// Replaced are the IDs of Registered that the agent already held (a
	// changed definition); the others were new.
	Replaced []string
	// FragmentWritten is true when the agent config fragment changed;
	// Reloaded when the agent was asked to reload.
	FragmentWritten, Reloaded bool
	// Conflicts are desired service IDs the agent already holds for
	// someone else (no managed-by meta): left alone, never overwritten.
	Conflicts []string
	// AgentChecks are the agent's checks as the pass last read them (nil
	// when it could not read them): status and output of every check,
	// whoever runs it, for metrics.
	AgentChecks map[string]*api.AgentCheck
}

// Writes counts the agent writes of the pass.
func (o Outcome) Writes() int {
	n := len(o.Registered) + len(o.Deregistered)
	if o.Reloaded {
		n++
	}
	return n
}

// Reconcile runs one pass. It stops at the first failed write and returns
// what it did so far with the error; the next pass picks up from there.
func (r *Reconciler) Reconcile(ctx context.Context, st State) (Outcome, error) {
	var out Outcome
	q := (&api.QueryOptions{}).WithContext(ctx)
	services, checks, err := r.read(q)
	if err != nil {
		return out, err
	}
	out.AgentChecks = checks

	var viaAPI, viaFile []ServiceState
	for _, s := range st.Services {
		if r.AllViaFile || (s.HasScript && r.Mode == ScriptConfig) || (s.ViaFile && r.FragmentPath != "") {
			viaFile = append(viaFile, s)
		} else {
			viaAPI = append(viaAPI, s)
		}
	}
	if err := r.syncFragment(ctx, viaFile, services, checks, &out); err != nil {
		return out, err
	}
	if out.Reloaded {
		// The reload added or dropped fragment services: look again.
		if services, checks, err = r.read(q); err != nil {
			return out, err
		}
		out.AgentChecks = checks
	}

	for _, s := range viaAPI {
		have := services[s.ID()]
		if have != nil && !Owned(have) {
			// Same ID, someone else's: never overwrite it.
			out.Conflicts = append(out.Conflicts, s.ID())
			continue
		}
		if inSync(s, have, checks) {
			continue
		}
		opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
		if err := r.Client.Agent().ServiceRegisterOpts(s.Registration, opts); err != nil {
			return out, fmt.Errorf("register service %s: %w", s.ID(), err)
		}
		r.Log.Info("registered service", "id", s.ID(), "name", s.Registration.Name, "checks", len(s.Registration.Checks))
		out.Registered = append(out.Registered, s.ID())
		if have != nil {
			out.Replaced = append(out.Replaced, s.ID())
		}
	}

	stale := staleOwned(services, st)
	for _, id := range stale {
		if err := r.Client.Agent().ServiceDeregisterOpts(id, q); err != nil {
			return out, fmt.Errorf("deregister service %s: %w", id, err)
		}
		r.Log.Info("deregistered service", "id", id)
		out.Deregistered = append(out.Deregistered, id)
	}
	return out, nil
}

// read returns the agent's services and checks.
func (r *Reconciler) read(q *api.QueryOptions) (map[string]*api.AgentService, map[string]*api.AgentCheck, error) {
	services, err := r.Client.Agent().ServicesWithFilterOpts("", q)
	if err != nil {
		return nil, nil, fmt.Errorf("list agent services: %w", err)
	}
	checks, err := r.Client.Agent().ChecksWithFilterOpts("", q)
	if err != nil {
		return nil, nil, fmt.Errorf("list agent checks: %w", err)
	}
	return services, checks, nil
}

// syncFragment writes the script services into the fragment file and
// reloads the agent when the file changed, or when the agent lacks some of
// them although the file is already right (rate limited).
func (r *Reconciler) syncFragment(ctx context.Context, viaFile []ServiceState, services map[string]*api.AgentService, checks map[string]*api.AgentCheck, out *Outcome) error {
	if r.FragmentPath == "" {
		if len(viaFile) > 0 {
			return fmt.Errorf("%d services with script checks need the agent's config dir, and none was given", len(viaFile))
		}
		return nil
	}
	changed, err := r.writeFragment(ctx, renderFragment(viaFile))
	if err != nil {
		return err
	}
	out.FragmentWritten = changed
	reload := changed
	if !changed {
		for _, s := range viaFile {
			if !inSync(s, services[s.ID()], checks) {
				reload = time.Since(r.lastFragmentReload) >= fragmentReloadPause
				break
			}
		}
	}
	if !reload {
		return nil
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	if err := r.Client.Agent().Reload(); err != nil {
		return fmt.Errorf("reload agent to read %s: %w", r.FragmentPath, err)
	}
	r.lastFragmentReload = time.Now()
	out.Reloaded = true
	r.Log.Info("agent reloaded for its config fragment", "path", r.FragmentPath, "services", len(viaFile), "file_changed", changed)
	return nil
}

// writeFragment makes the agent's fragment hold content (nil: no file),
// directly or through the staging folder, and reports whether it changed.
func (r *Reconciler) writeFragment(ctx context.Context, content []byte) (bool, error) {
	if r.FragmentStage != "" {
		return stagedFragment{Stage: r.FragmentStage, Installed: r.FragmentPath}.write(ctx, content)
	}
	return writeFragment(r.FragmentPath, content)
}

// inSync reports whether the agent holds the service as desired: same
// definition hash and every desired check present on it.
func inSync(want ServiceState, have *api.AgentService, checks map[string]*api.AgentCheck) bool {
	if have == nil || !Owned(have) || have.Meta[MetaHash] != want.Hash {
		return false
	}
	for _, id := range want.CheckIDs() {
		c, ok := checks[id]
		if !ok || c.ServiceID != want.ID() {
			return false
		}
	}
	return true
}

// DeregisterAll removes every service this tool owns from the agent, and its
// config fragment from agentConfigDir when given, and nothing else. The
// outcome's Deregistered lists every owned service that is gone, whether
// through the API or with the fragment (the agent drops those when it
// reloads); one that is still there after that is an error naming it.
func DeregisterAll(ctx context.Context, client *api.Client, log hclog.Logger, agentConfigDir string) (Outcome, error) {
	r := Reconciler{Client: client, Log: log}
	if agentConfigDir != "" {
		r.FragmentPath = filepath.Join(agentConfigDir, FragmentName)
	}
	q := (&api.QueryOptions{}).WithContext(ctx)
	before, _, err := r.read(q)
	if err != nil {
		return Outcome{}, err
	}
	out, err := r.Reconcile(ctx, State{})
	if err != nil {
		return out, err
	}
	after, _, err := r.read(q)
	if err != nil {
		return out, err
	}
	var left []string
	for id, s := range before {
		switch {
		case !Owned(s) || slices.Contains(out.Deregistered, id):
		case after[id] != nil:
			left = append(left, id)
		default:
			out.Deregistered = append(out.Deregistered, id)
		}
	}
	slices.Sort(out.Deregistered)
	if len(left) > 0 {
		slices.Sort(left)
		return out, fmt.Errorf("%d owned services are still registered (from another config file of the agent?): %s", len(left), strings.Join(left, ", "))
	}
	return out, nil
}

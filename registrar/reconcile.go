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

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/consulstatus"
)

// fragmentReloadPause is the shortest time between two agent reloads asked
// for because fragment services are missing while the file is unchanged
// (an agent that keeps dropping them must not be reloaded in a tight loop).
// ReloadNow lifts it once: the agent's config folder changed, so a reload
// refused a moment ago may work now.
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
	reloadNow          bool
	// reloadRefused is why the agent refused the last reload ("" once one
	// works): said again by the passes that wait before asking again.
	reloadRefused string
}

// Outcome says what one reconcile pass wrote, and what the agent still
// does not hold as declared.
type Outcome struct {
	// Registered and Deregistered are service IDs written through the API.
	Registered, Deregistered []string
	// Replaced are the IDs of Registered that the agent already held (a
	// changed definition); the others were new.
	Replaced []string
	// FragmentWritten is true when the agent config fragment changed;
	// Reloaded when the agent was asked to reload (and did).
	FragmentWritten, Reloaded bool
	// Conflicts are desired service IDs the agent already holds for
	// someone else (no managed-by meta): left alone, never overwritten.
	Conflicts []string
	// Problems say, one sentence each, why the agent does not hold what is
	// declared although it answers: the fragment cannot be written, the
	// agent refuses to reload, refuses a registration, a conflict, and
	// which declared services are missing. Empty when it holds all of it.
	// The sentences carry no moving numbers (they become the heartbeat's
	// output).
	Problems []string
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

// ReloadNow lets the next pass reload the agent at once when fragment
// services are missing, without waiting for fragmentReloadPause (the
// agent's config folder changed: a neighbour's broken file may be fixed).
func (r *Reconciler) ReloadNow() { r.reloadNow = true }

// Reconcile runs one pass. An error means the pass could not go on (the
// agent unreachable, the token refused, no leader): it returns what it did
// so far and the next pass picks up from there. An agent that answers but
// refuses one write (a registration, the reload) is not an error: the pass
// goes on with the rest and says so in Outcome.Problems.
func (r *Reconciler) Reconcile(ctx context.Context, st State) (Outcome, error) {
	var out Outcome
	services, checks, err := r.read(ctx)
	if err != nil {
		return out, err
	}
	out.AgentChecks = checks

	var viaAPI, viaFile []ServiceState
	for _, s := range st.Services {
		if r.viaFile(s) {
			viaFile = append(viaFile, s)
		} else {
			viaAPI = append(viaAPI, s)
		}
	}
	fragmentOK, err := r.syncFragment(ctx, viaFile, services, checks, &out)
	if err != nil {
		return out, err
	}
	if out.Reloaded {
		// The reload added or dropped fragment services: look again.
		if services, checks, err = r.read(ctx); err != nil {
			return out, err
		}
		out.AgentChecks = checks
	}
	if !fragmentOK {
		// The agent cannot get the fragment: services that need no script
		// (the heartbeat) go through the API meanwhile, so that the alarm
		// saying so is in the agent. A later reload of the fragment
		// replaces them (the agent prefers its config to what the API
		// registered).
		for _, s := range viaFile {
			if !s.HasScript && !inSync(s, services[s.ID()], checks) {
				viaAPI = append(viaAPI, s)
			}
		}
	}

	for _, s := range viaAPI {
		have := services[s.ID()]
		if have != nil && !Owned(have) {
			// Same ID, someone else's: never overwrite it.
			out.Conflicts = append(out.Conflicts, s.ID())
			out.Problems = append(out.Problems, fmt.Sprintf("service ID %s is held by a service carbonio-health does not own", s.ID()))
			continue
		}
		if inSync(s, have, checks) {
			continue
		}
		if err := r.register(ctx, s); err != nil {
			if !refusal(err) {
				return out, err
			}
			out.Problems = append(out.Problems, fmt.Sprintf("the agent refuses service %s: %s", s.ID(), answer(err)))
			continue
		}
		r.Log.Info("registered service", "id", s.ID(), "name", s.Registration.Name, "checks", len(s.Registration.Checks))
		out.Registered = append(out.Registered, s.ID())
		if have != nil {
			out.Replaced = append(out.Replaced, s.ID())
		}
	}

	for _, id := range staleOwned(services, st) {
		cctx, cancel := bound(ctx)
		err := r.Client.Agent().ServiceDeregisterOpts(id, (&api.QueryOptions{}).WithContext(cctx))
		cancel()
		if err != nil {
			if !refusal(err) {
				return out, fmt.Errorf("deregister service %s: %w", id, err)
			}
			out.Problems = append(out.Problems, fmt.Sprintf("the agent refuses to remove service %s: %s", id, answer(err)))
			continue
		}
		r.Log.Info("deregistered service", "id", id)
		out.Deregistered = append(out.Deregistered, id)
	}
	if missing := missingServices(st, services, checks, out.Registered, out.Conflicts); len(missing) > 0 {
		out.Problems = append(out.Problems, missingSentence(missing))
	}
	return out, nil
}

// viaFile reports whether s is delivered through the agent config fragment.
func (r *Reconciler) viaFile(s ServiceState) bool {
	return r.AllViaFile || (s.HasScript && r.Mode == ScriptConfig) || (s.ViaFile && r.FragmentPath != "")
}

// register writes one service through the API, replacing its checks.
func (r *Reconciler) register(ctx context.Context, s ServiceState) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	opts := api.ServiceRegisterOpts{ReplaceExistingChecks: true}.WithContext(ctx)
	if err := r.Client.Agent().ServiceRegisterOpts(s.Registration, opts); err != nil {
		return fmt.Errorf("register service %s: %w", s.ID(), err)
	}
	return nil
}

// refusal reports whether err is the agent refusing one request although it
// answers: the pass goes on without it. Anything else (no answer, a refused
// token, no leader) stops the pass.
func refusal(err error) bool {
	k := consulstatus.Classify(err)
	return k == consulstatus.Rejected || k == consulstatus.NotFound
}

// maxAnswer bounds how much of the agent's answer a problem quotes (it may
// quote the value it refused).
const maxAnswer = 200

// answer is the first line of what the agent said, cut to maxAnswer.
func answer(err error) string {
	s := checkscript.FirstLine(consulstatus.Reason(err))
	if r := []rune(s); len(r) > maxAnswer {
		s = string(r[:maxAnswer-1]) + "…"
	}
	return s
}

// read returns the agent's services and checks.
func (r *Reconciler) read(ctx context.Context) (map[string]*api.AgentService, map[string]*api.AgentCheck, error) {
	cctx, cancel := bound(ctx)
	defer cancel()
	q := (&api.QueryOptions{}).WithContext(cctx)
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

// syncFragment writes the fragment's services into the file and reloads the
// agent when the file changed, or when the agent lacks some of them although
// the file is already right (rate limited). ok is false when the agent
// cannot have the fragment as declared: the file cannot be written, or the
// agent refuses to reload (each said in out.Problems).
func (r *Reconciler) syncFragment(ctx context.Context, viaFile []ServiceState, services map[string]*api.AgentService, checks map[string]*api.AgentCheck, out *Outcome) (ok bool, err error) {
	if r.FragmentPath == "" {
		if len(viaFile) > 0 {
			return false, fmt.Errorf("%d services with script checks need the agent's config dir, and none was given", len(viaFile))
		}
		return true, nil
	}
	changed, werr := r.writeFragment(ctx, renderFragment(viaFile))
	if werr != nil {
		if cerr := ctx.Err(); cerr != nil {
			return false, cerr
		}
		out.Problems = append(out.Problems, "cannot write the agent config fragment: "+werr.Error())
		return false, nil
	}
	out.FragmentWritten = changed
	reload := changed
	if !changed {
		for _, s := range viaFile {
			if !inSync(s, services[s.ID()], checks) {
				reload = r.reloadNow || time.Since(r.lastFragmentReload) >= fragmentReloadPause
				if !reload {
					// Asked a moment ago: the pass says what is missing,
					// and why when the agent said why.
					if r.reloadRefused != "" {
						out.Problems = append(out.Problems, r.reloadRefused)
					}
					return false, nil
				}
				break
			}
		}
	}
	if !reload {
		return true, nil
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	r.lastFragmentReload, r.reloadNow = time.Now(), false
	if err := agentReload(ctx, r.Client); err != nil {
		if !refusal(err) {
			return false, fmt.Errorf("reload agent to read %s: %w", r.FragmentPath, err)
		}
		r.reloadRefused = "the agent refuses to reload its configuration: " + answer(err)
		out.Problems = append(out.Problems, r.reloadRefused)
		return false, nil
	}
	r.reloadRefused = ""
	out.Reloaded = true
	r.Log.Info("agent reloaded for its config fragment", "path", r.FragmentPath, "services", len(viaFile), "file_changed", changed)
	return true, nil
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
// definition hash and every desired check present on it, of the same kind
// (a check someone registered again under our ID as another kind is not
// ours any more: the agent would refuse our TTL updates).
func inSync(want ServiceState, have *api.AgentService, checks map[string]*api.AgentCheck) bool {
	if have == nil || !Owned(have) || have.Meta[MetaHash] != want.Hash {
		return false
	}
	for _, wc := range want.Registration.Checks {
		c, ok := checks[wc.CheckID]
		if k := checkKind(wc); !ok || c.ServiceID != want.ID() || (k != "" && c.Type != "" && c.Type != k) {
			return false
		}
	}
	return true
}

// checkKind is the agent's name for the kind of a check it is given
// (AgentCheck.Type).
func checkKind(c *api.AgentServiceCheck) string {
	switch {
	case c.TTL != "":
		return "ttl"
	case c.TCP != "":
		return "tcp"
	case c.HTTP != "":
		return "http"
	case len(c.Args) > 0:
		return "script"
	default:
		return ""
	}
}

// missingServices are the declared services the agent does not hold as
// declared after the pass: neither in sync when last read nor registered
// by it, conflicts aside (said on their own).
func missingServices(st State, services map[string]*api.AgentService, checks map[string]*api.AgentCheck, registered, conflicts []string) []string {
	var missing []string
	for _, s := range st.Services {
		id := s.ID()
		if slices.Contains(registered, id) || slices.Contains(conflicts, id) || inSync(s, services[id], checks) {
			continue
		}
		missing = append(missing, id)
	}
	return missing
}

// maxMissingNamed bounds how many missing services a problem names.
const maxMissingNamed = 3

// missingSentence says which declared services the agent lacks.
func missingSentence(ids []string) string {
	named := ids
	more := ""
	if len(ids) > maxMissingNamed {
		named, more = ids[:maxMissingNamed], fmt.Sprintf(" and %d more", len(ids)-maxMissingNamed)
	}
	noun := "services"
	if len(ids) == 1 {
		noun = "service"
	}
	return fmt.Sprintf("%d declared %s not in the agent: %s%s", len(ids), noun, strings.Join(named, ", "), more)
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
	before, _, err := r.read(ctx)
	if err != nil {
		return Outcome{}, err
	}
	out, err := r.Reconcile(ctx, State{})
	if err != nil {
		return out, err
	}
	after, _, err := r.read(ctx)
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

// Package registrar turns a resolved declaration (hcl.Plan) into the local
// Consul agent's services and checks and keeps them there: Desired computes
// the wanted state as a pure function, the Reconciler diffs it against what
// the agent holds and this tool owns, the TTLRunner feeds the TTL checks from
// in-process probes, and the Daemon ties them into one long-running loop.
//
// Data flows one way: declaration → desired state → agent. Nothing here reads
// the declaration files or parses flags.
package registrar

import (
	"cmp"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"slices"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
	"github.com/zextras/carbonio-health/hcl"
)

// Ownership meta: every service this tool registers carries MetaManagedBy =
// ManagedBy, and MetaHash = a digest of its definition, so that the
// reconciler recognises what it owns and what changed without comparing
// the agent's normalised copy field by field.
const (
	MetaManagedBy = "managed-by"
	ManagedBy     = "carbonio-health"
	MetaHash      = "carbonio-health-hash"
)

// scriptTimeoutSlack is added to a probe's own -t when the agent runs it as
// a script check, so the probe answers its own timeout (UNKNOWN/CRITICAL with
// a message) before the agent kills it.
const scriptTimeoutSlack = 2 * time.Second

// Options are the node facts Desired needs besides the plan.
type Options struct {
	// Self is the path of the carbonio-health binary the agent runs for
	// script checks (absolute, as the agent's working directory is not ours).
	Self string
	// Exporter, when set, adds the daemon's metrics endpoint as service
	// ExporterName (see exporter.go).
	Exporter *Exporter
	// FullOutput has the agent store each built-in probe's full line
	// (measurements and perfdata) instead of its steady form: about one
	// catalog write per such check every check_update_interval.
	FullOutput bool
	// Light is the path of carbonio-health-check, which the agent runs
	// instead of Self for the probes it can run (allprobes.IsLight): it
	// starts faster, as it links none of the other probes' dependencies.
	// Empty: Self runs every probe.
	Light string
	// Heartbeat adds the daemon's heartbeat service (heartbeat.go), which
	// tells readers of the catalog whether the node's checks are fed.
	Heartbeat bool
}

// scriptBinary is the binary the agent runs for script check c.
func (o Options) scriptBinary(c hcl.Check) string {
	if o.Light != "" && allprobes.IsLight(c.Probe, c.Args) {
		return o.Light
	}
	return o.Self
}

// State is the desired agent state of one node.
type State struct {
	// Services are sorted by ID.
	Services []ServiceState
}

// ServiceState is one service as it is to be registered.
type ServiceState struct {
	// Registration is what the agent receives; its Meta holds the
	// ownership and hash entries.
	Registration *api.AgentServiceRegistration
	// Hash is the digest stored in Meta[MetaHash].
	Hash string
	// HasScript is true when one of its checks is a script check, which
	// decides how the service reaches the agent (API or config fragment).
	HasScript bool
	// ViaFile sends the service through the agent's config fragment
	// whenever there is one, so that the agent writes it to the catalog
	// with its own token, not the daemon's (the heartbeat).
	ViaFile bool
	// TTL are the service's TTL checks, which the TTLRunner feeds.
	TTL []TTLCheck
}

// TTLCheck is a TTL check fed by an in-process probe.
type TTLCheck struct {
	// CheckID and ServiceID identify the check in the agent.
	CheckID, ServiceID string
	// Name is the check's name, for logs.
	Name string
	// Probe and Args build the checkscript.Check.
	Probe string
	Args  []string
	// Interval is the evaluation period; TTL the agent's expiry.
	Interval, TTL time.Duration
	// SuccessBeforePassing and FailuresBeforeCritical damp flapping (see
	// damper); 0 counts as 1, at once.
	SuccessBeforePassing, FailuresBeforeCritical int
}

// ID returns the service ID.
func (s ServiceState) ID() string { return s.Registration.ID }

// CheckIDs returns the IDs of the service's checks.
func (s ServiceState) CheckIDs() []string {
	ids := make([]string, 0, len(s.Registration.Checks))
	for _, c := range s.Registration.Checks {
		ids = append(ids, c.CheckID)
	}
	return ids
}

// TTLChecks returns every TTL check of the state, sorted by check ID.
func (s State) TTLChecks() []TTLCheck {
	var out []TTLCheck
	for _, svc := range s.Services {
		out = append(out, svc.TTL...)
	}
	slices.SortFunc(out, func(a, b TTLCheck) int { return cmp.Compare(a.CheckID, b.CheckID) })
	return out
}

// HasScript reports whether any service carries a script check.
func (s State) HasScript() bool {
	for _, svc := range s.Services {
		if svc.HasScript {
			return true
		}
	}
	return false
}

// Desired is the agent state a plan asks for. It is pure: the same plan and
// options always give the same registrations and hashes.
func Desired(plan *hcl.Plan, opts Options) State {
	st := State{Services: make([]ServiceState, 0, len(plan.Services))}
	for _, svc := range plan.Services {
		st.Services = append(st.Services, desiredService(svc, opts))
	}
	if opts.Exporter != nil {
		st.Services = append(st.Services, exporterService(*opts.Exporter))
	}
	if opts.Heartbeat {
		st.Services = append(st.Services, heartbeatService())
	}
	slices.SortFunc(st.Services, func(a, b ServiceState) int { return cmp.Compare(a.ID(), b.ID()) })
	return st
}

func desiredService(svc hcl.Service, opts Options) ServiceState {
	reg := &api.AgentServiceRegistration{
		ID:      svc.ID,
		Name:    svc.Name,
		Tags:    append([]string(nil), svc.Tags...),
		Port:    svc.Port,
		Address: svc.Address,
		Meta:    map[string]string{},
	}
	for k, v := range svc.Meta {
		reg.Meta[k] = v
	}
	if svc.Description != "" {
		if _, set := reg.Meta["description"]; !set {
			reg.Meta["description"] = svc.Description
		}
	}
	reg.Meta[MetaManagedBy] = ManagedBy
	st := ServiceState{Registration: reg}
	for _, c := range svc.Checks {
		reg.Checks = append(reg.Checks, desiredCheck(c, opts))
		switch c.Kind {
		case hcl.KindScript:
			st.HasScript = true
		case hcl.KindTTL:
			st.TTL = append(st.TTL, TTLCheck{
				CheckID: c.ID, ServiceID: svc.ID, Name: c.Name,
				Probe: c.Probe, Args: append([]string(nil), c.Args...),
				Interval: c.Interval, TTL: c.TTL,
				SuccessBeforePassing: c.SuccessBeforePassing, FailuresBeforeCritical: c.FailuresBeforeCritical,
			})
		}
	}
	st.Hash = sealRegistration(reg)
	return st
}

func desiredCheck(c hcl.Check, opts Options) *api.AgentServiceCheck {
	ac := &api.AgentServiceCheck{CheckID: c.ID, Name: c.Name, Notes: c.Notes}
	switch c.Kind {
	case hcl.KindTCP:
		ac.TCP = c.TCP
		ac.Interval, ac.Timeout = duration(c.Interval), duration(c.Timeout)
	case hcl.KindHTTP:
		ac.HTTP, ac.TLSSkipVerify = c.HTTP, c.TLSSkipVerify
		ac.Interval, ac.Timeout = duration(c.Interval), duration(c.Timeout)
	case hcl.KindScript:
		ac.Args = scriptArgs(c, opts)
		ac.Interval, ac.Timeout = duration(c.Interval), duration(c.Timeout+scriptTimeoutSlack)
	case hcl.KindTTL:
		// The daemon damps what it pushes itself: the agent applies no
		// thresholds to TTL checks.
		ac.TTL = duration(c.TTL)
		return ac
	}
	ac.SuccessBeforePassing, ac.FailuresBeforeCritical = c.SuccessBeforePassing, c.FailuresBeforeCritical
	return ac
}

// scriptArgs is the command the agent runs for a script check: a built-in
// probe prints its steady form (checkscript.SteadyFlag) unless FullOutput;
// an operator's own command runs as written.
func scriptArgs(c hcl.Check, opts Options) []string {
	args := c.ScriptArgs(opts.scriptBinary(c)) // binary, "check", probe, flags…
	if len(c.Command) > 0 || opts.FullOutput || len(args) < 3 {
		return args
	}
	return append([]string{args[0], args[1], checkscript.SteadyFlag}, args[2:]...)
}

// duration renders d the way Consul accepts it; zero stays empty.
func duration(d time.Duration) string {
	if d <= 0 {
		return ""
	}
	return d.String()
}

// sealRegistration digests the finished registration as JSON (map keys
// sorted by encoding/json), stores the digest in its Meta[MetaHash] and
// returns it: every owned service, declared or the daemon's own, is sealed
// this way once built.
func sealRegistration(reg *api.AgentServiceRegistration) string {
	b, err := json.Marshal(reg)
	if err != nil {
		// A registration built from strings, ints and maps always marshals.
		panic("registrar: marshal registration: " + err.Error())
	}
	sum := sha256.Sum256(b)
	h := hex.EncodeToString(sum[:8])
	reg.Meta[MetaHash] = h
	return h
}

// Owned reports whether an agent service is managed by this tool.
func Owned(svc *api.AgentService) bool {
	return svc != nil && svc.Meta[MetaManagedBy] == ManagedBy
}

package hcl

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	hcl2 "github.com/hashicorp/hcl/v2"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
)

// Defaults for checks that do not say otherwise.
const (
	DefaultInterval = 30 * time.Second
	DefaultTimeout  = 10 * time.Second
	// TTLFactor sets a TTL check's default TTL to TTLFactor × its interval,
	// so a missed update or two never flaps it but a dead daemon does.
	TTLFactor = 3
	// MinInterval is the shortest interval a check may declare: Consul runs
	// no check more often (it raises shorter ones to 1 s), and a TTL check's
	// probe would otherwise spin in the daemon.
	MinInterval = time.Second
	// DefaultFailuresBeforeCritical: a TTL check the daemon feeds turns
	// critical at the first failing result. A missing socket is seen in
	// milliseconds (its folder is watched): an operator wants that alarm at
	// once, not one interval later.
	DefaultFailuresBeforeCritical = 1
	// DefaultSuccessBeforePassing: a failing TTL check turns passing again
	// only after two passing results one interval apart. The alarm is quick
	// to raise and slow to clear, as a pager's hysteresis: a socket that
	// flaps (a daemon crash-looping under systemd) stays critical, at one
	// catalog write, instead of writing the catalog twice per restart, and
	// a disk hovering at its threshold does not flap either. Costs one
	// interval of delay when a fault really clears.
	DefaultSuccessBeforePassing = 2
	// maxDamping bounds both counts: more than this many intervals of
	// delay hides a fault rather than damping it.
	maxDamping = 100
)

// kindAttributes says which attributes only make sense for some kinds.
var kindAttributes = map[string][]CheckKind{
	"probe":           {KindScript, KindTTL},
	"args":            {KindScript, KindTTL},
	"command":         {KindScript},
	"http":            {KindHTTP},
	"protocol":        {KindHTTP},
	"tls_skip_verify": {KindHTTP},
	"ttl":             {KindTTL},
}

// check resolves one check; ok is false when it is disabled or has errors.
func (r *resolver) check(svc *Service, cd *checkDecl) (Check, bool) {
	a := cd.attrs
	if !r.boolean(a, "enabled", true) {
		return Check{}, false
	}
	c := Check{
		ID:       svc.ID + ":" + cd.key,
		Key:      cd.key,
		Name:     r.str(a, "name", svc.Name+" "+cd.key),
		Notes:    r.str(a, "notes", ""),
		Interval: r.duration(a, "interval", DefaultInterval),
		Timeout:  r.duration(a, "timeout", DefaultTimeout),
	}
	kind, ok := r.kind(cd)
	if !ok {
		return Check{}, false
	}
	c.Kind = kind
	before := len(r.diags)
	if ia, set := a["interval"]; set && c.Interval < MinInterval {
		r.errorf(ia.Expr.Range(), "Interval too short",
			"interval = %q: a check runs at most once a second, so the interval must be at least %s.", c.Interval, MinInterval)
	}
	for name, kinds := range kindAttributes {
		at := a[name]
		if name == "args" && len(cd.args) > 0 {
			at = cd.args[0]
		}
		if at != nil && !slices.Contains(kinds, kind) {
			r.errorf(at.NameRange, "Attribute not valid for this check type",
				"%s is only for %s checks; this check is of type %q.", name, kindList(kinds), kind)
		}
	}
	switch kind {
	case KindTCP:
		r.needPort(svc, cd, "tcp")
		c.TCP = net.JoinHostPort(svc.Address, strconv.Itoa(svc.Port))
	case KindHTTP:
		c.HTTP = r.str(a, "http", "/")
		c.TLSSkipVerify = r.boolean(a, "tls_skip_verify", false)
		if !strings.HasPrefix(c.HTTP, "http://") && !strings.HasPrefix(c.HTTP, "https://") {
			r.needPort(svc, cd, "http")
			c.HTTP = r.protocol(a) + "://" + net.JoinHostPort(svc.Address, strconv.Itoa(svc.Port)) + "/" + strings.TrimPrefix(c.HTTP, "/")
		} else if pa, set := a["protocol"]; set {
			r.errorf(pa.NameRange, "Conflicting attributes",
				"protocol applies to an http path on the service's port; %q is a URL that names its own scheme.", c.HTTP)
		}
	case KindScript, KindTTL:
		c.Command = r.strings(a, "command")
		c.Probe = r.str(a, "probe", "")
		args := r.args(cd.args, c.Probe)
		if cd.target {
			args = append(args, r.excludeArgs()...)
		}
		c.Args = withTimeout(args, c.Timeout)
		r.probe(cd, &c)
	}
	if kind == KindTTL {
		c.TTL = r.duration(a, "ttl", TTLFactor*c.Interval)
		r.ttlLongerThanInterval(a, c)
		c.SuccessBeforePassing, c.FailuresBeforeCritical = DefaultSuccessBeforePassing, DefaultFailuresBeforeCritical
	}
	c.SuccessBeforePassing = r.count(a, "success_before_passing", c.SuccessBeforePassing)
	c.FailuresBeforeCritical = r.count(a, "failures_before_critical", c.FailuresBeforeCritical)
	return c, !r.diags[before:].HasErrors()
}

// ttlLongerThanInterval rejects a declared ttl that is not longer than the
// check's interval. The two may come from different files (a node file that
// raises the interval of a catalog check with a fixed ttl): the error points
// at the one read last and names where the other was set.
func (r *resolver) ttlLongerThanInterval(a hcl2.Attributes, c Check) {
	ta, ia := a["ttl"], a["interval"]
	if ta == nil || c.TTL > c.Interval {
		return
	}
	at := r.later(ta, ia)
	interval := fmt.Sprintf("interval (%s, the default)", c.Interval)
	if ia != nil {
		interval = fmt.Sprintf("interval (%s, set at %s)", c.Interval, pos(ia.Expr.Range()))
	}
	r.errorf(at.Expr.Range(), "TTL too short",
		"ttl (%s, set at %s) must be longer than %s, or every late update turns the check critical.",
		c.TTL, pos(ta.Expr.Range()), interval)
}

// kind reads the type attribute, defaulting to the check's label when the
// label names a kind (check "tcp" {}).
func (r *resolver) kind(cd *checkDecl) (CheckKind, bool) {
	all := []CheckKind{KindTCP, KindHTTP, KindScript, KindTTL}
	t, ok := cd.attrs["type"]
	if !ok {
		if slices.Contains(all, CheckKind(cd.key)) {
			return CheckKind(cd.key), true
		}
		r.errorf(cd.defRange, "Missing check type",
			"Check %q needs type = one of %s (or a label that is one of them).", cd.key, kindList(all))
		return "", false
	}
	k := CheckKind(r.str(cd.attrs, "type", ""))
	if !slices.Contains(all, k) {
		r.errorf(t.Expr.Range(), "Unknown check type", "Check type %q is not one of %s.", k, kindList(all))
		return "", false
	}
	return k, true
}

// probe validates a script or TTL check's probe and args by building it,
// exactly as the TTL runner and the check command will.
func (r *resolver) probe(cd *checkDecl, c *Check) {
	a := cd.attrs
	if c.Kind == KindScript && len(c.Command) > 0 {
		if _, ok := a["probe"]; ok {
			r.errorf(a["probe"].NameRange, "Conflicting attributes", "A script check runs either command or probe, not both.")
		}
		return
	}
	pa, ok := a["probe"]
	if !ok {
		what := "probe"
		if c.Kind == KindScript {
			what = "probe or command"
		}
		r.errorf(cd.defRange, "Missing "+what, "A %s check needs a %s. Probes: %s.",
			c.Kind, what, strings.Join(allprobes.Registry.Names(), ", "))
		return
	}
	if _, known := allprobes.Registry.Lookup(c.Probe); !known {
		hint := ""
		if n := checkscript.Nearest(c.Probe, allprobes.Registry.Names()); n != "" {
			hint = fmt.Sprintf(" Did you mean %q?", n)
		}
		r.errorf(pa.Expr.Range(), "Unknown probe", "No probe %q.%s Probes: %s.", c.Probe, hint, strings.Join(allprobes.Registry.Names(), ", "))
		return
	}
	if _, err := allprobes.Registry.New(c.Probe, c.Args); err != nil {
		rng := pa.Expr.Range()
		if len(cd.args) > 0 {
			rng = cd.args[len(cd.args)-1].Expr.Range()
		}
		var ue *checkscript.UsageError
		msg := err.Error()
		if errors.As(err, &ue) {
			msg = ue.Err.Error()
		}
		r.errorf(rng, "Invalid probe arguments", "Probe %q rejects %q: %s.", c.Probe, strings.Join(c.Args, " "), msg)
	}
}

// protocol reads an http check's protocol, "http" (default) or "https",
// as nomad's service checks name it.
func (r *resolver) protocol(a hcl2.Attributes) string {
	p := r.str(a, "protocol", "http")
	if p != "http" && p != "https" {
		r.errorf(a["protocol"].Expr.Range(), "Unknown protocol", "protocol = %q is not \"http\" or \"https\".", p)
	}
	return p
}

func (r *resolver) needPort(svc *Service, cd *checkDecl, kind string) {
	if svc.Port == 0 {
		r.errorf(cd.defRange, "Check needs a port",
			"A %s check connects to the service's port, but service %q declares no port.", kind, svc.Name)
	}
}

func kindList(kinds []CheckKind) string {
	s := make([]string, len(kinds))
	for i, k := range kinds {
		s[i] = fmt.Sprintf("%q", string(k))
	}
	return strings.Join(s, ", ")
}

// withTimeout appends -t with the check's timeout to probe flags that do not
// set one, so the probe answers (CRITICAL "Socket timeout …") within the
// check's time instead of being killed by the agent without a word.
func withTimeout(args []string, timeout time.Duration) []string {
	for _, a := range args {
		if a == "-t" || a == "--t" || a == "-timeout" || a == "--timeout" {
			return args
		}
	}
	return append(args, "-t", checkscript.FormatFloat(timeout.Seconds()))
}

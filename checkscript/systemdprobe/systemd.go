package systemdprobe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"

	"github.com/zextras/carbonio-health/checkscript"
)

// Probe is the systemd probe: its entry in the registry of every probe
// (allprobes.Registry).
var Probe = checkscript.Probe{
	Name:    "systemd",
	Label:   "SYSTEMD",
	Summary: "A systemd unit's ActiveState over D-Bus: active OK, activating/reloading WARNING, otherwise CRITICAL. A target is checked with every unit it Wants or Requires.",
	Define: func(fs *flag.FlagSet) func() (checkscript.Check, error) {
		return systemdFlags(fs, &systemdCheck{})
	},
}

// systemdFlags declares the flags of the systemd probe on fs, parsed into
// c, which holds the probe's inputs.
func systemdFlags(fs *flag.FlagSet, c *systemdCheck) func() (checkscript.Check, error) {
	var states, exclude []string
	checkscript.StringFlag(fs, &c.unit, "u", "unit", "", "unit name (required); without a type suffix .service is assumed; a .target is checked with every unit it Wants or Requires")
	checkscript.ListVar(fs, &states, "s", "state", "expected ActiveState(s), repeatable or comma-separated (default active)")
	checkscript.ListVar(fs, &exclude, "x", "exclude", "with a target: a unit it wants that is not checked (a feature this node does not have), repeatable or comma-separated")
	return func() (checkscript.Check, error) {
		return c.build(states, exclude)
	}
}

// unitActiveStates are the ActiveState values systemd defines.
var unitActiveStates = []string{"active", "reloading", "inactive", "failed", "activating", "deactivating", "maintenance", "refreshing"}

// unitTypes are the suffixes of unit names.
var unitTypes = []string{"service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"}

// systemdCheck compares a unit's ActiveState with the expected states; for a
// target, the ActiveState of every unit it pulls in.
type systemdCheck struct {
	unit     string
	expected []string
	exclude  []string
	// address is the D-Bus address; empty means the system bus.
	address string
	// calls bounds the runs given up on to one (checkscript.Blocking).
	calls checkscript.Calls
}

func (c *systemdCheck) build(states, exclude []string) (checkscript.Check, error) {
	unit, err := unitName(c.unit)
	if err != nil {
		return nil, fmt.Errorf("-u: %w", err)
	}
	c.unit = unit
	for _, st := range splitList(states) {
		if !slices.Contains(unitActiveStates, st) {
			return nil, fmt.Errorf("--state %q is not one of %s", st, strings.Join(unitActiveStates, ", "))
		}
		c.expected = append(c.expected, st)
	}
	if len(c.expected) == 0 {
		c.expected = []string{"active"}
	}
	for _, x := range splitList(exclude) {
		if !isTarget(c.unit) {
			return nil, fmt.Errorf("-x %s: only a target's units can be excluded, and %s is not a target", x, c.unit)
		}
		name, err := unitName(x)
		if err != nil {
			return nil, fmt.Errorf("-x: %w", err)
		}
		c.exclude = append(c.exclude, name)
	}
	return c, nil
}

// splitList splits repeated, comma-separated flag values.
func splitList(values []string) []string {
	var out []string
	for _, v := range values {
		for _, s := range strings.Split(v, ",") {
			out = append(out, strings.TrimSpace(s))
		}
	}
	return out
}

func isTarget(unit string) bool { return strings.HasSuffix(unit, ".target") }

// unitName validates a unit name and, as systemctl does, adds ".service"
// when it carries no unit type.
func unitName(s string) (string, error) {
	if s == "" {
		return "", errors.New("a unit name is required")
	}
	if len(s) > 255 {
		return "", fmt.Errorf("unit name longer than 255 characters")
	}
	for _, r := range s {
		if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || strings.ContainsRune(":-_.\\@", r)) {
			return "", fmt.Errorf("%q: invalid character %q in a unit name", s, r)
		}
	}
	if i := strings.LastIndexByte(s, '.'); i < 0 || !slices.Contains(unitTypes, s[i+1:]) {
		s += ".service"
	}
	if strings.HasPrefix(s, ".") || strings.HasPrefix(s, "@") {
		return "", fmt.Errorf("%q is not a unit name", s)
	}
	return s, nil
}

// Run asks systemd for the unit's state, and for a target's units' states,
// and evaluates them. It returns when ctx ends even if the bus never answers.
func (c *systemdCheck) Run(ctx context.Context) checkscript.Result {
	// The bus connection is bound to ctx and closes when blocking gives up.
	r, err := checkscript.Blocking(ctx, &c.calls, "systemd "+c.unit, func() (checkscript.Result, error) { return c.run(ctx), nil })
	if err != nil {
		return busFailure(c.unit, err)
	}
	return r
}

func (c *systemdCheck) run(ctx context.Context) checkscript.Result {
	bus, err := dialSystemd(ctx, c.address)
	if err != nil {
		return busFailure(c.unit, err)
	}
	defer bus.Close()
	st, err := bus.unit(ctx, c.unit)
	if err != nil || st.Load == "not-found" {
		return evaluateUnit(c.unit, st, err, c.expected)
	}
	follow := slices.Contains(c.expected, "active")
	switch {
	case isTarget(c.unit):
		names, excluded := targetUnits(st, c.exclude)
		if len(names) == 0 {
			return evaluateUnit(c.unit, st, nil, c.expected)
		}
		members, err := readMembers(ctx, bus, c.unit, names, follow)
		if err != nil {
			return busFailure(c.unit, err)
		}
		return evaluateTarget(c.unit, st, members, excluded, c.expected)
	case follow && isWrapper(c.unit, st):
		members, err := readMembers(ctx, bus, c.unit, wrapped(st), true)
		if err != nil {
			return busFailure(c.unit, err)
		}
		return evaluateWrapper(c.unit, st, members, c.expected)
	}
	return evaluateUnit(c.unit, st, nil, c.expected)
}

package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// systemdProbe is the systemd probe's entry in the registry (probes).
var systemdProbe = Probe{
	Name:    "systemd",
	Label:   "SYSTEMD",
	Summary: "A systemd unit's ActiveState over D-Bus: active OK, activating/reloading WARNING, otherwise CRITICAL.",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		return systemdFlags(fs, &systemdCheck{stater: dbusStater{}})
	},
}

// systemdFlags declares the flags of the systemd probe on fs, parsed into
// c, which holds the probe's inputs.
func systemdFlags(fs *flag.FlagSet, c *systemdCheck) func() (Check, error) {
	var states []string
	stringFlag(fs, &c.unit, "u", "unit", "", "unit name (required); without a type suffix .service is assumed")
	listVar(fs, &states, "s", "state", "expected ActiveState(s), repeatable or comma-separated (default active)")
	return func() (Check, error) {
		return c.build(states)
	}
}

// unitStater reads one unit's state from systemd. dbusStater is the real
// one; the tests use a fake because systemd cannot run in the sandbox the
// project is developed in (no PID 1 systemd, no system bus).
type unitStater interface {
	UnitState(ctx context.Context, name string) (unitState, error)
}

// unitState holds the three state properties of org.freedesktop.systemd1.Unit.
type unitState struct {
	Load, Active, Sub string
}

var (
	// errBusUnreachable wraps failures to connect to the system bus.
	errBusUnreachable = errors.New("cannot reach systemd over D-Bus")
	// errUnitNotFound reports a unit systemd does not know.
	errUnitNotFound = errors.New("unit not found")
)

// unitActiveStates are the ActiveState values systemd defines.
var unitActiveStates = []string{"active", "reloading", "inactive", "failed", "activating", "deactivating", "maintenance", "refreshing"}

// unitTypes are the suffixes of unit names.
var unitTypes = []string{"service", "socket", "device", "mount", "automount", "swap", "target", "path", "timer", "slice", "scope"}

// systemdCheck compares a unit's ActiveState with the expected states.
type systemdCheck struct {
	unit     string
	expected []string
	stater   unitStater
}

func (c *systemdCheck) build(states []string) (Check, error) {
	unit, err := unitName(c.unit)
	if err != nil {
		return nil, fmt.Errorf("-u: %w", err)
	}
	c.unit = unit
	for _, s := range states {
		for _, st := range strings.Split(s, ",") {
			st = strings.TrimSpace(st)
			if !slices.Contains(unitActiveStates, st) {
				return nil, fmt.Errorf("--state %q is not one of %s", st, strings.Join(unitActiveStates, ", "))
			}
			c.expected = append(c.expected, st)
		}
	}
	if len(c.expected) == 0 {
		c.expected = []string{"active"}
	}
	return c, nil
}

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

// Run asks systemd for the unit's state and evaluates it.
func (c *systemdCheck) Run(ctx context.Context) Result {
	st, err := c.stater.UnitState(ctx, c.unit)
	return evaluateUnit(c.unit, st, err, c.expected)
}

// evaluateUnit maps a unit's state to a result: an expected ActiveState is
// OK, a transition towards running (activating, reloading, refreshing) is
// WARNING, anything else and a unit systemd does not know are CRITICAL. Not
// being able to ask systemd at all is UNKNOWN.
func evaluateUnit(unit string, st unitState, err error, expected []string) Result {
	switch {
	case errors.Is(err, errUnitNotFound):
		return systemdResult(Critical, fmt.Sprintf("%s not found", unit))
	case errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled):
		return Unknownf("SYSTEMD", fmt.Sprintf("no answer from systemd over D-Bus about %s before the timeout", unit))
	case err != nil:
		return Unknownf("SYSTEMD", err.Error())
	case st.Load == "not-found":
		return systemdResult(Critical, fmt.Sprintf("%s not found", unit))
	case st.Active == "":
		return Unknownf("SYSTEMD", fmt.Sprintf("systemd reported no ActiveState for %s", unit))
	}
	summary := fmt.Sprintf("%s is %s", unit, st.Active)
	if st.Sub != "" {
		summary += " (" + st.Sub + ")"
	}
	if st.Load != "" && st.Load != "loaded" {
		summary += ", load state " + st.Load
	}
	switch {
	case slices.Contains(expected, st.Active):
		return systemdResult(OK, summary)
	case st.Active == "activating" || st.Active == "reloading" || st.Active == "refreshing":
		return systemdResult(Warning, summary)
	default:
		if len(expected) != 1 || expected[0] != "active" {
			summary += ", expected " + strings.Join(expected, " or ")
		}
		return systemdResult(Critical, summary)
	}
}

func systemdResult(s Status, summary string) Result {
	return Result{Label: "SYSTEMD", Status: s, Summary: summary}
}

// dbusStater asks systemd over the system bus, connecting afresh on every
// call (a check runs every few seconds at most; no connection outlives Run).
type dbusStater struct {
	// address is a D-Bus address such as "unix:path=/run/dbus/system_bus_socket";
	// empty means the system bus ($DBUS_SYSTEM_BUS_ADDRESS or its default).
	address string
}

// UnitState returns the unit's LoadState, ActiveState and SubState. It
// returns when ctx ends even if the bus never answers.
// The bus connection is bound to ctx and closes when blocking gives up.
func (d dbusStater) UnitState(ctx context.Context, name string) (unitState, error) {
	st, err := blocking(ctx, func() (unitState, error) { return d.query(ctx, name) })
	if err != nil && ctx.Err() != nil {
		return unitState{}, fmt.Errorf("asking systemd about %s: %w", name, err)
	}
	return st, err
}

func (d dbusStater) query(ctx context.Context, name string) (unitState, error) {
	conn, err := sdbus.NewConnection(func() (*godbus.Conn, error) { return d.dial(ctx) })
	if err != nil {
		if ctx.Err() != nil {
			return unitState{}, ctx.Err()
		}
		return unitState{}, fmt.Errorf("%w: %w", errBusUnreachable, err)
	}
	defer conn.Close()
	props, err := conn.GetUnitPropertiesContext(ctx, name)
	if err != nil {
		if n := dbusErrorName(err); n == "org.freedesktop.systemd1.NoSuchUnit" || n == "org.freedesktop.DBus.Error.UnknownObject" {
			return unitState{}, fmt.Errorf("%s: %w", name, errUnitNotFound)
		}
		if ctx.Err() != nil {
			return unitState{}, ctx.Err()
		}
		return unitState{}, fmt.Errorf("reading the properties of %s over D-Bus: %w", name, err)
	}
	str := func(k string) string { s, _ := props[k].(string); return s }
	return unitState{Load: str("LoadState"), Active: str("ActiveState"), Sub: str("SubState")}, nil
}

// dbusErrorName returns the D-Bus error name carried by err, if any.
func dbusErrorName(err error) string {
	var v godbus.Error
	if errors.As(err, &v) {
		return v.Name
	}
	var p *godbus.Error
	if errors.As(err, &p) && p != nil {
		return p.Name
	}
	return ""
}

// dial opens a private, authenticated bus connection bound to ctx.
func (d dbusStater) dial(ctx context.Context) (*godbus.Conn, error) {
	var conn *godbus.Conn
	var err error
	if d.address == "" {
		conn, err = godbus.SystemBusPrivate(godbus.WithContext(ctx))
	} else {
		conn, err = godbus.Dial(d.address, godbus.WithContext(ctx))
	}
	if err != nil {
		return nil, err
	}
	// EXTERNAL authentication with the numeric uid, as go-systemd does.
	if err := conn.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		conn.Close()
		return nil, fmt.Errorf("authenticating: %w", err)
	}
	if err := conn.Hello(); err != nil {
		conn.Close()
		return nil, fmt.Errorf("hello: %w", err)
	}
	return conn, nil
}

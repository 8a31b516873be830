package systemdprobe

import (
	"context"
	"errors"
	"fmt"
	"os"
	"strconv"

	sdbus "github.com/coreos/go-systemd/v22/dbus"
	godbus "github.com/godbus/dbus/v5"
)

// The D-Bus side of the systemd probe: one private connection to the bus
// systemd is on, and the org.freedesktop.systemd1.Unit properties of one
// unit at a time, read as `systemctl show` reads them (Properties.GetAll on
// the unit's object path, which makes systemd load a unit it has not loaded).

const (
	systemdBusName   = "org.freedesktop.systemd1"
	systemdUnitPath  = "/org/freedesktop/systemd1/unit/"
	systemdUnitIface = "org.freedesktop.systemd1.Unit"
)

var (
	// errBusUnreachable wraps failures to connect to the system bus.
	errBusUnreachable = errors.New("cannot reach systemd over D-Bus")
	// errBusLost reports a bus connection that closed while a check ran.
	errBusLost = errors.New("lost the D-Bus connection to systemd")
	// errUnitNotFound reports a unit systemd does not know.
	errUnitNotFound = errors.New("unit not found")
)

// unitState holds the properties of org.freedesktop.systemd1.Unit the probe
// reads: the three states, and for a target the units it pulls in.
type unitState struct {
	Load, Active, Sub string
	Wants, Requires   []string
}

// systemdBus is one authenticated connection to the bus systemd is on.
type systemdBus struct {
	conn *godbus.Conn
}

// dialSystemd connects to address, or to the system bus when address is
// empty ($DBUS_SYSTEM_BUS_ADDRESS, else /run/dbus/system_bus_socket). The
// connection is bound to ctx: it closes when ctx ends, so no call outlives
// the check.
func dialSystemd(ctx context.Context, address string) (*systemdBus, error) {
	var conn *godbus.Conn
	var err error
	if address == "" {
		conn, err = godbus.SystemBusPrivate(godbus.WithContext(ctx))
	} else {
		conn, err = godbus.Dial(address, godbus.WithContext(ctx))
	}
	if err == nil {
		// EXTERNAL authentication with the numeric uid, as go-systemd does.
		if err = conn.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
			err = fmt.Errorf("authenticating: %w", err)
		} else if err = conn.Hello(); err != nil {
			err = fmt.Errorf("hello: %w", err)
		}
		if err != nil {
			conn.Close()
		}
	}
	switch {
	case err == nil:
		return &systemdBus{conn: conn}, nil
	case ctx.Err() != nil:
		return nil, ctx.Err()
	default:
		return nil, fmt.Errorf("%w: %w", errBusUnreachable, err)
	}
}

// Close closes the connection.
func (b *systemdBus) Close() { b.conn.Close() }

// unit reads one unit's properties. A unit systemd does not know comes back
// with LoadState "not-found" (systemd's answer) or as errUnitNotFound (a
// NoSuchUnit error).
func (b *systemdBus) unit(ctx context.Context, name string) (unitState, error) {
	path := godbus.ObjectPath(systemdUnitPath + sdbus.PathBusEscape(name))
	var props map[string]godbus.Variant
	err := b.conn.Object(systemdBusName, path).
		CallWithContext(ctx, "org.freedesktop.DBus.Properties.GetAll", 0, systemdUnitIface).Store(&props)
	switch n := dbusErrorName(err); {
	case err == nil:
	case n == "org.freedesktop.systemd1.NoSuchUnit" || n == "org.freedesktop.DBus.Error.UnknownObject":
		return unitState{}, fmt.Errorf("%s: %w", name, errUnitNotFound)
	case n == "org.freedesktop.DBus.Error.ServiceUnknown" || n == "org.freedesktop.DBus.Error.NameHasNoOwner":
		return unitState{}, fmt.Errorf("%w: nobody owns %s on the bus (is systemd PID 1?)", errBusUnreachable, systemdBusName)
	case ctx.Err() != nil:
		return unitState{}, ctx.Err()
	case !b.conn.Connected():
		return unitState{}, fmt.Errorf("%w while reading %s: %w", errBusLost, name, err)
	default:
		return unitState{}, fmt.Errorf("reading the properties of %s over D-Bus: %w", name, err)
	}
	str := func(k string) string { s, _ := props[k].Value().(string); return s }
	list := func(k string) []string { l, _ := props[k].Value().([]string); return l }
	return unitState{
		Load: str("LoadState"), Active: str("ActiveState"), Sub: str("SubState"),
		Wants: list("Wants"), Requires: list("Requires"),
	}, nil
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

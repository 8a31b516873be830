package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	godbus "github.com/godbus/dbus/v5"
)

// fakeStater stands in for systemd, which cannot run in the development
// sandbox: it answers from a table keyed by unit name.
type fakeStater map[string]struct {
	st  unitState
	err error
}

func (f fakeStater) UnitState(_ context.Context, name string) (unitState, error) {
	a, ok := f[name]
	if !ok {
		return unitState{Load: "not-found", Active: "inactive", Sub: "dead"}, nil
	}
	return a.st, a.err
}

func TestSystemdStates(t *testing.T) {
	fake := fakeStater{
		"carbonio-postfix.service": {st: unitState{"loaded", "active", "running"}},
		"oneshot.service":          {st: unitState{"loaded", "active", "exited"}},
		"starting.service":         {st: unitState{"loaded", "activating", "start"}},
		"reload.service":           {st: unitState{"loaded", "reloading", "reload"}},
		"refresh.service":          {st: unitState{"loaded", "refreshing", "refresh"}},
		"stopped.service":          {st: unitState{"loaded", "inactive", "dead"}},
		"broken.service":           {st: unitState{"loaded", "failed", "failed"}},
		"stopping.service":         {st: unitState{"loaded", "deactivating", "stop-sigterm"}},
		"masked.service":           {st: unitState{"masked", "inactive", "dead"}},
		"bare.socket":              {st: unitState{Active: "active"}},
		"odd.service":              {st: unitState{Load: "loaded"}},
		"gone.service":             {err: fmt.Errorf("gone.service: %w", errUnitNotFound)},
		"nobus.service":            {err: fmt.Errorf("%w: dial unix /run/dbus/system_bus_socket: connect: no such file or directory", errBusUnreachable)},
		"slow.service":             {err: fmt.Errorf("asking systemd: %w", context.DeadlineExceeded)},
		"denied.service":           {err: errors.New("reading the properties of denied.service over D-Bus: Access denied")},
	}
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-u", "carbonio-postfix"}, "SYSTEMD OK - carbonio-postfix.service is active (running)"},
		{[]string{"-u", "carbonio-postfix.service", "--state", "active"}, "SYSTEMD OK - carbonio-postfix.service is active (running)"},
		{[]string{"-u", "oneshot"}, "SYSTEMD OK - oneshot.service is active (exited)"},
		{[]string{"-u", "starting"}, "SYSTEMD WARNING - starting.service is activating (start)"},
		{[]string{"-u", "reload"}, "SYSTEMD WARNING - reload.service is reloading (reload)"},
		{[]string{"-u", "refresh"}, "SYSTEMD WARNING - refresh.service is refreshing (refresh)"},
		{[]string{"-u", "stopped"}, "SYSTEMD CRITICAL - stopped.service is inactive (dead)"},
		{[]string{"-u", "broken"}, "SYSTEMD CRITICAL - broken.service is failed (failed)"},
		{[]string{"-u", "stopping"}, "SYSTEMD CRITICAL - stopping.service is deactivating (stop-sigterm)"},
		{[]string{"-u", "masked"}, "SYSTEMD CRITICAL - masked.service is inactive (dead), load state masked"},
		{[]string{"-u", "bare.socket"}, "SYSTEMD OK - bare.socket is active"},
		{[]string{"-u", "missing"}, "SYSTEMD CRITICAL - missing.service not found"},
		{[]string{"-u", "gone"}, "SYSTEMD CRITICAL - gone.service not found"},
		{[]string{"-u", "stopped", "--state", "inactive,failed"}, "SYSTEMD OK - stopped.service is inactive (dead)"},
		{[]string{"-u", "broken", "-s", "inactive", "-s", "failed"}, "SYSTEMD OK - broken.service is failed (failed)"},
		{[]string{"-u", "carbonio-postfix", "--state", "inactive"}, "SYSTEMD CRITICAL - carbonio-postfix.service is active (running), expected inactive"},
		{[]string{"-u", "nobus"}, "SYSTEMD UNKNOWN - cannot reach systemd over D-Bus: dial unix /run/dbus/system_bus_socket: connect: no such file or directory"},
		{[]string{"-u", "slow"}, "SYSTEMD UNKNOWN - no answer from systemd over D-Bus about slow.service before the timeout"},
		{[]string{"-u", "denied"}, "SYSTEMD UNKNOWN - reading the properties of denied.service over D-Bus: Access denied"},
		{[]string{"-u", "odd"}, "SYSTEMD UNKNOWN - systemd reported no ActiveState for odd.service"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			c := newWith(t, "systemd", tt.args, func(fs *flag.FlagSet) func() (Check, error) {
				return systemdFlags(fs, &systemdCheck{stater: fake})
			})
			if got := c.Run(context.Background()).String(); got != tt.want {
				t.Errorf("\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestUnitName(t *testing.T) {
	tests := []struct{ in, want string }{
		{"carbonio-postfix", "carbonio-postfix.service"},
		{"carbonio-postfix.service", "carbonio-postfix.service"},
		{"opt-zextras.mount", "opt-zextras.mount"},
		{"getty@tty1", "getty@tty1.service"},
		{"carbonio.target", "carbonio.target"},
		{"v1.2", "v1.2.service"},
		{"", ""},
		{"a b", ""},
		{"../etc/passwd", ""},
		{".service", ""},
		{strings.Repeat("x", 256), ""},
	}
	for _, tt := range tests {
		got, err := unitName(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("unitName(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestSystemdArguments(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{[]string{}, "a unit name is required"},
		{[]string{"-u", "x", "--state", "running"}, `"running" is not one of`},
		{[]string{"-u", "x", "--state", ""}, "is not one of"},
		{[]string{"-u", "x/y"}, "invalid character"},
	}
	for _, tt := range tests {
		_, err := New("systemd", tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
		}
	}
}

// TestSystemdNoBus runs the real D-Bus client on this machine, which has
// no system bus: the answer must be UNKNOWN with the reason, at once.
func TestSystemdNoBus(t *testing.T) {
	if os.Getenv("DBUS_SYSTEM_BUS_ADDRESS") != "" {
		t.Skip("DBUS_SYSTEM_BUS_ADDRESS is set")
	}
	for _, p := range []string{"/run/dbus/system_bus_socket", "/var/run/dbus/system_bus_socket"} {
		if _, err := os.Stat(p); err == nil {
			t.Skipf("%s exists: this machine has a system bus", p)
		}
	}
	c, err := New("systemd", []string{"-u", "carbonio-postfix", "-t", "2"})
	if err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	r := c.Run(context.Background())
	if r.Status != Unknown || !strings.Contains(r.Summary, "cannot reach systemd over D-Bus") || !strings.Contains(r.Summary, "system_bus_socket") {
		t.Fatalf("got %s", r)
	}
	if d := time.Since(start); d > time.Second {
		t.Errorf("took %s", d)
	}
	t.Log(r)
}

// TestSystemdBusMisbehaves points the real client at unix sockets that
// accept and then hang up, or accept and never speak.
func TestSystemdBusMisbehaves(t *testing.T) {
	tests := []struct {
		name   string
		handle func(net.Conn)
		want   string
	}{
		{"hangs up", hangUp, "cannot reach systemd over D-Bus"},
		{"never answers", func(net.Conn) { time.Sleep(time.Second) }, "before the timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bus")
			serveConns(t, listen(t, "unix", path), tt.handle)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			start := time.Now()
			st, err := dbusStater{address: "unix:path=" + path}.UnitState(ctx, "carbonio-postfix.service")
			r := evaluateUnit("carbonio-postfix.service", st, err, []string{"active"})
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %s with a 300ms deadline", d)
			}
			if r.Status != Unknown || !strings.Contains(r.Summary, tt.want) {
				t.Fatalf("got %s", r)
			}
		})
	}
}

func TestDBusErrorName(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{godbus.Error{Name: "org.freedesktop.systemd1.NoSuchUnit"}, "org.freedesktop.systemd1.NoSuchUnit"},
		{fmt.Errorf("wrapped: %w", godbus.Error{Name: "org.freedesktop.DBus.Error.AccessDenied"}), "org.freedesktop.DBus.Error.AccessDenied"},
		{godbus.NewError("org.freedesktop.DBus.Error.UnknownObject", nil), "org.freedesktop.DBus.Error.UnknownObject"},
		{errors.New("plain"), ""},
		{nil, ""},
	}
	for _, tt := range tests {
		if got := dbusErrorName(tt.err); got != tt.want {
			t.Errorf("dbusErrorName(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

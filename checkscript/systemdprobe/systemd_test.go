package systemdprobe

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	godbus "github.com/godbus/dbus/v5"
	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// probes holds the probe under test, as allprobes.Registry holds it.
var probes = checkscript.Registry{"systemd": Probe}

// The systemd probe is tested against a real D-Bus: a private dbus-daemon
// with a stand-in systemd in another process (systemd_standin_test.go). The
// probe finds the bus through $DBUS_SYSTEM_BUS_ADDRESS, as on a node.

// mtaUnits are the units carbonio-mta.target wants on a Carbonio MTA.
var mtaUnits = []string{
	"carbonio-configd.service", "carbonio-stats.service", "carbonio-postfix.service", "carbonio-opendkim.service",
	"carbonio-antivirus.service", "carbonio-freshclam.service", "carbonio-mailthreat.service",
	"carbonio-altermime-config.service", "carbonio-saslauthd.service", "carbonio-milter.service",
}

// standinUnits is the stand-in's view of a node for TestSystemdOverDBus.
func standinUnits() standinConfig {
	units := map[string]standinUnit{
		"carbonio-mta.target":      {Load: "loaded", Active: "active", Sub: "active", Wants: mtaUnits},
		"oneshot.service":          {Load: "loaded", Active: "active", Sub: "exited"},
		"starting.service":         {Load: "loaded", Active: "activating", Sub: "start"},
		"reload.service":           {Load: "loaded", Active: "reloading", Sub: "reload"},
		"refresh.service":          {Load: "loaded", Active: "refreshing", Sub: "refresh"},
		"stopped.service":          {Load: "loaded", Active: "inactive", Sub: "dead"},
		"broken.service":           {Load: "loaded", Active: "failed", Sub: "failed"},
		"stopping.service":         {Load: "loaded", Active: "deactivating", Sub: "stop-sigterm"},
		"masked.service":           {Load: "masked", Active: "inactive", Sub: "dead"},
		"bare.socket":              {Active: "active"},
		"odd.service":              {Load: "loaded"},
		"getty@tty1.service":       {Load: "loaded", Active: "active", Sub: "running"},
		"broken.target":            {Load: "loaded", Active: "active", Sub: "active", Wants: []string{"oneshot.service", "broken.service", "absent.service", "gone.service"}, Requires: []string{"starting.service", "broken.service"}},
		"starting.target":          {Load: "loaded", Active: "active", Sub: "active", Wants: []string{"oneshot.service", "starting.service"}},
		"stopped.target":           {Load: "loaded", Active: "inactive", Sub: "dead", Wants: []string{"oneshot.service", "getty@tty1.service"}},
		"empty.target":             {Load: "loaded", Active: "active", Sub: "active"},
		"emptystopped.target":      {Load: "loaded", Active: "inactive", Sub: "dead"},
		"requires.target":          {Load: "loaded", Active: "active", Sub: "active", Requires: []string{"broken.service"}},
		"denied-member.target":     {Load: "loaded", Active: "active", Sub: "active", Wants: []string{"oneshot.service", "denied.service"}},
		"carbonio-postfix.service": {Load: "loaded", Active: "active", Sub: "running"},
		// Wrappers (Debian's postfix.service, postgresql.service): active
		// (exited), wanting the instances that run.
		"wrapper.service":     {Load: "loaded", Active: "active", Sub: "exited", Wants: []string{"inner@-.service"}, Requires: []string{"sysinit.target"}},
		"inner@-.service":     {Load: "loaded", Active: "active", Sub: "running"},
		"deadwrap.service":    {Load: "loaded", Active: "active", Sub: "exited", Wants: []string{"dead@-.service"}},
		"dead@-.service":      {Load: "loaded", Active: "inactive", Sub: "dead"},
		"nested.service":      {Load: "loaded", Active: "active", Sub: "exited", Wants: []string{"wrapper.service", "deadwrap.service"}},
		"loop-a.service":      {Load: "loaded", Active: "active", Sub: "exited", Wants: []string{"loop-b.service"}},
		"loop-b.service":      {Load: "loaded", Active: "active", Sub: "exited", Wants: []string{"loop-a.service"}},
		"stoppedwrap.service": {Load: "loaded", Active: "inactive", Sub: "dead", Wants: []string{"inner@-.service"}},
		"wrapped.target":      {Load: "loaded", Active: "active", Sub: "active", Wants: []string{"wrapper.service", "deadwrap.service", "oneshot.service"}},
		"wrappedok.target":    {Load: "loaded", Active: "active", Sub: "active", Wants: []string{"wrapper.service", "oneshot.service"}},
	}
	for _, u := range mtaUnits {
		if _, set := units[u]; !set {
			units[u] = standinUnit{Load: "loaded", Active: "active", Sub: "running"}
		}
	}
	return standinConfig{Units: units, Errors: map[string]standinError{
		"gone.service":   {"org.freedesktop.systemd1.NoSuchUnit", "Unit gone.service not loaded."},
		"denied.service": {"org.freedesktop.DBus.Error.AccessDenied", "Access denied"},
	}}
}

// useBus points the probe at bus, as DBUS_SYSTEM_BUS_ADDRESS does on a node.
func useBus(t *testing.T, bus *privateBus) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", bus.Address)
}

// runSystemd runs `carbonio-health check systemd args…` and returns its
// exit code and output line.
func runSystemd(args ...string) (int, string) {
	var out bytes.Buffer
	code := probes.Main(context.Background(), append([]string{"systemd"}, args...), &out)
	return code, strings.TrimSuffix(out.String(), "\n")
}

func TestSystemdOverDBus(t *testing.T) {
	bus := startBus(t)
	startStandin(t, bus, standinUnits())
	useBus(t, bus)
	const allMTA = "active=10;;;0;10 starting=0;;;0;10 failed=0;;;0;10 total=10"
	tests := []struct {
		args []string
		want string
	}{
		// One unit.
		{[]string{"-u", "carbonio-postfix"}, "SYSTEMD OK - carbonio-postfix.service is active (running)"},
		{[]string{"-u", "carbonio-postfix.service", "--state", "active"}, "SYSTEMD OK - carbonio-postfix.service is active (running)"},
		{[]string{"-u", "oneshot"}, "SYSTEMD OK - oneshot.service is active (exited)"},
		{[]string{"-u", "getty@tty1"}, "SYSTEMD OK - getty@tty1.service is active (running)"},
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
		{[]string{"-u", "denied"}, "SYSTEMD UNKNOWN - reading the properties of denied.service over D-Bus: Access denied"},
		{[]string{"-u", "odd"}, "SYSTEMD UNKNOWN - systemd reported no ActiveState for odd.service"},
		// A target and the units it wants or requires.
		{[]string{"-u", "carbonio-mta.target"}, "SYSTEMD OK - carbonio-mta.target: 10 of 10 units active|" + allMTA},
		{[]string{"-u", "carbonio-mta.target", "-x", "carbonio-antivirus,carbonio-freshclam.service", "-x", "carbonio-opendkim.service"},
			"SYSTEMD OK - carbonio-mta.target: 7 of 7 units active (not checked: carbonio-antivirus.service, carbonio-freshclam.service, carbonio-opendkim.service)|active=7;;;0;7 starting=0;;;0;7 failed=0;;;0;7 total=7"},
		{[]string{"-u", "carbonio-mta.target", "-x", "not-wanted.service"}, "SYSTEMD OK - carbonio-mta.target: 10 of 10 units active|" + allMTA},
		{[]string{"-u", "broken.target"}, "SYSTEMD CRITICAL - broken.target: 3 of 5 units failed: absent.service not found, broken.service is failed (failed), gone.service not found; 1 of 5 units starting: starting.service is activating (start)|active=1;;;0;5 starting=1;;;0;5 failed=3;;;0;5 total=5"},
		{[]string{"-u", "starting.target"}, "SYSTEMD WARNING - starting.target: 1 of 2 units starting: starting.service is activating (start)|active=1;;;0;2 starting=1;;;0;2 failed=0;;;0;2 total=2"},
		{[]string{"-u", "stopped.target"}, "SYSTEMD WARNING - stopped.target: 2 of 2 units active; but the target itself is inactive|active=2;;;0;2 starting=0;;;0;2 failed=0;;;0;2 total=2"},
		{[]string{"-u", "requires.target"}, "SYSTEMD CRITICAL - requires.target: 1 of 1 units failed: broken.service is failed (failed)|active=0;;;0;1 starting=0;;;0;1 failed=1;;;0;1 total=1"},
		{[]string{"-u", "requires.target", "-x", "broken"}, "SYSTEMD OK - requires.target is active (active)"},
		{[]string{"-u", "empty.target"}, "SYSTEMD OK - empty.target is active (active)"},
		{[]string{"-u", "emptystopped.target"}, "SYSTEMD CRITICAL - emptystopped.target is inactive (dead)"},
		{[]string{"-u", "nosuch.target"}, "SYSTEMD CRITICAL - nosuch.target not found"},
		// Wrappers are judged by the units they run.
		{[]string{"-u", "wrapper"}, "SYSTEMD OK - wrapper.service is active (exited): inner@-.service is active (running)"},
		{[]string{"-u", "deadwrap"}, "SYSTEMD CRITICAL - deadwrap.service is active (exited), but dead@-.service is inactive (dead)"},
		{[]string{"-u", "deadwrap", "--state", "inactive"}, "SYSTEMD CRITICAL - deadwrap.service is active (exited), expected inactive"},
		{[]string{"-u", "nested"}, "SYSTEMD CRITICAL - nested.service is active (exited), but dead@-.service is inactive (dead) (under deadwrap.service)"},
		{[]string{"-u", "loop-a"}, "SYSTEMD OK - loop-a.service is active (exited): loop-b.service is active (exited)"},
		{[]string{"-u", "stoppedwrap"}, "SYSTEMD CRITICAL - stoppedwrap.service is inactive (dead)"},
		{[]string{"-u", "wrapped.target"}, "SYSTEMD CRITICAL - wrapped.target: 1 of 3 units failed: dead@-.service is inactive (dead) (under deadwrap.service)|active=2;;;0;3 starting=0;;;0;3 failed=1;;;0;3 total=3"},
		{[]string{"-u", "wrappedok.target"}, "SYSTEMD OK - wrappedok.target: 2 of 2 units active|active=2;;;0;2 starting=0;;;0;2 failed=0;;;0;2 total=2"},
		{[]string{"-u", "denied-member.target"}, "SYSTEMD UNKNOWN - reading the properties of denied.service over D-Bus: Access denied (denied-member.target: 0 of 2 units read)"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, got := runSystemd(tt.args...)
			if got != tt.want {
				t.Errorf("\ngot  %s\nwant %s", got, tt.want)
			}
			if want := strings.Fields(tt.want)[1]; checkscript.Status(code).String() != want {
				t.Errorf("exit %d, want %s", code, want)
			}
		})
	}
}

// TestSystemdTargetReportsExactlyItsUnits proves the probe checks the units
// the target wants or requires, no fewer and no more: every one of them has
// failed, units the target does not pull in have failed too, and the probe
// names exactly the target's and reads exactly those from systemd.
func TestSystemdTargetReportsExactlyItsUnits(t *testing.T) {
	wants := []string{"carbonio-configd.service", "carbonio-stats.service", "carbonio-nginx.service"}
	requires := []string{"carbonio-memcached.service", "carbonio-stats.service"}
	units := map[string]standinUnit{
		"carbonio-proxy.target": {Load: "loaded", Active: "active", Sub: "active", Wants: wants, Requires: requires},
		// Loaded, failed, and not pulled in by the target.
		"carbonio-postfix.service":   {Load: "loaded", Active: "failed", Sub: "failed"},
		"carbonio-appserver.target":  {Load: "loaded", Active: "failed", Sub: "failed", Wants: []string{"carbonio-appserver.service"}},
		"carbonio-appserver.service": {Load: "loaded", Active: "failed", Sub: "failed"},
	}
	for _, u := range append(wants, requires...) {
		units[u] = standinUnit{Load: "loaded", Active: "failed", Sub: "failed"}
	}
	bus := startBus(t)
	standin := startStandin(t, bus, standinConfig{Units: units})
	useBus(t, bus)

	_, got := runSystemd("-u", "carbonio-proxy.target")
	want := []string{"carbonio-configd.service", "carbonio-memcached.service", "carbonio-nginx.service", "carbonio-stats.service"}
	named := regexp.MustCompile(`[\w@.-]+\.service`).FindAllString(got, -1)
	if !slices.Equal(named, want) {
		t.Errorf("the probe named %v, the target pulls in %v:\n%s", named, want, got)
	}
	if !strings.Contains(got, "4 of 4 units failed") || !strings.HasSuffix(got, "total=4") {
		t.Errorf("counts: %s", got)
	}
	var read []string
	for len(read) < 1+len(want) {
		line := <-standin.lines
		if u, ok := strings.CutPrefix(line, "read "); ok {
			read = append(read, u)
		}
	}
	slices.Sort(read)
	if wantRead := append([]string{"carbonio-proxy.target"}, want...); !slices.Equal(read, slices.Sorted(slices.Values(wantRead))) {
		t.Errorf("the probe read %v from systemd, want %v", read, wantRead)
	}
	select {
	case line := <-standin.lines:
		t.Errorf("the probe read more: %s", line)
	default:
	}
}

// TestSystemdBusVanishes kills the bus while the probe waits for a unit's
// state: the answer is UNKNOWN at once, saying the connection was lost and
// where, not a timeout.
func TestSystemdBusVanishes(t *testing.T) {
	bus := startBus(t)
	standin := startStandin(t, bus, standinConfig{
		Units: map[string]standinUnit{
			"carbonio-mta.target":      {Load: "loaded", Active: "active", Sub: "active", Wants: []string{"carbonio-configd.service", "carbonio-postfix.service"}},
			"carbonio-configd.service": {Load: "loaded", Active: "active", Sub: "running"},
		},
		Stall: "carbonio-postfix.service",
	})
	useBus(t, bus)
	done := make(chan string, 1)
	go func() {
		_, out := runSystemd("-u", "carbonio-mta.target", "-t", "60")
		done <- out
	}()
	for line := range standin.lines {
		if line == "stalled carbonio-postfix.service" {
			break
		}
	}
	bus.Kill()
	got := <-done
	want := "SYSTEMD UNKNOWN - lost the D-Bus connection to systemd while reading carbonio-postfix.service: "
	if !strings.HasPrefix(got, want) || !strings.HasSuffix(got, "(carbonio-mta.target: 1 of 2 units read)") {
		t.Errorf("\ngot  %s\nwant %s… (carbonio-mta.target: 1 of 2 units read)", got, want)
	}
	t.Log(got)

	// With the bus gone, the next run cannot connect.
	if _, got := runSystemd("-u", "carbonio-mta.target"); !strings.HasPrefix(got, "SYSTEMD UNKNOWN - cannot reach systemd over D-Bus: ") {
		t.Errorf("after the bus died: %s", got)
	}
}

// TestSystemdNotOnBus asks a bus nobody serves systemd on.
func TestSystemdNotOnBus(t *testing.T) {
	bus := startBus(t)
	useBus(t, bus)
	want := "SYSTEMD UNKNOWN - cannot reach systemd over D-Bus: nobody owns org.freedesktop.systemd1 on the bus (is systemd PID 1?)"
	if code, got := runSystemd("-u", "carbonio-mta.target"); got != want || code != int(checkscript.Unknown) {
		t.Errorf("\ngot  %d %s\nwant %s", code, got, want)
	}
}

// TestSystemdNoBus points DBUS_SYSTEM_BUS_ADDRESS at a socket that does not
// exist: UNKNOWN with the reason.
func TestSystemdNoBus(t *testing.T) {
	path := filepath.Join(t.TempDir(), "system_bus_socket")
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+path)
	_, got := runSystemd("-u", "carbonio-postfix")
	want := "SYSTEMD UNKNOWN - cannot reach systemd over D-Bus: dial unix " + path + ": connect: no such file or directory"
	if got != want {
		t.Errorf("\ngot  %s\nwant %s", got, want)
	}
}

// TestSystemdBusMisbehaves points the real client at unix sockets that
// accept and then hang up, or accept and never speak.
func TestSystemdBusMisbehaves(t *testing.T) {
	tests := []struct {
		name   string
		handle func(net.Conn)
		want   string
	}{
		{"hangs up", func(c net.Conn) { c.Close() }, "cannot reach systemd over D-Bus"},
		{"never answers", func(c net.Conn) { t.Cleanup(func() { c.Close() }) }, "before the timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "bus")
			consultest.ListenFunc(t, "unix", path, tt.handle)
			ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
			defer cancel()
			c := &systemdCheck{unit: "carbonio-postfix.service", expected: []string{"active"}, address: "unix:path=" + path}
			if r := c.Run(ctx); r.Status != checkscript.Unknown || !strings.Contains(r.Summary, tt.want) {
				t.Fatalf("got %s", r)
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
		{[]string{"-u", "x", "-x", "y"}, "only a target's units can be excluded"},
		{[]string{"-u", "x.target", "-x", "a b"}, "invalid character"},
	}
	for _, tt := range tests {
		_, err := probes.New("systemd", tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
		}
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

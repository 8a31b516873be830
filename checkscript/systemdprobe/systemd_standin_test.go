package systemdprobe

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	godbus "github.com/godbus/dbus/v5"
)

// A stand-in for systemd's D-Bus API, run in its own process (this test
// binary re-executed) on a private bus, so the probe goes through the same
// client, bus daemon and wire protocol as on a node. It exports what systemd
// does for the calls the probe and systemctl make:
//   - org.freedesktop.systemd1.Manager at /org/freedesktop/systemd1:
//     GetUnit (NoSuchUnit for a unit not loaded) and LoadUnit;
//   - org.freedesktop.DBus.Properties Get and GetAll at
//     /org/freedesktop/systemd1/unit/<escaped name> for
//     org.freedesktop.systemd1.Unit: LoadState, ActiveState, SubState, Wants,
//     Requires. As in systemd, asking for a unit that is not loaded loads it:
//     an unknown name answers LoadState "not-found".

// standinEnv carries the stand-in's configuration (JSON) to the child.
const standinEnv = "CARBONIO_HEALTH_TEST_SYSTEMD_STANDIN"

// standinConfig is what the stand-in systemd knows.
type standinConfig struct {
	// Address is the bus to connect to.
	Address string
	// Units are the loaded units.
	Units map[string]standinUnit
	// Errors are units whose properties answer a D-Bus error instead, such
	// as org.freedesktop.systemd1.NoSuchUnit.
	Errors map[string]standinError
	// Stall names a unit whose GetAll never answers; the stand-in prints
	// "stalled <name>" when asked for it.
	Stall string
}

// standinError is a D-Bus error reply.
type standinError struct{ Name, Message string }

// standinUnit is one unit's properties.
type standinUnit struct {
	Load, Active, Sub string
	Wants, Requires   []string
}

// TestSystemdStandIn is the child process: it does nothing in a normal run.
func TestSystemdStandIn(t *testing.T) {
	raw := os.Getenv(standinEnv)
	if raw == "" {
		return
	}
	var cfg standinConfig
	if err := json.Unmarshal([]byte(raw), &cfg); err != nil {
		fmt.Fprintln(os.Stderr, "stand-in config:", err)
		os.Exit(2)
	}
	if err := runStandin(cfg, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "stand-in systemd:", err)
		os.Exit(1)
	}
	// Serve until the parent closes stdin (or dies).
	_, _ = io.Copy(io.Discard, os.Stdin)
	os.Exit(0)
}

// runStandin connects, takes systemd's name and exports its objects, then
// prints "ready".
func runStandin(cfg standinConfig, out io.Writer) error {
	conn, err := godbus.Dial(cfg.Address)
	if err != nil {
		return err
	}
	if err := conn.Auth([]godbus.Auth{godbus.AuthExternal(strconv.Itoa(os.Getuid()))}); err != nil {
		return err
	}
	if err := conn.Hello(); err != nil {
		return err
	}
	s := &standin{cfg: cfg, out: out}
	if err := conn.Export(standinManager{s}, "/org/freedesktop/systemd1", "org.freedesktop.systemd1.Manager"); err != nil {
		return err
	}
	if err := conn.ExportSubtree(standinProperties{s}, "/org/freedesktop/systemd1/unit", "org.freedesktop.DBus.Properties"); err != nil {
		return err
	}
	reply, err := conn.RequestName(systemdBusName, godbus.NameFlagDoNotQueue)
	if err != nil {
		return err
	}
	if reply != godbus.RequestNameReplyPrimaryOwner {
		return fmt.Errorf("%s is already owned (reply %d)", systemdBusName, reply)
	}
	_, err = fmt.Fprintln(out, "ready")
	return err
}

type standin struct {
	cfg standinConfig
	out io.Writer
}

// standinManager is org.freedesktop.systemd1.Manager.
type standinManager struct{ s *standin }

// GetUnit returns a loaded unit's object path, as systemd does.
func (m standinManager) GetUnit(name string) (godbus.ObjectPath, *godbus.Error) {
	if _, ok := m.s.cfg.Units[name]; !ok {
		return "", godbus.NewError("org.freedesktop.systemd1.NoSuchUnit", []any{"Unit " + name + " not loaded."})
	}
	return standinPath(name), nil
}

// LoadUnit returns any unit's object path, loading it (not-found) if needed.
func (m standinManager) LoadUnit(name string) (godbus.ObjectPath, *godbus.Error) {
	return standinPath(name), nil
}

// standinProperties is org.freedesktop.DBus.Properties on every unit path.
type standinProperties struct{ s *standin }

// GetAll answers a unit's properties.
func (p standinProperties) GetAll(msg godbus.Message, iface string) (map[string]godbus.Variant, *godbus.Error) {
	return p.s.properties(msg, iface)
}

// Get answers one property of a unit.
func (p standinProperties) Get(msg godbus.Message, iface, name string) (godbus.Variant, *godbus.Error) {
	all, err := p.s.properties(msg, iface)
	if err != nil {
		return godbus.Variant{}, err
	}
	v, ok := all[name]
	if !ok {
		return godbus.Variant{}, godbus.NewError("org.freedesktop.DBus.Error.UnknownProperty", []any{"Unknown property " + name})
	}
	return v, nil
}

func (s *standin) properties(msg godbus.Message, iface string) (map[string]godbus.Variant, *godbus.Error) {
	path, _ := msg.Headers[godbus.FieldPath].Value().(godbus.ObjectPath)
	name, ok := standinUnescape(strings.TrimPrefix(string(path), systemdUnitPath))
	if !ok || !strings.HasPrefix(string(path), systemdUnitPath) {
		return nil, godbus.NewError("org.freedesktop.DBus.Error.UnknownObject", []any{"Unknown object " + string(path)})
	}
	if iface != systemdUnitIface {
		return nil, godbus.NewError("org.freedesktop.DBus.Error.UnknownInterface", []any{"Unknown interface " + iface})
	}
	fmt.Fprintln(s.out, "read", name)
	switch {
	case name == s.cfg.Stall:
		fmt.Fprintln(s.out, "stalled", name)
		select {} // never answer: the bus is killed under the waiting probe
	}
	if e, ok := s.cfg.Errors[name]; ok {
		return nil, godbus.NewError(e.Name, []any{e.Message})
	}
	u, ok := s.cfg.Units[name]
	if !ok {
		u = standinUnit{Load: "not-found", Active: "inactive", Sub: "dead"}
	}
	return map[string]godbus.Variant{
		"Id":          godbus.MakeVariant(name),
		"LoadState":   godbus.MakeVariant(u.Load),
		"ActiveState": godbus.MakeVariant(u.Active),
		"SubState":    godbus.MakeVariant(u.Sub),
		"Wants":       godbus.MakeVariant(append([]string{}, u.Wants...)),
		"Requires":    godbus.MakeVariant(append([]string{}, u.Requires...)),
	}, nil
}

// standinPath is systemd's object path of a unit.
func standinPath(name string) godbus.ObjectPath {
	var b strings.Builder
	b.WriteString(systemdUnitPath)
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' && i > 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "_%02x", c)
		}
	}
	return godbus.ObjectPath(b.String())
}

// standinUnescape reverses systemd's bus path escaping (_xx hex bytes).
func standinUnescape(s string) (string, bool) {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '_' {
			b.WriteByte(s[i])
			continue
		}
		if i+2 >= len(s) {
			return "", false
		}
		n, err := strconv.ParseUint(s[i+1:i+3], 16, 8)
		if err != nil {
			return "", false
		}
		b.WriteByte(byte(n))
		i += 2
	}
	return b.String(), true
}

// systemdStandin is the running child process, seen from the test.
type systemdStandin struct {
	lines chan string // what it prints: "read <unit>", "stalled <unit>"
	stdin io.WriteCloser
}

// startStandin runs the stand-in systemd on bus with the given units and
// waits until it owns org.freedesktop.systemd1.
func startStandin(t *testing.T, bus *privateBus, cfg standinConfig) *systemdStandin {
	t.Helper()
	cfg.Address = bus.Address
	raw, err := json.Marshal(cfg)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestSystemdStandIn$", "-test.count=1")
	cmd.Env = append(os.Environ(), standinEnv+"="+string(raw))
	cmd.Stderr = testWriter{t, "stand-in systemd: "}
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		stdin.Close()
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	s := &systemdStandin{lines: make(chan string, 1000), stdin: stdin}
	// A stand-in that never gets ready is killed, so the test fails
	// instead of hanging.
	guard := time.AfterFunc(time.Minute, func() { _ = cmd.Process.Kill() })
	defer guard.Stop()
	sc := bufio.NewScanner(stdout)
	ready := false
	for !ready && sc.Scan() {
		ready = sc.Text() == "ready"
	}
	if !ready {
		t.Fatalf("stand-in systemd did not start (see its stderr above): %v", sc.Err())
	}
	go func() {
		defer close(s.lines)
		for sc.Scan() {
			s.lines <- sc.Text()
		}
	}()
	return s
}

package systemdprobe

import (
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// A private D-Bus daemon for tests: Debian's dbus-daemon (package dbus,
// installed by `make dbus`) on a unix socket in the test's temp dir, with a
// policy that lets the test's user own any name, as the system bus lets
// systemd own org.freedesktop.systemd1.

// busConfig is the daemon's configuration; %s is the socket path.
const busConfig = `<!DOCTYPE busconfig PUBLIC "-//freedesktop//DTD D-Bus Bus Configuration 1.0//EN"
 "http://www.freedesktop.org/standards/dbus/1.0/busconfig.dtd">
<busconfig>
  <type>system</type>
  <listen>unix:path=%s</listen>
  <auth>EXTERNAL</auth>
  <policy context="default">
    <allow user="*"/>
    <allow own="*"/>
    <allow send_destination="*" eavesdrop="true"/>
    <allow eavesdrop="true"/>
  </policy>
</busconfig>
`

// privateBus is a running dbus-daemon.
type privateBus struct {
	Address string
	cmd     *exec.Cmd
}

// startBus starts a dbus-daemon for the test and stops it at cleanup. A
// missing dbus-daemon fails the test under CARBONIO_HEALTH_INTEGRATION=1.
func startBus(t *testing.T) *privateBus {
	t.Helper()
	bin, err := exec.LookPath("dbus-daemon")
	if err != nil {
		if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
			t.Fatalf("dbus-daemon missing (CARBONIO_HEALTH_INTEGRATION=1; install it with `make dbus`): %v", err)
		}
		t.Skipf("dbus-daemon missing (install Debian's dbus package, or `make dbus`): %v", err)
	}
	dir := t.TempDir()
	conf := filepath.Join(dir, "bus.conf")
	if err := os.WriteFile(conf, []byte(strings.Replace(busConfig, "%s", filepath.Join(dir, "bus"), 1)), 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "--config-file="+conf, "--nofork", "--nopidfile", "--print-address")
	cmd.Stderr = testWriter{t, "dbus-daemon: "}
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	b := &privateBus{cmd: cmd}
	t.Cleanup(b.Kill)
	line, err := bufio.NewReader(out).ReadString('\n')
	if err != nil {
		t.Fatalf("dbus-daemon printed no address: %v", err)
	}
	b.Address = strings.TrimSpace(line)
	return b
}

// Kill stops the daemon at once (SIGKILL): every client's connection drops.
func (b *privateBus) Kill() {
	if b.cmd.ProcessState == nil {
		_ = b.cmd.Process.Kill()
		_ = b.cmd.Wait()
	}
}

// testWriter logs a child's stderr into the test log.
type testWriter struct {
	t      *testing.T
	prefix string
}

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(w.prefix + strings.TrimRight(string(p), "\n"))
	return len(p), nil
}

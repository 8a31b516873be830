package main

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestMain lets the test binary stand in for carbonio-health: with
// CARBONIO_HEALTH_AS_BINARY=1 it runs the real main, so tests can exec the
// command exactly as a Consul script check or a Nagios agent does.
func TestMain(m *testing.M) {
	if os.Getenv("CARBONIO_HEALTH_AS_BINARY") == "1" {
		main()
		return
	}
	code := m.Run()
	stopSharedCluster()
	os.Exit(code)
}

// execBinary runs `carbonio-health args…` as a separate process.
func execBinary(t *testing.T, args ...string) (int, string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), "CARBONIO_HEALTH_AS_BINARY=1")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("exec: %v", err)
	}
	return cmd.ProcessState.ExitCode(), out.String()
}

// numbers masks measured values (times, bytes, loads) that differ between
// two runs a few milliseconds apart.
var numbers = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// TestCheckCommandMatchesInProcess runs every probe both ways, as the
// Consul script check (a process) and as the TTL runner does (in-process),
// and expects the same exit code and the same line but for measured numbers.
func TestCheckCommandMatchesInProcess(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "s.sock")
	consultest.Listen(t, "unix", sock)
	tl := consultest.Listen(t, "tcp", "")
	closed, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	closedPort := closed.Addr().(*net.TCPAddr).Port
	_ = closed.Close()
	_, port, _ := net.SplitHostPort(tl.Addr().String())

	cases := [][]string{
		{"socket", "-p", sock, "-C"},
		{"socket", "-p", filepath.Join(dir, "missing.sock")},
		{"disk", "--used-warning", "99.9%", "--used-critical", "100%", "-p", dir},
		{"disk", "-w", "10%", "-c", "5%", "-p", filepath.Join(dir, "nope")},
		{"tcp", "-H", "127.0.0.1", "-p", port},
		{"tcp", "-H", "127.0.0.1", "-p", strconv.Itoa(closedPort)},
		{"load", "-w", "1000", "-c", "2000"},
		{"load", "-r", "-w", "0", "-c", "0"},
		{"users", "-w", "1000", "-c", "2000"},
		{"dns", "-H", "carbonio.test", "-s", net.JoinHostPort("127.0.0.1", strconv.Itoa(closedPort)), "-t", "1"},
		{"systemd", "-u", "carbonio-postfix.service", "-t", "1"},
		{"ping", "-H", "127.0.0.1", "-p", "1", "-w", "100,20%", "-c", "500,60%"},
		{"disk", "-p", dir, "-w", "10%"},  // a path before any threshold, refused as check_disk does
		{"disk", "-w", "1%", "-r", "^/$"}, // a regexp: carbonio-health has them, carbonio-health-check not
	}
	for _, args := range cases {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			code, out := execBinary(t, append([]string{"check"}, args...)...)
			c, err := allprobes.Registry.New(args[0], args[1:])
			var line string
			want := int(checkscript.Unknown)
			if err == nil {
				r := c.Run(context.Background())
				line, want = r.String(), int(r.Status)
			}
			if code != want {
				t.Errorf("exit %d from the command, %d in-process\n%s", code, want, out)
			}
			got := strings.SplitN(out, "\n", 2)[0]
			if err != nil {
				if !strings.Contains(got, "UNKNOWN") {
					t.Errorf("bad arguments answered %q", got)
				}
				return
			}
			if numbers.ReplaceAllString(got, "N") != numbers.ReplaceAllString(line, "N") {
				t.Errorf("lines differ:\n command    %s\n in-process %s", got, line)
			}
		})
	}
}

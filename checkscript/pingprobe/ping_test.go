package pingprobe

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// probes holds the probe under test, as allprobes.Registry holds it.
var probes = checkscript.Registry{"ping": Probe}

func TestParsePingThreshold(t *testing.T) {
	tests := []struct {
		in      string
		want    pingThreshold
		wantErr bool
	}{
		{in: "", want: pingThreshold{0, -1}}, // is_intnonneg("") holds in C
		{in: "100,20%", want: pingThreshold{100, 20}},
		{in: "100.5:20%", want: pingThreshold{100.5, 20}},
		{in: "100,,20.5%", want: pingThreshold{100, 20}},
		{in: "250", want: pingThreshold{250, -1}},
		{in: "60%", want: pingThreshold{-1, 60}},
		{in: "0,0%", want: pingThreshold{0, 0}},
		{in: "100,120%", want: pingThreshold{100, 120}}, // check_ping takes it, and never alerts on loss
		{in: "-1,20%", want: pingThreshold{-1, 20}},
		{in: "100,20", wantErr: true},
		{in: "100.5", wantErr: true}, // an RTA alone is an integer
		{in: "abc,20%", wantErr: true},
		{in: "100,x%", wantErr: true},
		{in: "%", wantErr: true},
		{in: ",", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got := pingThreshold{-1, -1}
			err := parsePingThreshold(tt.in, &got)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if err == nil && got != tt.want {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestPingArguments(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string // empty: valid
	}{
		{args: []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%"}},
		{args: []string{"--hostname", "::1", "--warning", "100,20%", "--critical", "500,60%", "-p", "1", "-i", "200ms", "-6"}},
		{args: []string{"-H", "127.0.0.1", "-w", "100", "-w", "20%", "-c", "500,60%"}},
		{args: []string{"-w", "100,20%", "-c", "500,60%"}, wantErr: "must specify a server address"},
		{args: []string{"-H", "127.0.0.1", "-c", "500,60%"}, wantErr: "<wrta> was not set"},
		{args: []string{"-H", "127.0.0.1", "-w", "100", "-c", "500,60%"}, wantErr: "<wpl> was not set"},
		{args: []string{"-H", "127.0.0.1", "-w", "600,20%", "-c", "500,60%"}, wantErr: "<wrta> (600.000000) cannot be larger"},
		{args: []string{"-H", "127.0.0.1", "-w", "100,70%", "-c", "500,60%"}, wantErr: "<wpl> (70) cannot be larger"},
		{args: []string{"127.0.0.1", "20", "60", "100", "500"}},
		{args: []string{"127.0.0.1", "20", "60", "100", "500", "3"}},
		{args: []string{"-H", "127.0.0.1,::1", "-w", "100,20%", "-c", "500,60%", "-to", "3", "-n", "-v"}},
		{args: []string{"-w", "100,20%", "127.0.0.1", "60", "-c", "500"}},
		{args: []string{"127.0.0.1", "x", "60", "100", "500"}, wantErr: "<wpl> (x) must be an integer percentage"},
		{args: []string{"127.0.0.1", "20", "60", "-5", "500"}, wantErr: "invalid option -- '5'"}, // getopt's reading, as check_ping's
		{args: []string{"127.0.0.1", "20", "60", "--", "-5", "500"}, wantErr: "<wrta> (-5) must be a non-negative number"},
		{args: []string{"127.0.0.1", "20", "60", "100"}, wantErr: "<crta> was not set"},
		{args: []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-p", "x"}, wantErr: "<max_packets> (x) must be a non-negative number"},
		{args: []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-p", "0"}, wantErr: "between 1 and 10000"},
		{args: []string{}, wantErr: "Could not parse arguments"},
		{args: []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-i", "0"}, wantErr: "-i"},
		{args: []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-4", "-6"}, wantErr: "exclude each other"},
		{args: []string{"-H", "127.0.0.1", "-w", "100,20", "-c", "500,60%"}, wantErr: "100,20: Warning threshold must be integer or percentage!"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := probes.New("ping", tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestEvaluatePing(t *testing.T) {
	w, c := pingThreshold{100, 20}, pingThreshold{500, 60}
	tests := []struct {
		name       string
		st         pingStats
		warn, crit pingThreshold
		want       string
	}{
		{"all answered", pingStats{sent: 5, recv: 5, avg: 48 * time.Microsecond}, w, c,
			"PING OK - Packet loss = 0%, RTA = 0.05 ms|rta=0.048000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0;"},
		{"none answered", pingStats{sent: 5}, w, c,
			"PING CRITICAL - Packet loss = 100%| rta=U;100.000000;500.000000;; pl=100%;20;60;0;"},
		{"nothing sent", pingStats{}, w, c,
			"PING CRITICAL - Packet loss = 100%| rta=U;100.000000;500.000000;; pl=100%;20;60;0;"},
		{"loss at warning (>=)", pingStats{sent: 5, recv: 4, avg: time.Millisecond}, w, c,
			"PING WARNING - Packet loss = 20%, RTA = 1.00 ms|rta=1.000000ms;100.000000;500.000000;0.000000 pl=20%;20;60;0;"},
		{"loss truncated like ping", pingStats{sent: 3, recv: 2, avg: time.Millisecond}, pingThreshold{100, 40}, c,
			"PING OK - Packet loss = 33%, RTA = 1.00 ms|rta=1.000000ms;100.000000;500.000000;0.000000 pl=33%;40;60;0;"},
		{"loss at critical", pingStats{sent: 5, recv: 2, avg: time.Millisecond}, w, c,
			"PING CRITICAL - Packet loss = 60%, RTA = 1.00 ms|rta=1.000000ms;100.000000;500.000000;0.000000 pl=60%;20;60;0;"},
		{"rta at warning (>=)", pingStats{sent: 5, recv: 5, avg: 100 * time.Millisecond}, w, c,
			"PING WARNING - Packet loss = 0%, RTA = 100.00 ms|rta=100.000000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0;"},
		{"rta just below warning", pingStats{sent: 5, recv: 5, avg: 99999 * time.Microsecond}, w, c,
			"PING OK - Packet loss = 0%, RTA = 100.00 ms|rta=99.999000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0;"},
		{"rta critical", pingStats{sent: 5, recv: 5, avg: 750 * time.Millisecond}, w, c,
			"PING CRITICAL - Packet loss = 0%, RTA = 750.00 ms|rta=750.000000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0;"},
		{"duplicates warn", pingStats{sent: 5, recv: 5, dups: 2, avg: time.Millisecond}, w, c,
			"PING WARNING - DUPLICATES FOUND! Packet loss = 0%, RTA = 1.00 ms|rta=1.000000ms;100.000000;500.000000;0.000000 pl=0%;20;60;0;"},
		{"zero thresholds leave perfdata empty", pingStats{sent: 1, recv: 1, avg: time.Millisecond}, pingThreshold{0, 0}, pingThreshold{1000, 100},
			"PING WARNING - Packet loss = 0%, RTA = 1.00 ms|rta=1.000000ms;;1000.000000;0.000000 pl=0%;;100;0;"},
		{"more replies than requests", pingStats{sent: 1, recv: 2, avg: time.Millisecond}, w, c,
			"PING CRITICAL - Packet loss = 100%| rta=U;100.000000;500.000000;; pl=100%;20;60;0;"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := evaluatePing(tt.st, tt.warn, tt.crit).String(); got != tt.want {
				t.Errorf("\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestPingDeniedMessage(t *testing.T) {
	unpriv := &net.OpError{Op: "listen", Net: "udp4", Err: os.NewSyscallError("socket", syscall.EACCES)}
	raw := &net.OpError{Op: "listen", Net: "ip4:icmp", Err: os.NewSyscallError("socket", syscall.EPERM)}
	if !isPermissionError(unpriv) || !isPermissionError(raw) || isPermissionError(syscall.EAFNOSUPPORT) {
		t.Fatal("isPermissionError misclassifies")
	}
	got := pingDeniedMessage(unpriv, raw, 65534)
	for _, want := range []string{"Permission denied", "net.ipv4.ping_group_range", "group 65534", "Operation not permitted", "CAP_NET_RAW"} {
		if !strings.Contains(got, want) {
			t.Errorf("%q lacks %q", got, want)
		}
	}
}

// runPing builds the ping probe from flags and runs it.
func runPing(t *testing.T, ctx context.Context, args ...string) checkscript.Result {
	t.Helper()
	c, err := probes.New("ping", args)
	if err != nil {
		t.Fatal(err)
	}
	return c.Run(ctx)
}

// skipIfICMPDenied skips when this process may open no ICMP socket at all.
func skipIfICMPDenied(t *testing.T, r checkscript.Result) {
	t.Helper()
	if r.Status == checkscript.Unknown && strings.Contains(r.Summary, "CAP_NET_RAW") && os.Geteuid() != 0 {
		t.Skipf("no ICMP socket for this user: %s", r.Summary)
	}
}

func TestPingLoopback(t *testing.T) {
	hosts := []string{"127.0.0.1"}
	if ln, err := net.ListenPacket("udp6", "[::1]:0"); err == nil {
		ln.Close()
		hosts = append(hosts, "::1")
	}
	for _, host := range hosts {
		t.Run(host, func(t *testing.T) {
			r := runPing(t, context.Background(), "-H", host, "-w", "100,20%", "-c", "500,60%", "-p", "3", "-i", "20ms", "-t", "5")
			skipIfICMPDenied(t, r)
			if r.Status != checkscript.OK || !strings.HasPrefix(r.String(), "PING OK - Packet loss = 0%, RTA = ") {
				t.Fatalf("got %s", r)
			}
			if len(r.Perfdata) != 2 || r.Perfdata[0].Label != "rta" || r.Perfdata[0].NoValue || r.Perfdata[1].Value != 0 {
				t.Errorf("perfdata %+v", r.Perfdata)
			}
		})
	}
}

func TestPingHonoursDeadline(t *testing.T) {
	start := time.Now()
	// 1000 packets 50 ms apart would take 50 s; -t cuts the run to 600 ms.
	r := runPing(t, context.Background(), "-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-p", "1000", "-i", "50ms", "-t", "600ms")
	skipIfICMPDenied(t, r)
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %s, past the 600ms timeout", d)
	}
	if r.Status == checkscript.Unknown || len(r.Perfdata) != 2 {
		t.Fatalf("got %s", r)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	r = runPing(t, ctx, "-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%")
	if r.Status != checkscript.Critical {
		t.Fatalf("cancelled context: got %s", r)
	}
}

// TestPingUnprivileged runs this test binary as nobody, without
// capabilities: it must answer UNKNOWN naming both settings unless
// net.ipv4.ping_group_range admits nobody's group (then it must work).
func TestPingUnprivileged(t *testing.T) {
	if os.Getenv("CHECKSCRIPT_PING_CHILD") == "1" {
		c, err := probes.New("ping", []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-p", "1"})
		if err != nil {
			fmt.Println(err)
			os.Exit(3)
		}
		r := c.Run(context.Background())
		fmt.Println(r.String())
		os.Exit(int(r.Status))
	}
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to the nobody user")
	}
	exe := copyForNobody(t)
	const nobody = 65534
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, exe, "-test.run=^TestPingUnprivileged$")
	cmd.Env = append(os.Environ(), "CHECKSCRIPT_PING_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: nobody, Gid: nobody}}
	out, err := cmd.Output()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Skipf("cannot run the test binary as nobody: %v", err)
	}
	line := strings.TrimSpace(string(out))
	if strings.Contains(line, "permission denied") && strings.Contains(line, "fork/exec") {
		t.Skipf("test binary not executable by nobody: %s", line)
	}
	if pingGroupAllows(nobody) {
		if !strings.HasPrefix(line, "PING OK") {
			t.Fatalf("ping_group_range admits nobody, yet: %s", line)
		}
		return
	}
	if cmd.ProcessState.ExitCode() != int(checkscript.Unknown) || !strings.Contains(line, "net.ipv4.ping_group_range") || !strings.Contains(line, "CAP_NET_RAW") {
		t.Fatalf("exit %d: %s", cmd.ProcessState.ExitCode(), line)
	}
	t.Log(line)
}

// pingGroupAllows reports whether net.ipv4.ping_group_range includes gid.
func pingGroupAllows(gid int) bool {
	b, err := os.ReadFile("/proc/sys/net/ipv4/ping_group_range")
	if err != nil {
		return false
	}
	f := strings.Fields(string(b))
	if len(f) != 2 {
		return false
	}
	lo, err1 := strconv.Atoi(f[0])
	hi, err2 := strconv.Atoi(f[1])
	return err1 == nil && err2 == nil && lo <= gid && gid <= hi
}

// copyForNobody copies the test binary to a directory nobody may enter
// (go test builds it under a private 0700 directory).
func copyForNobody(t *testing.T) string {
	t.Helper()
	self, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(self)
	if err != nil {
		t.Fatal(err)
	}
	dir, err := os.MkdirTemp("", "checkscript-ping-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	exe := dir + "/checkscript.test"
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(exe, data, 0o755); err != nil {
		t.Fatal(err)
	}
	return exe
}

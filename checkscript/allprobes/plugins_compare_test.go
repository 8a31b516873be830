package allprobes

// Side by side with Debian's monitoring-plugins 2.3.3, in the plugin
// sandbox (plugintest): every flag and form of check_disk, check_load,
// check_users, check_tcp, check_ping and check_dns that their test suites
// exercise, and the others they document, run by the plugin and by our
// probe on the same node. Every case wants the same exit code, and as much
// of the output as is the same by nature: the whole line where nothing is
// measured, the line with its numbers masked where something is (times,
// load), the plugin's reason for a refused command line; and the same
// perfdata labels, units and thresholds (a graphing tool keys on them).

import (
	"net"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript/plugintest"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// How a case compares the two answers beyond their exit codes.
const (
	sameLine    = "line"     // the whole output line
	sameShape   = "shape"    // the line with every number masked
	sameSummary = "summary"  // the first line up to '|', numbers masked
	firstLine   = "first"    // the first line, numbers masked: check_tcp prints all the answer, over lines, ours its first line
	prefixed    = "prefixed" // the plugin prints no "LABEL STATE - "; ours does
	codeOnly    = "code"     // the plugin prints more than one line first
)

type compareCase struct {
	args   []string
	mode   string
	reason string // for a refused command line: the plugin's reason, in both outputs
}

func TestComparePlugins(t *testing.T) {
	env := plugintest.Sandbox(t)
	if env == nil {
		return
	}
	sock := filepath.Join(env.Dir, "tcp.sock")
	consultest.ListenFunc(t, "unix", sock, func(c net.Conn) {
		_, _ = c.Write([]byte("220 unix ready\r\n"))
		_ = c.Close()
	})
	mp1, mp2 := env.Mount1, env.Mount2
	nr := plugintest.Nonresponsive
	get := "GET / HTTP/1.0\\r\\n\\r\\n"
	tables := []struct {
		plugin, probe string
		cases         []compareCase
	}{
		{"check_disk", "disk", []compareCase{
			{args: []string{"-w", "10%", "-c", "5%", "-p", mp1, "-p", mp2}},
			{args: []string{"-w", "50%", "-c", "5%", "-p", mp1, "-w", "50%", "-c", "45%", "-p", mp2}},
			{args: []string{"-w", "80%", "-c", "5%", "-p", mp1, "-C", "-w", "50%", "-p", mp2}},
			{args: []string{"-w", "10%", "-p", mp1, "-w", "75%", "-p", mp1}},
			{args: []string{"-w", "@30:50%", "-c", "~:10%", "-p", mp1, "-p", mp2}},
			{args: []string{"-w", "1%", "-p", mp1 + "/sub"}},
			{args: []string{"-w", "1%", "-E", "-p", mp1 + "/sub"}},
			{args: []string{"-w", "1%", "-E", "-p", mp1}},
			{args: []string{"-e", "-w", "50%", "-p", mp1, "-p", mp2}},
			{args: []string{"-e", "-w", "1%", "-p", mp1}},
			{args: []string{"-q", "-w", "50%", "-p", mp1, "-p", mp2}},
			{args: []string{"-v", "-w", "50%", "-p", mp1, "-p", mp2}},
			{args: []string{"-w", "20", "-c", "10", "-p", mp1}},
			{args: []string{"-w", "80", "-c", "50", "-p", mp2}},
			{args: []string{"-k", "-w", "20000", "-c", "10000", "-p", mp1}},
			{args: []string{"-m", "-w", "20", "-p", mp1}},
			{args: []string{"-u", "GB", "-w", "1", "-p", mp1}},
			{args: []string{"--units=kB", "-w", "1", "-p", mp1}},
			{args: []string{"-u", "bytes", "-w", "50000000", "-c", "1", "-p", mp1}},
			{args: []string{"-u", "TB", "-w", "1", "-p", mp1}},
			{args: []string{"-W", "80%", "-K", "50%", "-p", mp1, "-p", mp2}},
			{args: []string{"--iwarning=95", "--icritical", "60", "-p", mp2}},
			{args: []string{"-P", "-w", "10%", "-W", "10%", "-p", mp1}},
			{args: []string{"-f", "-w", "10%", "-p", mp1}},
			{args: []string{"-M", "-w", "10%", "-p", mp1}},
			{args: []string{"-w", "35000", "-c", "1", "-g", "both", "-p", mp1, "-p", mp2}},
			{args: []string{"-w", "90%", "-g", "both", "-p", mp1, "-p", mp2, "-W", "1%", "-p", "/"}, mode: sameShape}, // / is written to by others
			{args: []string{"30", "50", mp1}},
			{args: []string{"29", "31", mp1}},
			{args: []string{"-w", "10%", "50", "100", mp2}},
			{args: []string{"-w", "10%", "-r", "mp[12]$"}},
			{args: []string{"-w", "10%", "-R", "MP[12]$"}},
			{args: []string{"-w", "10%", "--ereg-path=mp1$", "--eregi-partition", "MP2$"}},
			{args: []string{"-w", "10%", "-p", mp1, "-p", mp2, "-I", "MP2"}},
			{args: []string{"-w", "10%", "-p", mp1, "-p", mp2, "-i", "mp1$", "-i", "mp2$"}},
			{args: []string{"-w", "10%", "-A", "-i", "^/(proc|sys|dev|run|etc)", "-i", "^/$", "-I", "cgroup|pts|mqueue|shm"}},
			{args: []string{"-w", "10%", "-X", "tmpfs", "-p", mp1}},
			{args: []string{"-w", "10%", "-N", "ext4", "-p", mp1}},
			{args: []string{"-w", "10%", "-N", "tmpfs", "-r", "mp[12]$"}},
			{args: []string{"-w", "10%", "-x", mp1, "-p", mp1, "-p", mp2}},
			{args: []string{"-l", "-w", "10%", "-p", mp1}},
			{args: []string{"-L", "-w", "10%", "-p", mp2}},
			{args: []string{"-w", "10%", "-p", "/nonexistent"}},
			{args: []string{"-w", "10%", "-p", mp1, "-p", "/nonexistent"}},
			{args: []string{"-w", "10%", "-p", "/proc"}},
			{args: []string{"-w", "10%", "--partition", mp1, "--path", mp2}},
			{args: []string{"-w10%", "-c5%", "-p" + mp1}},
			{args: []string{"--warn=10%", "--crit", "5%", "--pa", mp1}},
			{args: []string{"-p", mp1, "-w", "10%"}, reason: "Must set a threshold value before using -p"},
			{args: []string{"-w", "10%", "-p", mp1, "-E"}, reason: "Must set -E before selecting paths"},
			{args: []string{"-w", "10%", "-p", mp1, "-g", "g", "-p", mp2}, reason: "Must set group value before selecting paths"},
			{args: []string{"-w", "10%", "-i", "x", "-p", mp1}, reason: "Paths need to be selected before using -i/-I"},
			{args: []string{"-r", "x"}, reason: "Must set a threshold value before using -r/-R"},
			{args: []string{"-w", "10%", "-r", "nomatchzzz"}, reason: "Regular expression did not match any path or disk - nomatchzzz"},
			{args: []string{"-w", "10%", "-r", "("}, reason: "Could not compile regular expression"},
			{args: []string{"-w", "10%", "-u", "XB", "-p", mp1}, reason: "unit type XB not known"},
			{args: []string{"-w", "20:10%", "-p", mp1}, reason: "Range format incorrect"},
			{args: []string{"-w", "10%", "-z"}, mode: codeOnly}, // getopt's "invalid option -- 'z'" goes to stderr
			{args: nil, reason: "Could not parse arguments"},
		}},
		{"check_load", "load", []compareCase{
			{args: []string{"-w", "100,100,100", "-c", "100,100,100"}, mode: sameShape},
			{args: []string{"-r", "-w", "100,100,100", "-c", "100,100,100"}, mode: sameShape},
			{args: []string{"-w", "100", "-c", "100,110"}, mode: sameShape},
			{args: []string{"-w", "90,95", "-c", "100,110,120"}, mode: sameShape},
			{args: []string{"-w", "0,0,0", "-c", "0,0,0"}, mode: sameShape},
			{args: []string{"-r", "-w", "0,0,0", "-c", "0,0,0"}, mode: sameShape},
			{args: []string{"-w", "0", "-c", "1000"}, mode: sameShape},
			{args: []string{"-c", "1000"}, mode: sameShape},
			{args: []string{"-rw1000", "-c1000"}, mode: sameShape},
			{args: []string{"--percpu", "--warning=1000", "--critical=2000"}, mode: sameShape},
			{args: []string{"-w", "1,,3", "-c", "1000"}, mode: sameShape},
			{args: []string{"-w", "a", "-c", "1"}, reason: "Warning threshold must be float or float triplet!"},
			{args: []string{"-w", "5,4", "-c", "3"}, reason: `Parameter inconsistency: 1-minute "warning load" is greater than "critical load"`},
			{args: []string{"-w", "1", "-c", "3,0"}, reason: `Parameter inconsistency: 5-minute "warning load" is greater than "critical load"`},
			{args: []string{"-w", "-1", "-c", "1"}, reason: "Warning threshold for 1-minute load average is not specified"},
			{args: []string{"-w", "1", "-c", "-1"}, reason: "Critical threshold for 1-minute load average is not specified"},
			{args: []string{"-x"}, mode: codeOnly},
			{args: nil, reason: "Could not parse arguments"},
		}},
		{"check_users", "users", []compareCase{
			{args: []string{"1000", "1000"}},
			{args: []string{"0", "0"}},
			{args: []string{"-w", "0:1000", "-c", "0:1000"}},
			{args: []string{"-w", "0:0", "-c", "0:0"}},
			{args: []string{"-w", "@1:1", "-c", "5"}},
			{args: []string{"-w", "5", "-c", "@1"}},
			{args: []string{"-w", "5", "-c", "10"}},
			{args: []string{"--warning=0", "--critical=10"}},
			{args: []string{"-w", "0", "10"}},
			{args: []string{"-w", "10:5", "-c", "20"}, reason: "Range format incorrect"},
			{args: []string{"-w", "-1", "-c", "5"}, reason: "Range format incorrect"}, // 0:-1
			{args: []string{"-w", "~:-1", "-c", "5"}, reason: "Warning threshold must be a positive integer"},
			{args: []string{"-w", "1", "-c", "~:-1"}, reason: "Critical threshold must be a positive integer"},
		}},
		{"check_tcp", "tcp", []compareCase{
			{args: []string{"localhost", "-p", "80"}, mode: sameShape},
			{args: []string{"localhost", "-p", "80", "-wt", "300", "-ct", "600"}, mode: sameShape},
			{args: []string{"-H", "localhost", "-p", "80", "-w", "300", "-c", "600", "-t", "5"}, mode: sameShape},
			{args: []string{"-p", "80"}, mode: sameShape},
			{args: []string{"-p", "80", "127.0.0.1"}, mode: sameShape},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "200 OK"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "nomatch", "-e", "HTTP/1.1"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "HTTP/1.1", "-e", "nomatch", "-A"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "nomatch"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "nomatch", "-M", "crit"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "nomatch", "-M", "ok"}, mode: firstLine},
			{args: []string{"localhost", "-p", "80", "-E", "-s", get, "-e", "ThisShouldntMatch", "-j"}, mode: sameShape},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "200", "-q", "x", "-m", "12"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "200", "-d", "1"}, mode: firstLine},
			{args: []string{"-H", "127.0.0.1", "-p", "80", "-E", "-s", get, "-e", "200", "-w", "0", "-c", "5"}, mode: firstLine},
			{args: []string{"-H", sock, "-e", "220"}, mode: sameShape},
			{args: []string{"localhost", "-p", "81"}, mode: prefixed},
			{args: []string{"-H", "localhost", "-p", "81", "-r", "warn"}, mode: prefixed},
			{args: []string{"-H", "localhost", "-p", "81", "-r", "ok"}, mode: prefixed},
			{args: []string{"-H", "127.0.0.1"}, mode: prefixed},
			{args: []string{nr, "-p", "80", "-wt", "0", "-ct", "0", "-to", "1"}, mode: prefixed},
			{args: []string{"nosuchhost", "-p", "80"}},
			{args: []string{"-S", "-H", "localhost", "-p", "443"}, mode: sameShape},
			{args: []string{"--ssl", "-H", "127.0.0.1", "-p", "443", "--sni", "localhost"}, mode: sameShape},
			{args: []string{"-S", "-D", "1", "-H", "localhost", "-p", "443"}, mode: codeOnly},
			{args: []string{"-S", "-D", "9000,1", "-H", "localhost", "-p", "443"}, mode: prefixed},
			{args: []string{"-D", "9000", "-H", "localhost", "-p", "443"}, mode: prefixed},
			{args: []string{"-S", "-D", "9000,8999", "-H", "localhost", "-p", "443"}, mode: prefixed},
			{args: []string{"-H", "localhost", "-p", "80", "-S", "-t", "2"}, mode: codeOnly},
			{args: []string{"-H", "h", "-p", "0"}, reason: "Port must be a positive integer"},
			{args: []string{"-H", "h", "-p", "80", "-r", "maybe"}, reason: "Refuse must be one of ok, warn, crit"},
			{args: []string{"-H", "h", "-p", "80", "-M", "x"}, reason: "Mismatch must be one of ok, warn, crit"},
			{args: []string{"-H", "h", "-p", "80", "-m", "0"}, reason: "Maxbytes must be a positive integer"},
			{args: []string{"-H", "h", "-p", "80", "-d", "x"}, reason: "Delay must be a positive integer"},
			{args: []string{"-H", "h", "-p", "80", "-D", "x"}, reason: "Invalid certificate expiration period"},
			{args: nil, reason: "No arguments found"},
		}},
		{"check_ping", "ping", []compareCase{
			{args: []string{"-H", "localhost", "-w", "10,100%", "-c", "10,100%", "-p", "1"}, mode: sameShape},
			{args: []string{"-H", "127.0.0.1", "-w", "100,20%", "-c", "500,60%", "-p", "2"}, mode: sameShape},
			{args: []string{"-H", "localhost", "-w", "0,0%", "-c", "10,100%", "-p", "1"}, mode: sameShape},
			{args: []string{"-H", "localhost", "-w", "0,0%", "-c", "0,0%", "-p", "1"}, mode: sameShape},
			{args: []string{"-H", "localhost", "-w", "100", "-w", "20%", "-c", "500:60%", "-p", "1", "-4"}, mode: sameShape},
			{args: []string{"localhost", "100", "100", "1000", "1000", "-p", "1"}, mode: sameShape},
			{args: []string{"localhost", "20", "60", "100", "500", "1"}, mode: sameShape},
			{args: []string{"-w", "100,20%", "localhost", "60", "-c", "500", "-p", "1"}, mode: sameShape},
			{args: []string{"-H", nr, "-w", "10,100%", "-c", "10,100%", "-p", "1", "-t", "1"}},
			{args: []string{nr, "-p", "1", "-t", "2", "100", "100", "1000", "10000"}},
			{args: []string{"-w", "100,10%", "-c", "200,20%"}, reason: "You must specify a server address or host name"},
			{args: []string{"nosuchhost", "0", "0", "0", "0", "-p", "1"}, reason: "Invalid hostname/address - nosuchhost"},
			{args: []string{"-H", "localhost", "-w", "100.5", "-c", "200,20%"}, reason: "Warning threshold must be integer or percentage!"},
			{args: []string{"-H", "localhost", "-c", "500,60%"}, reason: "<wrta> was not set"},
			{args: []string{"-H", "localhost", "-w", "100", "-c", "500,60%"}, reason: "<wpl> was not set"},
			{args: []string{"-H", "localhost", "-w", "600,20%", "-c", "500,60%"}, reason: "<wrta> (600.000000) cannot be larger than <crta> (500.000000)"},
			{args: []string{"-H", "localhost", "-w", "100,70%", "-c", "500,60%"}, reason: "<wpl> (70) cannot be larger than <cpl> (60)"},
			{args: []string{"localhost", "x", "1", "1", "1"}, reason: "<wpl> (x) must be an integer percentage"},
			{args: []string{"-H", "localhost", "-p", "x"}, reason: "must be a non-negative number"}, // check_ping prints "(%s)"
			{args: nil, reason: "Could not parse arguments"},
		}},
		{"check_dns", "dns", []compareCase{
			{args: []string{"-H", plugintest.ValidName}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-s", "127.0.0.1", "-t", "5"}, mode: sameShape},
			{args: []string{plugintest.ValidName, "127.0.0.1"}, mode: sameShape},
			{args: []string{"-H", plugintest.PoolName}, mode: sameShape},
			{args: []string{"-H", plugintest.DualName}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidIP}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidIP, "-a", plugintest.ValidReverse}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-a", plugintest.ValidIP}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-a", "130.133.8.41/30"}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-a", "130.133.8.39/30"}},
			{args: []string{"-H", plugintest.PoolName, "-a", "192.0.2.10"}, mode: sameShape},
			{args: []string{"-H", plugintest.PoolName, "-a", "192.0.2.10", "-L"}},
			{args: []string{"-H", plugintest.PoolName, "-a", "192.0.2.11,192.0.2.10", "-L"}, mode: sameShape},
			{args: []string{"-H", plugintest.PoolName, "-a", "192.0.2.99", "-a", "192.0.2.98"}},
			{args: []string{"-H", plugintest.ValidName, "-w", "0", "-c", "5"}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-w", "0", "-c", "0"}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-c", "10"}, mode: sameShape},
			{args: []string{"-H", plugintest.ValidName, "-n"}},
			{args: []string{"-H", plugintest.InvalidName, "-n"}, mode: sameShape},
			{args: []string{"-H", "authoritative.example.test", "-A"}, mode: sameShape},
			{args: []string{"-H", "non-authoritative.example.test", "-A", "-s", "127.0.0.1"}},
			{args: []string{"-H", "non-authoritative.example.test", "-A"}},
			{args: []string{"-H", plugintest.InvalidName}, mode: prefixed},
			{args: []string{"-H", plugintest.EmptyName}, mode: prefixed},
			{args: []string{"-H", plugintest.ValidName, "-s", nr, "-t", "2"}, mode: codeOnly},
			{args: nil, reason: "Could not parse arguments"},
			{args: []string{"-v"}, reason: "missing --host argument"},
			{args: []string{"-H", "x.test", "-a", "192.0.2.1", "-n"}, reason: "--expected-address and --expect-nxdomain cannot be combined"},
			{args: []string{"-H", "x.test", "-w", "2:1"}, reason: "Range format incorrect"},
		}},
	}
	for _, table := range tables {
		t.Run(table.plugin, func(t *testing.T) {
			runReal := func(args ...string) plugintest.Run { return plugintest.Real(t, table.plugin, args...) }
			runOurs := func(args ...string) plugintest.Run { return plugintest.Ours(Registry, table.probe, args...) }
			if table.probe == "ping" { // thresholds of 10 ms on loopback: see quietPing
				runReal, runOurs = quietPing(runReal), quietPing(runOurs)
			}
			for _, c := range table.cases {
				real, ours := runReal(c.args...), runOurs(c.args...)
				compare(t, table.plugin+" "+strings.Join(c.args, " "), c, real, ours)
			}
		})
	}
}

// compare checks one case's two answers.
func compare(t *testing.T, name string, c compareCase, real, ours plugintest.Run) {
	t.Helper()
	if real.Code != ours.Code {
		t.Errorf("%s: exit codes differ:\n  Debian %d %s\n  ours   %d %s", name, real.Code, real.Output, ours.Code, ours.Output)
		return
	}
	if c.reason != "" {
		if !strings.Contains(real.Output, c.reason) || !strings.Contains(ours.Output, c.reason) {
			t.Errorf("%s: want %q in both:\n  Debian %s\n  ours   %s", name, c.reason, real.Output, ours.Output)
		}
		return
	}
	want, got := real.Line(), ours.Line()
	switch c.mode {
	case "", sameLine:
	case sameShape:
		want, got = plugintest.Shape(want), plugintest.Shape(got)
	case sameSummary:
		want, _, _ = strings.Cut(plugintest.Shape(want), "|")
		got, _, _ = strings.Cut(plugintest.Shape(got), "|")
	case firstLine:
		want, _, _ = strings.Cut(plugintest.Shape(want), "|")
		got, _, _ = strings.Cut(plugintest.Shape(got), "|")
		if !strings.HasSuffix(want, "]") {
			got = strings.TrimSuffix(got, "]")
		}
	case prefixed:
		label := strings.ToUpper(strings.TrimPrefix(strings.SplitN(name, " ", 2)[0], "check_"))
		if state := []string{"OK", "WARNING", "CRITICAL", "UNKNOWN"}[real.Code] + " - "; !strings.HasPrefix(want, state) {
			want = state + want
		}
		want = label + " " + want
	case codeOnly:
		t.Logf("%s: exit %d\n  Debian %s\n  ours   %s", name, real.Code, real.Output, ours.Output)
		return
	}
	if want != got {
		t.Errorf("%s (%s):\n  Debian %s\n  ours   %s", name, c.mode, real.Line(), ours.Line())
	}
	if c.mode == sameShape || c.mode == sameSummary || c.mode == firstLine {
		if rp, op := perfFields(real.PerfOutput()), perfFields(ours.PerfOutput()); rp != op {
			t.Errorf("%s: perfdata labels, units or thresholds differ:\n  Debian %s\n  ours   %s", name, real.PerfOutput(), ours.PerfOutput())
		}
	}
}

// perfFields is perfdata without its measured values: what a graphing tool
// keys on and draws as thresholds ("load1=[];1.000;2.000;0;").
func perfFields(perf string) string {
	var out []string
	for _, item := range strings.Fields(perf) {
		label, rest, _ := strings.Cut(item, "=")
		value, fields, _ := strings.Cut(rest, ";")
		unit := strings.TrimLeft(value, "0123456789.U-")
		out = append(out, label+"=["+unit+"];"+fields)
	}
	return strings.Join(out, " ")
}

package realnode

import (
	"bytes"
	"context"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// Our probes side by side with Debian's plugins (monitoring-plugins 2.3.3,
// this machine's) on the node's real daemons: both run from the host in the
// node's network namespace, unix sockets through /proc/<pid>/root. Same
// exit code in every case: running, stopped (TestDaemonsStopAndStart runs
// the cases of each daemon while it is stopped), a wrong expect string, TLS
// against a plain port.

// protoCase is one endpoint probed by a plugin and by us.
type protoCase struct {
	// name says what is compared; daemon is the unit serving it.
	name, daemon string
	// plugin is the plugin and its arguments; ours the arguments of
	// `carbonio-health check` (empty: what the node's agent says of
	// agentCheck, a Consul HTTP check, is compared instead).
	plugin, ours []string
	agentCheck   string
	// running is false for the failure cases that fail with the daemon up
	// (wrong expect, TLS against a plain port): they are not run stopped.
	running bool
	// wantCode is the plugin's expected exit code with the daemon up.
	wantCode int
}

const sock = "@clamd" // replaced by the clamd socket's path as the host sees it

// protoCases are the endpoints and failures compared: with every daemon
// running, with a wrong expect string, with TLS against a plain port.
var protoCases = []protoCase{
	// postfix: SMTP 25, submission 587 with STARTTLS, SMTPS 465.
	{"smtp 25", "postfix@-.service", []string{"check_smtp", "-H", "127.0.0.1", "-p", "25"}, []string{"tcp", "-H", "127.0.0.1", "-p", "25", "-e", "220", "-q", "QUIT"}, "", true, 0},
	{"smtp 25 wrong expect", "postfix@-.service", []string{"check_smtp", "-H", "127.0.0.1", "-p", "25", "-e", "XYZ"}, []string{"tcp", "-H", "127.0.0.1", "-p", "25", "-e", "XYZ", "-q", "QUIT"}, "", false, 1},
	{"submission 587 STARTTLS", "postfix@-.service", []string{"check_smtp", "-H", "127.0.0.1", "-p", "587", "-S"}, []string{"tcp", "-H", "127.0.0.1", "-p", "587", "--starttls", "smtp"}, "", true, 0},
	{"STARTTLS against the implicit TLS port 465", "postfix@-.service", []string{"check_smtp", "-H", "127.0.0.1", "-p", "465", "-S", "-t", "3"}, []string{"tcp", "-H", "127.0.0.1", "-p", "465", "--starttls", "smtp", "-t", "3"}, "", false, 2},
	{"smtps 465", "postfix@-.service", []string{"check_ssmtp", "-H", "127.0.0.1", "-p", "465"}, []string{"tcp", "-H", "127.0.0.1", "-p", "465", "-S", "-e", "220", "-q", "QUIT"}, "", true, 0},
	{"smtps against plain 25", "postfix@-.service", []string{"check_ssmtp", "-H", "127.0.0.1", "-p", "25"}, []string{"tcp", "-H", "127.0.0.1", "-p", "25", "-S", "-e", "220", "-q", "QUIT"}, "", false, 2},
	// dovecot: IMAP and POP3, plain and TLS, the proxy's and the mailbox's; LMTP.
	{"imap 143", "dovecot.service", []string{"check_imap", "-H", "127.0.0.1", "-p", "143"}, []string{"tcp", "-H", "127.0.0.1", "-p", "143", "-e", "* OK", "-q", "a1 LOGOUT"}, "", true, 0},
	{"imap 143 wrong expect", "dovecot.service", []string{"check_imap", "-H", "127.0.0.1", "-p", "143", "-e", "NOPE"}, []string{"tcp", "-H", "127.0.0.1", "-p", "143", "-e", "NOPE", "-q", "a1 LOGOUT"}, "", false, 1},
	{"imaps against plain 143", "dovecot.service", []string{"check_simap", "-H", "127.0.0.1", "-p", "143"}, []string{"tcp", "-H", "127.0.0.1", "-p", "143", "-S", "-e", "* OK", "-q", "a1 LOGOUT"}, "", false, 2},
	{"imaps 993", "dovecot.service", []string{"check_simap", "-H", "127.0.0.1", "-p", "993"}, []string{"tcp", "-H", "127.0.0.1", "-p", "993", "-S", "-e", "* OK", "-q", "a1 LOGOUT"}, "", true, 0},
	{"imap 7143", "dovecot.service", []string{"check_imap", "-H", "127.0.0.1", "-p", "7143"}, []string{"tcp", "-H", "127.0.0.1", "-p", "7143", "-e", "* OK", "-q", "a1 LOGOUT"}, "", true, 0},
	{"imaps 7993", "dovecot.service", []string{"check_simap", "-H", "127.0.0.1", "-p", "7993"}, []string{"tcp", "-H", "127.0.0.1", "-p", "7993", "-S", "-e", "* OK", "-q", "a1 LOGOUT"}, "", true, 0},
	{"pop3 110", "dovecot.service", []string{"check_pop", "-H", "127.0.0.1", "-p", "110"}, []string{"tcp", "-H", "127.0.0.1", "-p", "110", "-e", "+OK", "-q", "QUIT"}, "", true, 0},
	{"pop3 110 wrong expect", "dovecot.service", []string{"check_pop", "-H", "127.0.0.1", "-p", "110", "-e", "NOPE"}, []string{"tcp", "-H", "127.0.0.1", "-p", "110", "-e", "NOPE", "-q", "QUIT"}, "", false, 1},
	{"pop3s against plain 110", "dovecot.service", []string{"check_spop", "-H", "127.0.0.1", "-p", "110"}, []string{"tcp", "-H", "127.0.0.1", "-p", "110", "-S", "-e", "+OK", "-q", "QUIT"}, "", false, 2},
	{"pop3s 995", "dovecot.service", []string{"check_spop", "-H", "127.0.0.1", "-p", "995"}, []string{"tcp", "-H", "127.0.0.1", "-p", "995", "-S", "-e", "+OK", "-q", "QUIT"}, "", true, 0},
	{"pop3 7110", "dovecot.service", []string{"check_pop", "-H", "127.0.0.1", "-p", "7110"}, []string{"tcp", "-H", "127.0.0.1", "-p", "7110", "-e", "+OK", "-q", "QUIT"}, "", true, 0},
	{"pop3s 7995", "dovecot.service", []string{"check_spop", "-H", "127.0.0.1", "-p", "7995"}, []string{"tcp", "-H", "127.0.0.1", "-p", "7995", "-S", "-e", "+OK", "-q", "QUIT"}, "", true, 0},
	{"lmtp 7025", "dovecot.service", []string{"check_tcp", "-H", "127.0.0.1", "-p", "7025", "-e", "220"}, []string{"tcp", "-H", "127.0.0.1", "-p", "7025", "-e", "220"}, "", true, 0},
	{"lmtp 7025 wrong expect", "dovecot.service", []string{"check_tcp", "-H", "127.0.0.1", "-p", "7025", "-e", "250"}, []string{"tcp", "-H", "127.0.0.1", "-p", "7025", "-e", "250"}, "", false, 1},
	// nginx: the catalog checks 80 and 443 with TCP; check_http goes further.
	{"http 80", "nginx.service", []string{"check_http", "-H", "127.0.0.1", "-p", "80"}, []string{"tcp", "-H", "127.0.0.1", "-p", "80"}, "", true, 0},
	{"http 80 wrong expect", "nginx.service", []string{"check_http", "-H", "127.0.0.1", "-p", "80", "-e", "HTTP/1.1 500"}, []string{"tcp", "-H", "127.0.0.1", "-p", "80", "-E", "-s", `GET / HTTP/1.0\r\n\r\n`, "-e", "HTTP/1.1 500", "-M", "crit"}, "", false, 2},
	{"https 443", "nginx.service", []string{"check_http", "-H", "127.0.0.1", "-p", "443", "-S"}, []string{"tcp", "-H", "127.0.0.1", "-p", "443", "-S"}, "", true, 0},
	{"https against plain 80", "nginx.service", []string{"check_http", "-H", "127.0.0.1", "-p", "80", "-S"}, []string{"tcp", "-H", "127.0.0.1", "-p", "80", "-S"}, "", false, 2},
	// slapd.
	{"ldap 389", "carbonio-openldap.service", []string{"check_ldap", "-H", "127.0.0.1", "-p", "389", "-b", "dc=nodomain", "-3"}, []string{"tcp", "-H", "127.0.0.1", "-p", "389"}, "", true, 0},
	{"ldaps against plain 389", "carbonio-openldap.service", []string{"check_ldap", "-H", "127.0.0.1", "-p", "389", "-b", "dc=nodomain", "-3", "--ssl"}, []string{"tcp", "-H", "127.0.0.1", "-p", "389", "-S"}, "", false, 2},
	// clamd on its socket and on 3310.
	{"clamd socket", "clamav-daemon.service", []string{"check_clamd", "-H", sock}, []string{"tcp", "-H", sock, "-E", "-s", `PING\n`, "-e", "PONG"}, "", true, 0},
	{"clamd socket, presence (the catalog's check)", "clamav-daemon.service", []string{"check_clamd", "-H", sock}, []string{"socket", "-p", sock}, "", true, 0},
	{"clamd socket wrong expect", "clamav-daemon.service", []string{"check_clamd", "-H", sock, "-e", "NOPE"}, []string{"tcp", "-H", sock, "-E", "-s", `PING\n`, "-e", "NOPE"}, "", false, 1},
	{"clamd 3310", "clamav-daemon.service", []string{"check_clamd", "-H", "127.0.0.1", "-p", "3310"}, []string{"tcp", "-H", "127.0.0.1", "-p", "3310", "-E", "-s", `PING\n`, "-e", "PONG"}, "", true, 0},
	{"clamd TLS against plain 3310", "clamav-daemon.service", []string{"check_clamd", "-H", "127.0.0.1", "-p", "3310", "-S"}, []string{"tcp", "-H", "127.0.0.1", "-p", "3310", "-S", "-E", "-s", `PING\n`, "-e", "PONG"}, "", false, 2},
	// Patroni's REST API: the catalog's check is Consul's own HTTP check.
	{"patroni 8008 /health", "patroni.service", []string{"check_http", "-H", "127.0.0.1", "-p", "8008", "-u", "/health"}, nil, id("all", "patroni", "http"), true, 0},
}

// compare runs one case and fails on different exit codes; it returns both
// lines for the record.
func (f *fixture) compare(t *testing.T, c protoCase, wantCode int) {
	t.Helper()
	ctx := context.Background()
	plugin := append([]string(nil), c.plugin...)
	plugin[0] = filepath.Join(pluginDir(), plugin[0])
	pCode, pLine := f.inNet(ctx, f.socketPaths(plugin)...)
	var oCode int
	var oLine string
	if c.ours != nil {
		oCode, oLine = f.inNet(ctx, f.socketPaths(append([]string{daemonBinary(t), "check"}, c.ours...))...)
	} else {
		oCode, oLine = f.agentVerdict(ctx, c.agentCheck, pCode)
	}
	t.Logf("%s:\n  %s → %d %s\n  carbonio-health %s → %d %s", c.name, strings.Join(c.plugin, " "), pCode, pLine,
		strings.Join(c.ours, " "), oCode, oLine)
	if pCode != oCode {
		t.Errorf("%s: the plugin exits %d, ours %d", c.name, pCode, oCode)
	}
	if wantCode >= 0 && pCode != wantCode {
		t.Errorf("%s: the plugin exits %d, the case expects %d", c.name, pCode, wantCode)
	}
}

// agentVerdict is what the node's agent says of a check, as an exit code:
// it waits up to 15 s for the agent to agree with want (its interval).
func (f *fixture) agentVerdict(ctx context.Context, check string, want int) (int, string) {
	deadline := time.Now().Add(15 * time.Second)
	for {
		checks, err := f.agent().Agent().Checks()
		code, line := 3, "no answer from the agent"
		if err == nil && checks[check] != nil {
			line = "Consul HTTP check " + checks[check].Status + ": " + firstLine(checks[check].Output)
			switch checks[check].Status {
			case "passing":
				code = 0
			case "warning":
				code = 1
			case "critical":
				code = 2
			}
		}
		if code == want || time.Now().After(deadline) {
			return code, line
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// socketPaths replaces the clamd socket placeholder with its path as the
// host sees it.
func (f *fixture) socketPaths(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		out[i] = strings.ReplaceAll(a, sock, f.node.HostPath("/run/carbonio/clamd.socket"))
	}
	return out
}

// inNet runs a host command in the node's network namespace and returns
// its exit code and first line.
func (f *fixture) inNet(ctx context.Context, args ...string) (int, string) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(f.node.PID()), "-n", "--"}, args...)...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		code = -1
	}
	return code, firstLine(out.String())
}

// pluginDir is where Debian's plugins are (make plugins).
func pluginDir() string {
	if d := os.Getenv("CARBONIO_HEALTH_PLUGINS"); d != "" {
		return d
	}
	return "/usr/lib/nagios/plugins"
}

// daemonBinary is make build's carbonio-health, run from the host.
func daemonBinary(t *testing.T) string {
	t.Helper()
	p := env("CARBONIO_HEALTH_BIN", "bin/carbonio-health")
	if _, err := os.Stat(p); err != nil {
		consultest.Missing(t, "no carbonio-health binary (%v): run `make build`", err)
	}
	if _, err := os.Stat(filepath.Join(pluginDir(), "check_smtp")); err != nil {
		consultest.Missing(t, "no plugins in %s: run `make plugins`", pluginDir())
	}
	return p
}

// stoppedCases compares the cases of a stopped daemon: refused everywhere.
func (f *fixture) stoppedCases(t *testing.T, unit string) {
	t.Helper()
	for _, c := range protoCases {
		if c.daemon == unit && c.running {
			c.name += " (stopped)"
			f.compare(t, c, 2)
		}
	}
}

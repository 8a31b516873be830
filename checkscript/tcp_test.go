package checkscript

import (
	"bufio"
	"context"
	"crypto/tls"
	"flag"
	"io"
	"net"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript/plugintest"
)

// serveTCP runs handler for every connection to a fresh 127.0.0.1 listener
// and returns its port. wrap may wrap the listener (TLS).
func serveTCP(t *testing.T, wrap func(net.Listener) net.Listener, handler func(net.Conn)) int {
	t.Helper()
	ln := listen(t, "tcp", "127.0.0.1:0")
	port := ln.Addr().(*net.TCPAddr).Port
	if wrap != nil {
		ln = wrap(ln)
	}
	serveConns(t, ln, handler)
	return port
}

// bannerServer greets with banner, then echoes one line back as "echo:<line>"
// and records it in got (if not nil).
func bannerServer(banner string, got chan<- string) func(net.Conn) {
	return func(c net.Conn) {
		if banner != "" {
			_, _ = c.Write([]byte(banner))
		}
		line, err := bufio.NewReader(c).ReadString('\n')
		if got != nil {
			got <- line
		}
		if err == nil {
			_, _ = c.Write([]byte("echo:" + line))
		}
	}
}

// closedPort returns a loopback port nobody listens on.
func closedPort(t *testing.T) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	_ = ln.Close()
	return port
}

func runProbe(t *testing.T, ctx context.Context, name string, args ...string) Result {
	t.Helper()
	c, err := testProbes.New(name, args)
	if err != nil {
		t.Fatalf("New(%s, %q): %v", name, args, err)
	}
	return c.Run(ctx)
}

func TestTCPExchanges(t *testing.T) {
	smtp := serveTCP(t, nil, bannerServer("220 mail.example.test ESMTP ready\r\n", nil))
	imap := serveTCP(t, nil, bannerServer("* OK IMAP4rev1 ready\r\n", nil))
	pop := serveTCP(t, nil, bannerServer("+OK POP3 ready\r\n", nil))
	silentEcho := serveTCP(t, nil, bannerServer("", nil))
	closing := serveTCP(t, nil, func(c net.Conn) { _, _ = c.Write([]byte("220 short|lived\r\n")) })
	slow := serveTCP(t, nil, func(c net.Conn) {
		time.Sleep(300 * time.Millisecond)
		_, _ = c.Write([]byte("220 slow\r\n"))
	})
	refused := closedPort(t)
	p := strconv.Itoa

	tests := []struct {
		name   string
		args   []string
		want   Status
		prefix string // expected start of the output line
	}{
		{"connect only", []string{"-H", "127.0.0.1", "-p", p(smtp)}, OK, "TCP OK - "},
		{"smtp 220", []string{"-H", "127.0.0.1", "-p", p(smtp), "-e", "220"}, OK, "TCP OK - "},
		{"substring", []string{"-H", "127.0.0.1", "-p", p(smtp), "-e", "ESMTP"}, OK, "TCP OK - "},
		{"imap", []string{"-H", "127.0.0.1", "-p", p(imap), "-e", "* OK", "-q", "a1 LOGOUT"}, OK, "TCP OK - "},
		{"pop3", []string{"-H", "127.0.0.1", "-p", p(pop), "-e", "+OK", "-q", "QUIT"}, OK, "TCP OK - "},
		{"any of two", []string{"-H", "127.0.0.1", "-p", p(smtp), "-e", "250", "-e", "220"}, OK, "TCP OK - "},
		{"all of two", []string{"-H", "127.0.0.1", "-p", p(closing), "-e", "250", "-e", "220", "-A"}, Warning, "TCP WARNING - Unexpected response from host/socket: 220 short/lived"},
		{"send expect", []string{"-H", "127.0.0.1", "-p", p(silentEcho), "-E", "-s", `hello\r\n`, "-e", "echo:hello"}, OK, "TCP OK - "},
		{"host first", []string{"127.0.0.1", "-p", p(smtp), "-e", "220"}, OK, "TCP OK - 0.0"},
		{"jail", []string{"127.0.0.1", "-p", p(closing), "-e", "+OK", "-j"}, Warning, "TCP WARNING - Unexpected response from host/socket on port " + p(closing) + "|time="},
		{"no data", []string{"-H", "127.0.0.1", "-p", p(silentEcho), "-e", "x", "-t", "1"}, Critical, "TCP CRITICAL - Socket timeout after 1 seconds"},
		{"mismatch default warn", []string{"-H", "127.0.0.1", "-p", p(closing), "-e", "+OK"}, Warning, "TCP WARNING - Unexpected response from host/socket: 220 short/lived|time="},
		{"mismatch crit", []string{"-H", "127.0.0.1", "-p", p(closing), "-e", "+OK", "-M", "crit"}, Critical, "TCP CRITICAL - Unexpected response"},
		{"mismatch ok", []string{"-H", "127.0.0.1", "-p", p(closing), "-e", "+OK", "-M", "ok"}, OK, "TCP OK - Unexpected response"},
		{"refused", []string{"-H", "127.0.0.1", "-p", p(refused)}, Critical, "TCP CRITICAL - connect to address 127.0.0.1 and port " + p(refused) + ": Connection refused"},
		{"refused warn", []string{"-H", "127.0.0.1", "-p", p(refused), "-r", "warn"}, Warning, "TCP WARNING - connect to address"},
		{"refused ok", []string{"-H", "127.0.0.1", "-p", p(refused), "-r", "ok"}, OK, "TCP OK - connect to address"},
		{"slow warn", []string{"-H", "127.0.0.1", "-p", p(slow), "-e", "220", "-w", "0.1", "-c", "5"}, Warning, "TCP WARNING - 0."},
		{"slow crit", []string{"-H", "127.0.0.1", "-p", p(slow), "-e", "220", "-w", "0.05", "-c", "0.1"}, Critical, "TCP CRITICAL - 0."},
		{"slow within", []string{"-H", "127.0.0.1", "-p", p(slow), "-e", "220", "-w", "4", "-c", "5"}, OK, "TCP OK - 0."},
		{"bad host", []string{"-H", "no-such-host.invalid", "-p", "25"}, Critical, "TCP CRITICAL - Invalid hostname, address or socket: no-such-host.invalid"},
		{"tls to plain", []string{"-H", "127.0.0.1", "-p", p(closing), "-S"}, Critical, "TCP CRITICAL - Cannot make SSL connection: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			r := runProbe(t, context.Background(), "tcp", tt.args...)
			line := r.String()
			if r.Status != tt.want || !strings.HasPrefix(line, tt.prefix) {
				t.Errorf("got %q (%v), want %v with prefix %q", line, r.Status, tt.want, tt.prefix)
			}
			if strings.Count(line, "|") > 1 || strings.ContainsAny(line, "\r\n") {
				t.Errorf("output is not one clean plugin line: %q", line)
			}
			if r.Status == OK && strings.Contains(line, "response time") {
				if len(r.Perfdata) != 1 || r.Perfdata[0].Label != "time" || r.Perfdata[0].UOM != "s" || r.Perfdata[0].Max != "10.000000" {
					t.Errorf("perfdata = %+v", r.Perfdata)
				}
			}
		})
	}
}

func TestTCPSendsQuit(t *testing.T) {
	got := make(chan string, 1)
	port := serveTCP(t, nil, bannerServer("220 hi\r\n", got))
	r := runProbe(t, context.Background(), "tcp", "-H", "127.0.0.1", "-p", strconv.Itoa(port), "-e", "220", "-q", "QUIT")
	if r.Status != OK || !strings.HasSuffix(r.Summary, "port "+strconv.Itoa(port)+" [220 hi]") {
		t.Fatalf("got %q", r)
	}
	select {
	case line := <-got:
		if line != "QUIT\r\n" {
			t.Errorf("server received %q, want \"QUIT\\r\\n\"", line)
		}
	case <-time.After(3 * time.Second):
		t.Error("server never received the quit string")
	}
}

func TestTCPHonoursDeadline(t *testing.T) {
	silent := serveTCP(t, nil, func(c net.Conn) { _, _ = io.Copy(io.Discard, c) })
	port := strconv.Itoa(silent)
	tests := []struct {
		name string
		ctx  time.Duration // deadline of the caller's ctx, 0 for none
		args []string
		want string
	}{
		{"-t", 0, []string{"-t", "0.3"}, "TCP CRITICAL - Socket timeout after 0.3 seconds"},
		{"caller ctx", 300 * time.Millisecond, nil, "TCP CRITICAL - Socket timeout after 0.3 seconds"},
		{"tls handshake", 0, []string{"-t", "0.3", "-S"}, "TCP CRITICAL - Socket timeout after 0.3 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			if tt.ctx > 0 {
				var cancel context.CancelFunc
				ctx, cancel = context.WithTimeout(ctx, tt.ctx)
				defer cancel()
			}
			start := time.Now()
			r := runProbe(t, ctx, "tcp", append([]string{"-H", "127.0.0.1", "-p", port, "-e", "220"}, tt.args...)...)
			if got := r.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if d := time.Since(start); d > 2*time.Second {
				t.Errorf("took %v, deadline not honoured", d)
			}
		})
	}
}

func TestTCPMismatchIdle(t *testing.T) {
	// The peer greets wrongly and then stays connected: after readIdle
	// without a match, the answer is a mismatch, not a timeout.
	port := serveTCP(t, nil, func(c net.Conn) {
		_, _ = c.Write([]byte("220 wrong\r\n"))
		_, _ = io.Copy(io.Discard, c)
	})
	c := newWith(t, "tcp", []string{"-H", "127.0.0.1", "-p", strconv.Itoa(port), "-e", "* OK"}, func(fs *flag.FlagSet) func() (Check, error) {
		return tcpFlags(fs, &tcpCheck{readIdle: 100 * time.Millisecond})
	})
	r := c.Run(context.Background())
	if r.Status != Warning || r.Summary != "Unexpected response from host/socket: 220 wrong" {
		t.Errorf("got %q", r)
	}
}

func TestTCPTLS(t *testing.T) {
	// The certificate has 2.5 days left: check_tcp counts whole days (2).
	notAfter := time.Now().Add(60 * time.Hour)
	cfg, err := plugintest.SelfSignedTLS("mail.example.test", notAfter)
	if err != nil {
		t.Fatal(err)
	}
	var sniMu sync.Mutex
	var sni []string
	cfg.GetConfigForClient = func(h *tls.ClientHelloInfo) (*tls.Config, error) {
		sniMu.Lock()
		sni = append(sni, h.ServerName)
		sniMu.Unlock()
		return nil, nil
	}
	port := strconv.Itoa(serveTCP(t, func(l net.Listener) net.Listener { return tls.NewListener(l, cfg) },
		bannerServer("* OK IMAP4rev1 over TLS\r\n", nil)))
	stamp := notAfter.UTC().Format(certTimeLayout)
	tests := []struct {
		name string
		args []string
		want string // full line, or a prefix ending in " - " + time
	}{
		{"tls banner", []string{"-S", "-e", "* OK"}, "TCP OK - "},
		{"cert fine", []string{"-D", "1"}, "TCP OK - "},
		{"cert warn", []string{"-D", "5"}, "TCP WARNING - Certificate 'mail.example.test' expires in 2 day(s) (" + stamp + ")."},
		{"cert crit", []string{"-D", "5,2"}, "TCP CRITICAL - Certificate 'mail.example.test' expires in 2 day(s) (" + stamp + ")."},
		{"cert boundary", []string{"-D", "2,1"}, "TCP WARNING - Certificate"},
		{"sni", []string{"--sni", "localhost", "-e", "* OK"}, "TCP OK - "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			host := "127.0.0.1"
			if tt.name == "sni" {
				host = "localhost"
			}
			r := runProbe(t, context.Background(), "tcp", append([]string{"-H", host, "-p", port}, tt.args...)...)
			if got := r.String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got %q, want prefix %q", got, tt.want)
			}
		})
	}
	sniMu.Lock()
	defer sniMu.Unlock()
	if !strings.Contains(strings.Join(sni, ","), "localhost") {
		t.Errorf("SNI seen by the server: %q, want localhost with --sni", sni)
	}
	if sni[0] != "" {
		t.Errorf("SNI sent without --sni: %q", sni[0])
	}
}

func TestTCPPeerResets(t *testing.T) {
	// The peer closes with unread data pending, which makes the kernel send
	// RST: the probe reports the error instead of hanging or panicking.
	port := serveTCP(t, nil, func(c net.Conn) {
		_ = c.(*net.TCPConn).SetLinger(0)
	})
	r := runProbe(t, context.Background(), "tcp", "-H", "127.0.0.1", "-p", strconv.Itoa(port), "-e", "220", "-t", "2")
	t.Logf("reset: %s", r)
	if r.Status == OK || strings.Contains(r.Summary, "Socket timeout") {
		t.Errorf("got %q", r)
	}
}

package checkscript

import (
	"bufio"
	"context"
	"crypto/tls"
	"net"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript/plugintest"
)

// smtpServer speaks enough SMTP for STARTTLS: greeting, EHLO (advertising
// STARTTLS when offer), STARTTLS answered with starttlsCode, then TLS with
// cfg (or garbage when cfg is nil) and one more command.
func smtpServer(greeting string, offer bool, starttlsCode string, cfg *tls.Config) func(net.Conn) {
	return func(c net.Conn) {
		_, _ = c.Write([]byte(greeting))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil {
				return
			}
			switch cmd := strings.ToUpper(strings.TrimSpace(line)); {
			case strings.HasPrefix(cmd, "EHLO"):
				ext := "250-SIZE 10240000\r\n"
				if offer {
					ext += "250-STARTTLS\r\n"
				}
				_, _ = c.Write([]byte("250-mail.example.test\r\n" + ext + "250 8BITMIME\r\n"))
			case cmd == "STARTTLS":
				_, _ = c.Write([]byte(starttlsCode + " go ahead\r\n"))
				if starttlsCode != "220" {
					continue
				}
				if cfg == nil {
					_, _ = c.Write([]byte("this is no TLS\r\n"))
					return
				}
				tc := tls.Server(c, cfg)
				if tc.Handshake() != nil {
					return
				}
				line, _ := bufio.NewReader(tc).ReadString('\n')
				_, _ = tc.Write([]byte("250 after TLS: " + line))
				return
			case cmd == "QUIT":
				_, _ = c.Write([]byte("221 bye\r\n"))
				return
			default:
				_, _ = c.Write([]byte("502 unknown\r\n"))
			}
		}
	}
}

// TestTCPStartTLS: --starttls smtp answers as check_smtp -S does.
func TestTCPStartTLS(t *testing.T) {
	cfg, err := plugintest.SelfSignedTLS("mail.example.test", time.Now().Add(60*time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	greet := "220-mail.example.test ESMTP\r\n220 ready\r\n"
	tests := []struct {
		name   string
		server func(net.Conn)
		args   []string
		want   string
	}{
		{"upgraded", smtpServer(greet, true, "220", cfg), nil, "TCP OK - "},
		{"upgraded, expect inside TLS", smtpServer(greet, true, "220", cfg), []string{"-E", "-s", `NOOP\r\n`, "-e", "after TLS"}, "TCP OK - "},
		{"certificate days", smtpServer(greet, true, "220", cfg), []string{"-D", "5,1"}, "TCP WARNING - Certificate 'mail.example.test' expires in 2 day(s)"},
		{"not advertised", smtpServer(greet, false, "220", cfg), nil, "TCP WARNING - TLS not supported by server"},
		{"refused", smtpServer(greet, true, "454", cfg), nil, "TCP UNKNOWN - Server does not support STARTTLS: 454 go ahead"},
		{"no TLS after 220", smtpServer(greet, true, "220", nil), nil, "TCP CRITICAL - Cannot make SSL connection"},
		{"not SMTP", smtpServer("* OK IMAP4rev1 ready\r\n", true, "220", cfg), nil, "TCP WARNING - Invalid SMTP response received from host: * OK IMAP4rev1 ready"},
		{"implicit TLS port", nil, nil, "CRITICAL - Socket timeout"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var port int
			if tt.server != nil {
				port = serveTCP(t, nil, tt.server)
			} else { // a TLS port: it waits for a ClientHello, never greets
				port = serveTCP(t, func(l net.Listener) net.Listener { return tls.NewListener(l, cfg) }, func(c net.Conn) { _, _ = bufio.NewReader(c).ReadString('\n') })
			}
			args := append([]string{"-H", "127.0.0.1", "-p", strconv.Itoa(port), "--starttls", "smtp", "-t", "2"}, tt.args...)
			r := runProbe(t, context.Background(), "tcp", args...)
			if got := r.String(); !strings.Contains(got, tt.want) {
				t.Errorf("got %q, want %q", got, tt.want)
			}
			if tt.want == "TCP OK - " && !strings.Contains(r.String(), "(STARTTLS)") {
				t.Errorf("%q does not say STARTTLS", r.String())
			}
		})
	}
	for _, args := range [][]string{{"--starttls", "imap"}, {"--starttls", "smtp", "-S"}} {
		if _, err := testProbes.New("tcp", append([]string{"-H", "h", "-p", "25"}, args...)); err == nil {
			t.Errorf("%q accepted", args)
		}
	}
	if _, err := Light.New("tcp", []string{"-H", "h", "-p", "25", "--starttls", "smtp"}); err == nil || !strings.Contains(err.Error(), "carbonio-health check tcp") {
		t.Errorf("Light tcp --starttls: %v", err)
	}
}

// TestTCPUnixSocket: -H with an absolute path speaks to a unix socket, as
// check_tcp and check_clamd do.
func TestTCPUnixSocket(t *testing.T) {
	path := filepath.Join(t.TempDir(), "clamd.socket")
	ln := listen(t, "unix", path)
	serveConns(t, ln, func(c net.Conn) {
		line, _ := bufio.NewReader(c).ReadString('\n')
		if strings.TrimSpace(line) == "PING" {
			_, _ = c.Write([]byte("PONG\n"))
		}
	})
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-H", path, "-E", "-s", `PING\n`, "-e", "PONG"}, "TCP OK - "},
		{[]string{"-H", path, "-E", "-s", `PING\n`, "-e", "NOPE"}, "TCP WARNING - Unexpected response from host/socket: PONG"},
		{[]string{"-H", path + ".gone"}, "TCP CRITICAL - connect to file socket " + path + ".gone: No such file or directory"},
	}
	for _, tt := range tests {
		r := runProbe(t, context.Background(), "tcp", tt.args...)
		if got := r.String(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("%q: got %q, want %q", tt.args, got, tt.want)
		}
		if strings.HasPrefix(tt.want, "TCP OK") && !strings.Contains(r.String(), "on socket "+path+" [PONG]") {
			t.Errorf("%q: %q does not name the socket", tt.args, r.String())
		}
	}
}

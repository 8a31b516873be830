package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// TLSClient runs a TLS handshake over raw without verifying the chain (as
// check_tcp) and returns the connection and the peer's leaf certificate (nil
// when it sent none). The tcp probe's -S, --sni and -D need one; crypto/tls
// would add a third to what every exec of carbonio-health-check starts, so
// Light's tcp has none and tcptls.TCP, in allprobes.Registry, has.
type TLSClient func(ctx context.Context, raw net.Conn, serverName string) (net.Conn, *LeafCert, error)

// LeafCert is what -D reads of the server's certificate.
type LeafCert struct {
	CommonName string
	NotAfter   time.Time
}

// TCPProbe returns the tcp probe, speaking TLS through client; with a nil
// client, -S, --sni and -D are refused as arguments (so a script check that
// uses them is given to carbonio-health, see allprobes.IsLight).
func TCPProbe(client TLSClient) Probe {
	return Probe{
		Name:    "tcp",
		Label:   "TCP",
		Summary: "A TCP port accepts connections and, with -e, answers the expected banner (like check_tcp).",
		Define: func(fs *flag.FlagSet) func() (Check, error) {
			return tcpFlags(fs, &tcpCheck{readIdle: 2 * time.Second, tls: client})
		},
	}
}

// tcpCheck connects to host:port, optionally over TLS, sends -s, reads until
// one of -e matches, sends -q and reports the response time, as check_tcp.
type tcpCheck struct {
	host          string
	port          int
	send, quit    string
	expect        []string
	expectAll     bool
	refusedState  Status
	mismatchState Status
	warn, crit    *float64 // response seconds, strict >
	useTLS, sni   bool
	// starttls is the protocol whose STARTTLS upgrades the plain
	// connection to TLS before -s/-e/-q ("" for none; tcp_starttls.go).
	starttls  string
	checkCert bool
	certWarn  int // days
	certCrit  int // days
	// readIdle is how long to wait for more data once some arrived without
	// matching -e; check_tcp waits about 2 s before calling it a mismatch.
	readIdle time.Duration
	tls      TLSClient // nil: no TLS
}

// maxExpectBytes bounds how much of the answer is read while looking for -e.
const maxExpectBytes = 64 << 10

// tcpFlags declares the flags of the tcp probe on fs, parsed into c,
// which holds the probe's inputs.
func tcpFlags(fs *flag.FlagSet, c *tcpCheck) func() (Check, error) {
	var port, refused, mismatch, warn, crit, days string
	var escape bool
	StringFlag(fs, &c.host, "H", "hostname", "", "host name or address, or the absolute path of a unix socket (required)")
	StringFlag(fs, &port, "p", "port", "", "port number (required, but for a unix socket)")
	StringFlag(fs, &c.send, "s", "send", "", "string to send to the server")
	ListVar(fs, &c.expect, "e", "expect", "string to expect in the answer, substring match (repeatable; any matches unless -A)")
	StringFlag(fs, &c.quit, "q", "quit", "", "string to send to the server before closing (\\r\\n is appended)")
	BoolFlag(fs, &c.expectAll, "A", "all", "every -e string must match")
	BoolFlag(fs, &escape, "E", "escape", "interpret \\n, \\r, \\t and \\\\ in -s and -q")
	StringFlag(fs, &refused, "r", "refuse", "crit", "state on connection refused: ok, warn or crit")
	StringFlag(fs, &mismatch, "M", "mismatch", "warn", "state when the answer does not match -e: ok, warn or crit")
	StringFlag(fs, &warn, "w", "warning", "", "response time in seconds above which to warn")
	StringFlag(fs, &crit, "c", "critical", "", "response time in seconds above which to go critical")
	BoolFlag(fs, &c.useTLS, "S", "ssl", "connect with TLS (the certificate chain is not verified, as check_tcp)")
	fs.BoolVar(&c.sni, "sni", false, "send the host name as TLS SNI (implies -S)")
	StringFlag(fs, &days, "D", "certificate", "", "WARN[,CRIT] minimum days the certificate must stay valid (implies -S)")
	fs.StringVar(&c.starttls, "starttls", "", "upgrade the plain connection with the protocol's STARTTLS before -s/-e/-q: smtp (as check_smtp -S); -D applies to the certificate")
	return func() (Check, error) {
		var err error
		if c.host == "" {
			return nil, errors.New("-H HOST is required")
		}
		if c.unix() {
			if port != "" {
				return nil, fmt.Errorf("-p %s: %s is a unix socket, which has no port", port, c.host)
			}
		} else if c.port, err = strconv.Atoi(port); err != nil || c.port < 1 || c.port > 65535 {
			return nil, fmt.Errorf("-p: port %q must be a number in 1..65535", port)
		}
		if c.refusedState, err = parseStateName(refused); err != nil {
			return nil, fmt.Errorf("-r: %w", err)
		}
		if c.mismatchState, err = parseStateName(mismatch); err != nil {
			return nil, fmt.Errorf("-M: %w", err)
		}
		if c.warn, err = parseResponseSeconds(warn); err != nil {
			return nil, fmt.Errorf("-w: %w", err)
		}
		if c.crit, err = parseResponseSeconds(crit); err != nil {
			return nil, fmt.Errorf("-c: %w", err)
		}
		if days != "" {
			if c.certWarn, c.certCrit, err = parseCertDays(days); err != nil {
				return nil, fmt.Errorf("-D: %w", err)
			}
			c.checkCert, c.useTLS = true, true
		}
		if c.sni {
			c.useTLS = true
		}
		switch c.starttls {
		case "":
		case "smtp":
			if c.useTLS && !c.checkCert && !c.sni {
				return nil, errors.New("--starttls and -S: the connection starts in plain text and is upgraded, -S would start it in TLS")
			}
			if c.tls == nil {
				return nil, errors.New("--starttls needs TLS, which carbonio-health-check does not link: run `carbonio-health check tcp`")
			}
		default:
			return nil, fmt.Errorf("--starttls %q: only smtp", c.starttls)
		}
		if c.useTLS && c.tls == nil {
			return nil, errors.New("-S, --sni and -D need TLS, which carbonio-health-check does not link: run `carbonio-health check tcp`")
		}
		if escape {
			c.send, c.quit = unescapeTCP(c.send), unescapeTCP(c.quit)
		}
		if c.quit != "" && !escape {
			c.quit += "\r\n" // check_tcp's default, unless -E asks for exact bytes
		}
		return c, nil
	}
}

// parseStateName reads check_tcp's -r/-M values.
func parseStateName(s string) (Status, error) {
	switch strings.ToLower(s) {
	case "ok":
		return OK, nil
	case "warn", "warning":
		return Warning, nil
	case "crit", "critical":
		return Critical, nil
	}
	return Unknown, fmt.Errorf("state %q is not ok, warn or crit", s)
}

// parseResponseSeconds reads an optional non-negative number of seconds.
func parseResponseSeconds(s string) (*float64, error) {
	if s == "" {
		return nil, nil
	}
	v, err := parseNumber(s)
	if err != nil {
		return nil, err
	}
	if v < 0 {
		return nil, fmt.Errorf("%q is negative", s)
	}
	return &v, nil
}

// unescapeTCP expands the escapes check_tcp's -E accepts.
func unescapeTCP(s string) string {
	return strings.NewReplacer(`\n`, "\n", `\r`, "\r", `\t`, "\t", `\\`, `\`).Replace(s)
}

func (c *tcpCheck) result(s Status, summary string, pd []Perfdata) Result {
	return Result{Label: "TCP", Status: s, Summary: summary, Perfdata: pd}
}

// Run performs one exchange. Without a deadline on ctx it applies
// DefaultTimeout, so an in-process caller can never hang on a silent peer.
func (c *tcpCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	deadline, _ := ctx.Deadline()
	start := time.Now()
	network, addr := "tcp", net.JoinHostPort(c.host, strconv.Itoa(c.port))
	if c.unix() {
		network, addr = "unix", c.host
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, network, addr)
	if err != nil {
		return c.dialFailure(ctx, err, timeout)
	}
	defer func() { _ = raw.Close() }()
	_ = raw.SetDeadline(deadline)
	// A cancelled (not only expired) ctx unblocks any pending read or write.
	stop := context.AfterFunc(ctx, func() { _ = raw.SetDeadline(time.Unix(1, 0)) })
	defer stop()

	conn := raw
	if c.starttls != "" {
		if res, ok := c.upgrade(ctx, raw, timeout); !ok {
			return res
		}
	}
	if c.useTLS || c.starttls != "" {
		tc, res, ok := c.handshake(ctx, raw, timeout)
		if !ok {
			return res
		}
		conn = tc
	}
	if c.send != "" {
		if _, err := io.WriteString(conn, c.send); err != nil {
			return c.ioFailure(ctx, "sending to", err, timeout)
		}
	}
	var answer string
	if len(c.expect) > 0 {
		data, matched, err := c.readExpect(conn, deadline)
		answer = FirstLine(data)
		if err != nil && data == "" {
			return c.ioFailure(ctx, "receiving from", err, timeout)
		}
		if !matched {
			pd := c.perfdata(time.Since(start).Seconds(), timeout)
			if answer == "" {
				return c.result(c.mismatchState, "No data received from host", pd)
			}
			return c.result(c.mismatchState, "Unexpected response from host/socket: "+answer, pd)
		}
	}
	if c.quit != "" {
		_, _ = io.WriteString(conn, c.quit) // best effort, as check_tcp
	}
	elapsed := time.Since(start).Seconds()
	status := OK
	if c.crit != nil && elapsed > *c.crit {
		status = Critical
	} else if c.warn != nil && elapsed > *c.warn {
		status = Warning
	}
	summary := fmt.Sprintf("%.3f second response time on %s", elapsed, c.where())
	if c.starttls != "" {
		summary += " (STARTTLS)"
	}
	if len(c.expect) > 0 {
		summary += " [" + answer + "]"
	}
	return c.result(status, summary, c.perfdata(elapsed, timeout))
}

func (c *tcpCheck) perfdata(elapsed float64, timeout time.Duration) []Perfdata {
	elapsed = math.Round(elapsed*1e6) / 1e6 // microseconds, as check_tcp's %f
	pd := Perfdata{Label: "time", Value: elapsed, UOM: "s", Min: "0", Max: FormatFloat(timeout.Seconds())}
	if c.warn != nil {
		pd.Warn = FormatFloat(*c.warn)
	}
	if c.crit != nil {
		pd.Crit = FormatFloat(*c.crit)
	}
	return []Perfdata{pd}
}

// handshake runs the TLS handshake and, with -D, the certificate check.
// ok is false when res is the final answer.
func (c *tcpCheck) handshake(ctx context.Context, raw net.Conn, timeout time.Duration) (net.Conn, Result, bool) {
	serverName := ""
	if c.sni && net.ParseIP(c.host) == nil {
		serverName = c.host
	}
	tc, leaf, err := c.tls(ctx, raw, serverName)
	if err != nil {
		if ctx.Err() != nil || isTimeout(err) {
			return nil, socketTimeout("TCP", timeout), false
		}
		return nil, c.result(Critical, "Cannot make SSL connection: "+ErrText(err), nil), false
	}
	if c.checkCert {
		if leaf == nil {
			return nil, c.result(Critical, "Cannot retrieve server certificate.", nil), false
		}
		st, msg := certExpiry(leaf.CommonName, leaf.NotAfter, time.Now(), c.certWarn, c.certCrit)
		if st != OK {
			return nil, c.result(st, msg, nil), false
		}
	}
	return tc, Result{}, true
}

// readExpect reads until the answer matches -e, the peer closes, the peer
// stays silent for readIdle after sending something, or the deadline passes.
func (c *tcpCheck) readExpect(conn net.Conn, deadline time.Time) (string, bool, error) {
	buf := make([]byte, 4096)
	var got []byte
	for len(got) < maxExpectBytes {
		dl := deadline
		if len(got) > 0 {
			if idle := time.Now().Add(c.readIdle); idle.Before(dl) {
				dl = idle
			}
		}
		_ = conn.SetReadDeadline(dl)
		n, err := conn.Read(buf)
		got = append(got, buf[:n]...)
		if matchExpect(string(got), c.expect, c.expectAll) {
			return string(got), true, nil
		}
		if err != nil {
			if errors.Is(err, io.EOF) || (len(got) > 0 && isTimeout(err)) {
				return string(got), false, nil
			}
			return string(got), false, fmt.Errorf("read: %w", err)
		}
	}
	return string(got), false, nil
}

// matchExpect reports whether data contains any (or, with all, every) of
// the expected strings, as check_tcp matches them.
func matchExpect(data string, expect []string, all bool) bool {
	if len(expect) == 0 {
		return true
	}
	for _, e := range expect {
		found := strings.Contains(data, e)
		if found && !all {
			return true
		}
		if !found && all {
			return false
		}
	}
	return all
}

func (c *tcpCheck) dialFailure(ctx context.Context, err error, timeout time.Duration) Result {
	var dnsErr *net.DNSError
	switch {
	case ctx.Err() != nil || isTimeout(err):
		return socketTimeout("TCP", timeout)
	case errors.As(err, &dnsErr):
		return c.result(Critical, "Invalid hostname, address or socket: "+c.host, nil)
	case errors.Is(err, syscall.ECONNREFUSED):
		return c.result(c.refusedState, fmt.Sprintf("connect to %s: Connection refused", c.connectTo()), nil)
	}
	return c.result(Critical, fmt.Sprintf("connect to %s: %s", c.connectTo(), ErrText(err)), nil)
}

func (c *tcpCheck) ioFailure(ctx context.Context, what string, err error, timeout time.Duration) Result {
	if ctx.Err() != nil || isTimeout(err) {
		return socketTimeout("TCP", timeout)
	}
	return c.result(Critical, fmt.Sprintf("error %s %s: %s", what, c.where(), ErrText(err)), nil)
}

// unix reports whether -H is a unix socket's path (as check_tcp, an
// absolute path).
func (c *tcpCheck) unix() bool { return strings.HasPrefix(c.host, "/") }

// where names the endpoint in answers: "127.0.0.1 port 25", "socket /p".
func (c *tcpCheck) where() string {
	if c.unix() {
		return "socket " + c.host
	}
	return fmt.Sprintf("%s port %d", c.host, c.port)
}

// connectTo names the endpoint in connection errors, as check_tcp does.
func (c *tcpCheck) connectTo() string {
	if c.unix() {
		return "file socket " + c.host
	}
	return fmt.Sprintf("address %s and port %d", c.host, c.port)
}

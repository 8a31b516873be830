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
	"time"
	"unicode"
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
		Summary: "A TCP port (or a unix socket) accepts connections and, with -e, answers the expected text (like check_tcp).",
		Define: func(fs *flag.FlagSet) func() (Check, error) {
			return tcpFlags(fs, &tcpCheck{readIdle: 2 * time.Second, tls: client})
		},
		// check_tcp's getopt stops at the first operand, but a host given
		// first is taken before the flags are read.
		Syntax: ArgSyntax{StopAtOperand: true, LeadingOperand: true, NeedArgs: "No arguments found"},
	}
}

// tcpCheck connects to host:port, optionally over TLS, sends -s, reads until
// one of -e matches, sends -q and reports the response time, as check_tcp.
type tcpCheck struct {
	host          string
	hostGiven     bool // -H: the output names the host ("on HOST port N")
	network       string
	port          int
	send, quit    string
	expect        []string
	expectAll     bool
	hide          bool // -j: the answer is not printed
	maxBytes      int
	delay         time.Duration
	refusedState  Status
	mismatchState Status
	warn, crit    *float64 // response seconds, strict >
	useTLS        bool
	sni           string // --sni: the server name sent in the TLS handshake
	// starttls is the protocol whose STARTTLS upgrades the plain
	// connection to TLS before -s/-e/-q ("" for none; tcp_starttls.go).
	starttls  string
	checkCert bool
	certWarn  int // days
	certCrit  int // days
	// readIdle is how long to wait for more data once some arrived without
	// matching -e; check_tcp waits 2 s before calling it a mismatch.
	readIdle time.Duration
	tls      TLSClient // nil: no TLS
}

// maxExpectBytes bounds how much of the answer is read while looking for -e.
const maxExpectBytes = 64 << 10

// tcpFlags declares the flags of the tcp probe on fs, parsed into c,
// which holds the probe's inputs. They are check_tcp's, read as it reads
// them: -E applies to the -s and -q that follow it, -wt/-ct/-to are -w,
// -c and -t, the host may come first without -H (127.0.0.1 by default), a
// host starting with '/' is a unix socket.
func tcpFlags(fs *flag.FlagSet, c *tcpCheck) func() (Check, error) {
	var bad []error
	fail := func(err error) error { bad = append(bad, err); return nil }
	escape := false
	c.refusedState, c.mismatchState, c.network = Critical, Warning, "tcp"
	fs.Func("H", "host name, address, [IPv6 address] or unix socket path (default 127.0.0.1, or the first argument)", func(s string) error {
		c.host, c.hostGiven = s, true
		return nil
	})
	Alias(fs, "H", "hostname")
	fs.Func("p", "port number (without one, port 0: check_tcp's connection refused)", func(s string) error {
		if !IsIntPos(s) {
			return fail(errors.New("Port must be a positive integer"))
		}
		c.port = Atoi(s)
		return nil
	})
	Alias(fs, "p", "port")
	fs.BoolFunc("E", "interpret \\n, \\r, \\t and \\\\ in the -s and -q that follow; -q then gets no \\r\\n", func(string) error {
		escape = true
		return nil
	})
	Alias(fs, "E", "escape")
	fs.Func("s", "string to send to the server", func(s string) error {
		c.send = s
		if escape {
			c.send = unescapeTCP(s)
		}
		return nil
	})
	Alias(fs, "s", "send")
	ListVar(fs, &c.expect, "e", "expect", "string to expect anywhere in the answer (repeatable; any matches unless -A)")
	fs.Func("q", "string to send to the server before closing (\\r\\n is appended unless -E came before)", func(s string) error {
		c.quit = s + "\r\n"
		if escape {
			c.quit = unescapeTCP(s)
		}
		return nil
	})
	Alias(fs, "q", "quit")
	BoolFlag(fs, &c.expectAll, "A", "all", "every -e string must be in the answer")
	BoolFlag(fs, &c.hide, "j", "jail", "do not print the answer")
	fs.Func("m", "stop reading after this many bytes", func(s string) error {
		if !IsIntPos(s) {
			return fail(errors.New("Maxbytes must be a positive integer"))
		}
		c.maxBytes = Atoi(s)
		return nil
	})
	Alias(fs, "m", "maxbytes")
	fs.Func("d", "seconds to wait between sending and reading (not counted in the response time)", func(s string) error {
		if !IsIntPos(s) {
			return fail(errors.New("Delay must be a positive integer"))
		}
		c.delay = time.Duration(Atoi(s)) * time.Second
		return nil
	})
	Alias(fs, "d", "delay")
	fs.Func("r", "state on a refused (or failed) connection: ok, warn or crit (default crit)", func(s string) error {
		st, ok := stateName(s)
		if !ok {
			return fail(errors.New("Refuse must be one of ok, warn, crit"))
		}
		c.refusedState = st
		return nil
	})
	Alias(fs, "r", "refuse")
	fs.Func("M", "state when the answer does not match -e: ok, warn or crit (default warn)", func(s string) error {
		st, ok := stateName(s)
		if !ok {
			return fail(errors.New("Mismatch must be one of ok, warn, crit"))
		}
		c.mismatchState = st
		return nil
	})
	Alias(fs, "M", "mismatch")
	fs.Func("w", "response time in seconds above which to warn", func(s string) error {
		c.warn = ptr(Atof(s))
		return nil
	})
	Alias(fs, "w", "warning")
	OneDashAlias(fs, "w", "wt")
	fs.Func("c", "response time in seconds above which to go critical", func(s string) error {
		c.crit = ptr(Atof(s))
		return nil
	})
	Alias(fs, "c", "critical")
	OneDashAlias(fs, "c", "ct")
	BoolFlag(fs, &c.useTLS, "S", "ssl", "connect with TLS (the certificate chain is not verified, as check_tcp)")
	fs.Func("sni", "server name to send in the TLS handshake (implies -S)", func(s string) error {
		c.sni, c.useTLS = s, true
		return nil
	})
	fs.Func("D", "WARN[,CRIT] minimum days the certificate must stay valid (implies -S)", func(s string) error {
		w, cr, err := parseCertDays(s)
		if err != nil {
			return fail(err)
		}
		c.certWarn, c.certCrit, c.checkCert, c.useTLS = w, cr, true, true
		return nil
	})
	Alias(fs, "D", "certificate")
	fs.StringVar(&c.starttls, "starttls", "", "upgrade the plain connection with the protocol's STARTTLS before -s/-e/-q: smtp (as check_smtp -S); -D applies to the certificate")
	fs.BoolFunc("4", "connect over IPv4", func(string) error { c.network = "tcp4"; return nil })
	Alias(fs, "4", "use-ipv4")
	fs.BoolFunc("6", "connect over IPv6", func(string) error { c.network = "tcp6"; return nil })
	Alias(fs, "6", "use-ipv6")
	ignored := func(string) error { return nil }
	fs.Func("C", "accepted, as check_tcp does; changes nothing", ignored)
	Alias(fs, "C", "critical-codes")
	fs.Func("W", "accepted, as check_tcp does; changes nothing", ignored)
	Alias(fs, "W", "warning-codes")
	fs.BoolFunc("v", "accepted, as check_tcp does; prints nothing more", ignored)
	Alias(fs, "v", "verbose")
	var operands []string
	Operands(fs, "[HOST]", func(s string) error { operands = append(operands, s); return nil })
	return func() (Check, error) {
		if len(bad) > 0 {
			return nil, bad[0]
		}
		if !c.hostGiven {
			c.host = "127.0.0.1"
			if len(operands) > 0 {
				c.host = operands[0]
			}
		}
		if strings.HasPrefix(c.host, "/") {
			c.network = "unix"
		}
		switch c.starttls {
		case "":
		case "smtp":
			if c.useTLS && !c.checkCert && c.sni == "" {
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
		return c, nil
	}
}

// stateName reads check_tcp's -r/-M values as it compares them: by their
// first letters ("ok…", "warn…", "crit…").
func stateName(s string) (Status, bool) {
	switch {
	case strings.HasPrefix(s, "ok"):
		return OK, true
	case strings.HasPrefix(s, "warn"):
		return Warning, true
	case strings.HasPrefix(s, "crit"):
		return Critical, true
	}
	return Unknown, false
}

// unescapeTCP expands the escapes check_tcp's -E accepts: \n, \r, \t
// and \\; any other escaped character stands for itself.
func unescapeTCP(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] != '\\' || i+1 >= len(s) {
			b.WriteByte(s[i])
			continue
		}
		i++
		switch s[i] {
		case 'n':
			b.WriteByte('\n')
		case 'r':
			b.WriteByte('\r')
		case 't':
			b.WriteByte('\t')
		default:
			b.WriteByte(s[i])
		}
	}
	return b.String()
}

func (c *tcpCheck) result(s Status, summary string, pd []Perfdata) Result {
	return Result{Label: "TCP", Status: s, Summary: summary, Perfdata: pd}
}

// where names the peer as check_tcp does: "127.0.0.1 port 25" with -H,
// "port 25" for a host given as an operand, "socket /run/x.sock".
func (c *tcpCheck) where() string {
	switch {
	case c.network == "unix":
		return "socket " + c.host
	case c.hostGiven:
		return fmt.Sprintf("%s port %d", c.host, c.port)
	}
	return fmt.Sprintf("port %d", c.port)
}

// Run performs one exchange. Without a deadline on ctx it applies
// DefaultTimeout, so an in-process caller can never hang on a silent peer.
func (c *tcpCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	deadline, _ := ctx.Deadline()
	start := time.Now()
	addr := c.host
	if c.network != "unix" {
		addr = net.JoinHostPort(strings.TrimSuffix(strings.TrimPrefix(c.host, "["), "]"), strconv.Itoa(c.port))
	}
	var d net.Dialer
	raw, err := d.DialContext(ctx, c.network, addr)
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
	if c.delay > 0 {
		if !sleep(ctx, c.delay) {
			return socketTimeout("TCP", timeout)
		}
		start = start.Add(c.delay) // check_tcp leaves the delay out of the time
	}
	var answer string
	matched := true
	if len(c.expect) > 0 {
		data, ok, err := c.readExpect(conn, deadline)
		if err != nil && data == "" {
			return c.ioFailure(ctx, "receiving from", err, timeout)
		}
		if data == "" {
			return c.result(Critical, "No data received from host", nil)
		}
		answer, matched = FirstLine(strings.TrimRightFunc(data, unicode.IsSpace)), ok
	}
	if c.quit != "" {
		_, _ = io.WriteString(conn, c.quit) // best effort, as check_tcp
	}
	return c.evaluate(time.Since(start).Seconds(), answer, matched, timeout)
}

// evaluate is check_tcp's verdict on one exchange: the response time
// against -w/-c (strict >, critical first), then the answer against -e (a
// mismatch takes the -M state unless the time is critical).
func (c *tcpCheck) evaluate(elapsed float64, answer string, matched bool, timeout time.Duration) Result {
	status := OK
	var steady string
	if c.crit != nil && elapsed > *c.crit {
		status, steady = Critical, "response time over the critical threshold "+FormatFloat(*c.crit)+" s"
	} else if c.warn != nil && elapsed > *c.warn {
		status, steady = Warning, "response time over the warning threshold "+FormatFloat(*c.warn)+" s"
	}
	pd := c.perfdata(elapsed, timeout, matched)
	if !matched {
		if status != Critical {
			status = c.mismatchState
		}
		res := c.result(status, "Unexpected response from host/socket on "+c.where(), pd)
		if answer != "" && !c.hide {
			res.Summary = "Unexpected response from host/socket: " + answer
		}
		res.Steady = fmt.Sprintf("unexpected response from %s (expected '%s')", c.where(), strings.Join(c.expect, "', '"))
		return res
	}
	res := c.result(status, fmt.Sprintf("%.3f second response time on %s", elapsed, c.where()), pd)
	if c.starttls != "" {
		res.Summary += " (STARTTLS)"
	}
	if answer != "" && !c.hide {
		res.Summary += " [" + answer + "]"
	}
	res.Steady = "connected to " + c.where()
	if steady != "" {
		res.Steady += ": " + steady
	}
	return res
}

// perfdata is check_tcp's time item: "time=0.000359s;;;0.000000;10.000000",
// the thresholds printed as 0 after a mismatch.
func (c *tcpCheck) perfdata(elapsed float64, timeout time.Duration, matched bool) []Perfdata {
	pd := Perfdata{Label: "time", Value: elapsed, UOM: "s", Format: "%f", Min: CFloat(0), Max: CFloat(math.Floor(timeout.Seconds()))}
	if c.warn != nil {
		pd.Warn = CFloat(*c.warn)
	}
	if c.crit != nil {
		pd.Crit = CFloat(*c.crit)
	}
	if !matched {
		pd.Warn, pd.Crit = zeroIfSet(pd.Warn), zeroIfSet(pd.Crit)
	}
	return []Perfdata{pd}
}

func zeroIfSet(s string) string {
	if s == "" {
		return ""
	}
	return CFloat(0)
}

// sleep waits d or until ctx ends; it reports whether d passed.
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	}
}

// handshake runs the TLS handshake and, with -D, the certificate check.
// ok is false when res is the final answer.
func (c *tcpCheck) handshake(ctx context.Context, raw net.Conn, timeout time.Duration) (net.Conn, Result, bool) {
	tc, leaf, err := c.tls(ctx, raw, c.sni)
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
			res := c.result(st, msg, nil)
			res.Steady = certSteady(leaf.CommonName, leaf.NotAfter, time.Now(), st, c.certWarn, c.certCrit)
			return nil, res, false
		}
	}
	return tc, Result{}, true
}

// readExpect reads until the answer matches -e, the peer closes, the peer
// stays silent for readIdle after sending something, or the deadline passes.
func (c *tcpCheck) readExpect(conn net.Conn, deadline time.Time) (string, bool, error) {
	buf := make([]byte, 1024)
	var got []byte
	limit := maxExpectBytes
	if c.maxBytes > 0 {
		limit = c.maxBytes
	}
	for len(got) < limit {
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

// dialFailure words a failed connect as check_tcp: a name that does not
// resolve is CRITICAL, any other failure takes the -r state.
func (c *tcpCheck) dialFailure(ctx context.Context, err error, timeout time.Duration) Result {
	var dnsErr *net.DNSError
	switch {
	case ctx.Err() != nil || isTimeout(err):
		return socketTimeout("TCP", timeout)
	case errors.As(err, &dnsErr):
		return c.result(Critical, "Invalid hostname, address or socket: "+c.host, nil)
	case c.network == "unix":
		return c.result(c.refusedState, fmt.Sprintf("connect to file socket %s: %s", c.host, ErrText(err)), nil)
	}
	return c.result(c.refusedState, fmt.Sprintf("connect to address %s and port %d: %s", c.host, c.port, ErrText(err)), nil)
}

func (c *tcpCheck) ioFailure(ctx context.Context, what string, err error, timeout time.Duration) Result {
	if ctx.Err() != nil || isTimeout(err) {
		return socketTimeout("TCP", timeout)
	}
	return c.result(Critical, fmt.Sprintf("error %s %s: %s", what, c.where(), ErrText(err)), nil)
}

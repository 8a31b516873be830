package pingprobe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"os"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"

	probing "github.com/prometheus-community/pro-bing"
	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/consulstatus"
)

// Probe is the ping probe: its entry in the registry of every probe
// (allprobes.Registry).
var Probe = checkscript.Probe{
	Name:    "ping",
	Label:   "PING",
	Summary: "ICMP echo round-trip average and packet loss, like check_ping (-w RTA,PL% -c RTA,PL%, or HOST WPL CPL WRTA CRTA [PACKETS]), to -H hosts, the Consul servers (--peers) and the default gateway (--gateway).",
	Define: func(fs *flag.FlagSet) func() (checkscript.Check, error) {
		c := &pingCheck{packets: -1, warn: pingThreshold{-1, -1}, crit: pingThreshold{-1, -1}}
		var bad error
		var interval string
		var v4, v6 bool
		fs.Func("H", "host name or address to ping (repeatable, or comma-separated)", func(s string) error {
			c.hosts = append(c.hosts, strings.Split(s, ",")...)
			return nil
		})
		checkscript.Alias(fs, "H", "hostname")
		fs.BoolVar(&c.peers, "peers", false, "also ping the Consul servers the local agent knows (/v1/status/peers, this node's own addresses left out)")
		fs.BoolVar(&c.gateway, "gateway", false, "also ping the default gateway ($HOST_PROC/net/route and ipv6_route)")
		fs.StringVar(&c.consul.Addr, "consul-addr", "", "the local agent's HTTP API for --peers (default $CONSUL_HTTP_ADDR, else "+consulstatus.DefaultAddr+")")
		threshold := func(dst *pingThreshold) func(string) error {
			return func(s string) error {
				if err := parsePingThreshold(s, dst); err != nil && bad == nil {
					bad = err
				}
				return nil
			}
		}
		fs.Func("w", "warning threshold RTA,PL% (RTA in ms, alert when >=); RTA and PL% may come in separate -w", threshold(&c.warn))
		checkscript.Alias(fs, "w", "warning")
		fs.Func("c", "critical threshold RTA,PL% (RTA in ms, alert when >=); RTA and PL% may come in separate -c", threshold(&c.crit))
		checkscript.Alias(fs, "c", "critical")
		fs.Func("p", "number of ICMP echo requests to send (default 5)", func(s string) error {
			if !checkscript.IsIntNonNeg(s) && bad == nil {
				bad = fmt.Errorf("<max_packets> (%s) must be a non-negative number", s)
			}
			c.packets = checkscript.Atoi(s)
			return nil
		})
		checkscript.Alias(fs, "p", "packets")
		checkscript.StringFlag(fs, &interval, "i", "interval", "1", "seconds (or a duration) between requests")
		checkscript.BoolFlag(fs, &v4, "4", "use-ipv4", "use IPv4")
		checkscript.BoolFlag(fs, &v6, "6", "use-ipv6", "use IPv6")
		fs.Bool("n", false, "accepted, as check_ping's (no HTML in the output)")
		checkscript.Alias(fs, "n", "nohtml")
		fs.BoolFunc("v", "accepted, as check_ping does; prints nothing more", func(string) error { return nil })
		checkscript.Alias(fs, "v", "verbose")
		var operands []string
		checkscript.Operands(fs, "[HOST] [WPL CPL WRTA CRTA [PACKETS]] (check_ping's old form)", func(s string) error {
			operands = append(operands, s)
			return nil
		})
		return func() (checkscript.Check, error) {
			if bad != nil {
				return nil, bad
			}
			if err := c.oldForm(operands); err != nil {
				return nil, err
			}
			return c.build(interval, v4, v6)
		}
	},
	Syntax: checkscript.ArgSyntax{NeedArgs: checkscript.NoArguments},
}

// pingCheck sends ICMP echo requests with pro-bing and judges the round-trip
// average and the packet loss as check_ping does, for every target.
type pingCheck struct {
	hosts          []string
	peers, gateway bool
	consul         consulstatus.Client
	packets        int
	interval       time.Duration
	network        string // "ip", "ip4" or "ip6"
	warn, crit     pingThreshold
}

// pingThreshold is one -w or -c value: RTA in milliseconds and packet loss
// in percent; negative means "not given".
type pingThreshold struct {
	rta float64
	pl  int
}

// pingStats is what one ping run measured.
type pingStats struct {
	sent, recv, dups int
	avg              time.Duration
}

// oldForm reads check_ping's operands: HOST (when no -H), then each of WPL,
// CPL, WRTA, CRTA and PACKETS that no flag set, in that order.
func (c *pingCheck) oldForm(operands []string) error {
	next := func() (string, bool) {
		if len(operands) == 0 {
			return "", false
		}
		o := operands[0]
		operands = operands[1:]
		return o, true
	}
	if len(c.hosts) == 0 {
		o, ok := next()
		if !ok {
			return nil
		}
		c.hosts = []string{o}
	}
	for _, pl := range []struct {
		dst  *int
		name string
	}{{&c.warn.pl, "<wpl>"}, {&c.crit.pl, "<cpl>"}} {
		if *pl.dst >= 0 {
			continue
		}
		o, ok := next()
		if !ok {
			return nil
		}
		if !checkscript.IsIntPercent(o) {
			return fmt.Errorf("%s (%s) must be an integer percentage", pl.name, o)
		}
		*pl.dst = checkscript.Atoi(o)
	}
	for _, rta := range []struct {
		dst  *float64
		name string
	}{{&c.warn.rta, "<wrta>"}, {&c.crit.rta, "<crta>"}} {
		if *rta.dst >= 0 {
			continue
		}
		o, ok := next()
		if !ok {
			return nil
		}
		if checkscript.IsNegative(o) {
			return fmt.Errorf("%s (%s) must be a non-negative number", rta.name, o)
		}
		*rta.dst = checkscript.Atof(o)
	}
	if c.packets < 0 {
		if o, ok := next(); ok {
			if !checkscript.IsIntNonNeg(o) {
				return fmt.Errorf("<max_packets> (%s) must be a non-negative number", o)
			}
			c.packets = checkscript.Atoi(o)
		}
	}
	return nil
}

// build validates as check_ping's validate_arguments.
func (c *pingCheck) build(interval string, v4, v6 bool) (checkscript.Check, error) {
	for _, m := range []struct {
		missing bool
		name    string
	}{{c.warn.rta < 0, "<wrta>"}, {c.crit.rta < 0, "<crta>"}, {c.warn.pl < 0, "<wpl>"}, {c.crit.pl < 0, "<cpl>"}} {
		if m.missing {
			return nil, fmt.Errorf("%s was not set", m.name)
		}
	}
	if c.warn.rta > c.crit.rta {
		return nil, fmt.Errorf("<wrta> (%f) cannot be larger than <crta> (%f)", c.warn.rta, c.crit.rta)
	}
	if c.warn.pl > c.crit.pl {
		return nil, fmt.Errorf("<wpl> (%d) cannot be larger than <cpl> (%d)", c.warn.pl, c.crit.pl)
	}
	if len(c.hosts) == 0 && !c.peers && !c.gateway {
		return nil, errors.New("You must specify a server address or host name (-H), or --peers or --gateway")
	}
	if c.packets < 0 {
		c.packets = 5
	}
	if c.packets < 1 || c.packets > 10000 {
		return nil, fmt.Errorf("-p %d: the number of packets must be between 1 and 10000", c.packets)
	}
	var err error
	if c.interval, err = checkscript.ParseSeconds(interval, time.Hour); err != nil {
		return nil, fmt.Errorf("-i: %w", err)
	}
	c.network = "ip"
	switch {
	case v4 && v6:
		return nil, errors.New("-4 and -6 exclude each other")
	case v4:
		c.network = "ip4"
	case v6:
		c.network = "ip6"
	}
	return c, nil
}

// parsePingThreshold reads one -w or -c value into t as check_ping's
// get_threshold does, keeping what the text does not set: an integer is
// the RTA in ms ("100"), "RTA,PL%" or "RTA:PL%" both ("100.5,20%"), "PL%"
// the loss only. Anything else ("100.5" alone, "100,20") is refused.
func parsePingThreshold(s string, t *pingThreshold) error {
	bad := fmt.Errorf("%s: Warning threshold must be integer or percentage!", s)
	switch {
	case checkscript.IsIntNonNeg(s):
		t.rta = checkscript.Atof(s)
	case strings.ContainsAny(s, ",:") && strings.Contains(s, "%"):
		rta, n := checkscript.Strtod(s)
		rest := strings.TrimLeft(s[n:], ",:")
		if n == 0 || len(rest) == len(s[n:]) {
			return bad
		}
		pl, ok := scanInt(rest)
		if !ok {
			return bad
		}
		t.rta, t.pl = rta, pl
	case strings.Contains(s, "%"):
		pl, ok := scanInt(s)
		if !ok {
			return bad
		}
		t.pl = pl
	default:
		return bad
	}
	return nil
}

// scanInt is sscanf's %d: an integer after blanks, at the start of s.
func scanInt(s string) (int, bool) {
	t := strings.TrimLeft(s, " \t\n\v\f\r")
	i := 0
	if i < len(t) && (t[i] == '+' || t[i] == '-') {
		i++
	}
	if i >= len(t) || t[i] < '0' || t[i] > '9' {
		return 0, false
	}
	return checkscript.Atoi(t), true
}

// Run pings every target at once. One -H alone answers exactly as
// check_ping does; otherwise the answer names each target (see
// combinePing).
func (c *pingCheck) Run(ctx context.Context) checkscript.Result {
	if len(c.hosts) == 1 && !c.peers && !c.gateway {
		return c.pingHost(ctx, c.hosts[0])
	}
	targets, problems := c.targets(ctx)
	results := make([]checkscript.Result, len(targets))
	var wg sync.WaitGroup
	for i, t := range targets {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = c.pingHost(ctx, t.host)
		}()
	}
	wg.Wait()
	return combinePing(targets, results, problems)
}

// pingHost resolves one host, pings it and evaluates the statistics.
func (c *pingCheck) pingHost(ctx context.Context, host string) checkscript.Result {
	if ctx.Err() != nil {
		return pingResult(checkscript.Critical, fmt.Sprintf("Timeout pinging %s", host), nil)
	}
	if a, err := netip.ParseAddr(host); err == nil && a.Zone() != "" { // fe80::1%eth0: the resolver drops the zone
		return c.pingIP(ctx, &net.IPAddr{IP: a.AsSlice(), Zone: a.Zone()})
	}
	addrs, err := net.DefaultResolver.LookupIP(ctx, c.network, host)
	if err != nil || len(addrs) == 0 {
		if ctx.Err() != nil {
			return pingResult(checkscript.Critical, fmt.Sprintf("Timeout resolving %s", host), nil)
		}
		// check_ping refuses a host it cannot resolve as a bad argument.
		return pingResult(checkscript.Unknown, "Invalid hostname/address - "+host, nil)
	}
	ip := addrs[0]
	for _, a := range addrs { // prefer IPv4, as ping does
		if a.To4() != nil {
			ip = a
			break
		}
	}
	return c.pingIP(ctx, &net.IPAddr{IP: ip})
}

func (c *pingCheck) pingIP(ctx context.Context, ip *net.IPAddr) checkscript.Result {
	st, res, ok := c.ping(ctx, ip)
	if !ok {
		return res
	}
	return evaluatePing(st, c.warn, c.crit)
}

// ping runs pro-bing unprivileged (a datagram ICMP socket, allowed by
// net.ipv4.ping_group_range) and, when the kernel refuses that, with a raw
// socket (root or CAP_NET_RAW). ok is false when res is the final answer.
func (c *pingCheck) ping(ctx context.Context, ip *net.IPAddr) (st pingStats, res checkscript.Result, ok bool) {
	var failed [2]error
	for i, privileged := range []bool{false, true} {
		p := probing.New(ip.String())
		p.SetIPAddr(ip)
		p.SetPrivileged(privileged)
		p.SetLogger(probing.NoopLogger{})
		p.Count = c.packets
		p.Interval = c.interval
		p.Timeout = c.wait(ctx)
		p.RecordRtts, p.RecordTTLs = false, false
		opened := false
		p.OnSetup = func() { opened = true } // called once the socket is open
		err := p.RunWithContext(ctx)
		s := p.Statistics()
		st = pingStats{sent: s.PacketsSent, recv: s.PacketsRecv, dups: s.PacketsRecvDuplicates, avg: s.AvgRtt}
		switch {
		case !opened && err != nil:
			failed[i] = err
			continue
		case st.sent > 0:
			return st, checkscript.Result{}, true // a deadline mid-run still leaves usable statistics
		case ctx.Err() != nil:
			return st, pingResult(checkscript.Critical, fmt.Sprintf("Timeout pinging %s", ip), nil), false
		case err != nil:
			return st, pingResult(checkscript.Critical, fmt.Sprintf("Cannot send to %s: %s", ip, checkscript.ErrText(err)), nil), false
		}
		return st, checkscript.Result{}, true
	}
	if isPermissionError(failed[0]) && isPermissionError(failed[1]) {
		return st, checkscript.Unknownf("PING", pingDeniedMessage(failed[0], failed[1], os.Getegid())), false
	}
	return st, checkscript.Unknownf("PING", fmt.Sprintf("Cannot open an ICMP socket: %s", checkscript.ErrText(failed[1]))), false
}

// wait bounds one run: check_ping's own estimate (packets × interval plus
// the critical RTA, at least a second for the last reply), cut short of the
// context deadline so that lost packets still yield statistics.
func (c *pingCheck) wait(ctx context.Context) time.Duration {
	last := time.Duration(c.crit.rta * float64(time.Millisecond))
	if last < time.Second {
		last = time.Second
	}
	w := time.Duration(c.packets-1)*c.interval + last
	if dl, ok := ctx.Deadline(); ok {
		left := time.Until(dl)
		left -= min(left/10, 100*time.Millisecond)
		w = min(w, left)
	}
	return max(w, time.Millisecond) // time.NewTicker panics on a non-positive period
}

// isPermissionError reports whether opening an ICMP socket was refused
// because of privileges (as opposed to, say, a missing IPv6 stack).
func isPermissionError(err error) bool {
	return errors.Is(err, syscall.EACCES) || errors.Is(err, syscall.EPERM) || errors.Is(err, os.ErrPermission)
}

// pingDeniedMessage explains why neither kind of ICMP socket could be
// opened and names both ways to allow one.
func pingDeniedMessage(unprivileged, raw error, gid int) string {
	return fmt.Sprintf("Cannot open an ICMP socket: unprivileged ICMP refused (%s; allow group %d in sysctl net.ipv4.ping_group_range) "+
		"and raw ICMP refused (%s; needs root or CAP_NET_RAW)", checkscript.ErrText(unprivileged), gid, checkscript.ErrText(raw))
}

// evaluatePing turns measured statistics into a check_ping result: loss is
// the integer percentage ping prints, RTA and loss are compared with >=,
// critical first, and no reply at all is CRITICAL without an RTA. The line
// and its perfdata are check_ping's; the steady form names the thresholds
// crossed instead of the figures.
func evaluatePing(st pingStats, warn, crit pingThreshold) checkscript.Result {
	loss := 100
	if st.sent > 0 && st.recv <= st.sent {
		loss = (st.sent - st.recv) * 100 / st.sent
	}
	rta := float64(st.avg.Round(time.Microsecond)) / float64(time.Millisecond)
	lost := loss == 100 || st.recv == 0
	if lost {
		rta = crit.rta // check_ping's own stand-in: no reply is no RTA
	}
	status := checkscript.OK
	var crossed []string
	switch {
	case loss >= crit.pl || rta >= crit.rta:
		status, crossed = checkscript.Critical, pingCrossed(loss, rta, crit, "critical")
	case loss >= warn.pl || rta >= warn.rta:
		status, crossed = checkscript.Warning, pingCrossed(loss, rta, warn, "warning")
	}
	prefix := ""
	if st.dups > 0 { // ping marks them "DUP!", which check_ping reports as a warning
		prefix = "DUPLICATES FOUND! "
		status = checkscript.Worst(status, checkscript.Warning)
		crossed = append(crossed, "duplicate replies")
	}
	plPerf := checkscript.Perfdata{Label: "pl", Value: float64(loss), UOM: "%", Warn: positiveInt(warn.pl), Crit: positiveInt(crit.pl), Min: "0", Fields: 4}
	if lost {
		res := pingResult(status, fmt.Sprintf("%sPacket loss = %d%%", prefix, loss), []checkscript.Perfdata{
			{Label: "rta", NoValue: true, Warn: checkscript.CFloat(warn.rta), Crit: checkscript.CFloat(crit.rta), Fields: 4},
			plPerf,
		})
		res.PerfLead = true // "Packet loss = 100%| rta=U;…;; pl=100%;…"
		return res
	}
	res := pingResult(status, fmt.Sprintf("%sPacket loss = %d%%, RTA = %.2f ms", prefix, loss, rta), []checkscript.Perfdata{
		{Label: "rta", Value: rta, UOM: "ms", Format: "%f", Warn: positiveFloat(warn.rta), Crit: positiveFloat(crit.rta), Min: "0.000000"},
		plPerf,
	})
	res.Steady = fmt.Sprintf("packet loss and RTA under the warning thresholds (%d%%, %s ms)", warn.pl, checkscript.FormatFloat(warn.rta))
	if len(crossed) > 0 {
		res.Steady = strings.Join(crossed, ", ")
	}
	return res
}

// pingCrossed names what reaches a threshold, for the steady form.
func pingCrossed(loss int, rta float64, t pingThreshold, level string) []string {
	var out []string
	if loss >= t.pl {
		out = append(out, fmt.Sprintf("packet loss at or over the %s threshold %d%%", level, t.pl))
	}
	if rta >= t.rta {
		out = append(out, fmt.Sprintf("RTA at or over the %s threshold %s ms", level, checkscript.FormatFloat(t.rta)))
	}
	return out
}

// positiveFloat and positiveInt print a check_ping perfdata threshold, which
// is left empty when it is zero.
func positiveFloat(v float64) string {
	if v <= 0 {
		return ""
	}
	return checkscript.CFloat(v)
}

func positiveInt(v int) string {
	if v <= 0 {
		return ""
	}
	return strconv.Itoa(v)
}

func pingResult(s checkscript.Status, summary string, pd []checkscript.Perfdata) checkscript.Result {
	return checkscript.Result{Label: "PING", Status: s, Summary: summary, Perfdata: pd}
}

package dnsprobe

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/zextras/carbonio-health/checkscript"
)

// Probe is the dns probe: its entry in the registry of every probe
// (allprobes.Registry).
var Probe = checkscript.Probe{
	Name:    "dns",
	Label:   "DNS",
	Summary: "A name resolves (A and AAAA, or PTR for an address), optionally to the expected addresses, like check_dns.",
	Define: func(fs *flag.FlagSet) func() (checkscript.Check, error) {
		return dnsFlags(fs, &dnsCheck{resolvConf: "/etc/resolv.conf"})
	},
}

// dnsFlags declares the flags of the dns probe on fs, parsed into c, which
// holds the probe's inputs.
func dnsFlags(fs *flag.FlagSet, c *dnsCheck) func() (checkscript.Check, error) {
	var warn, crit string
	var expected []string
	checkscript.StringFlag(fs, &c.name, "H", "hostname", "", "name to look up (required); an address is looked up as PTR")
	checkscript.StringFlag(fs, &c.server, "s", "server", "", "DNS server as host or host:port (default: the nameservers of /etc/resolv.conf)")
	checkscript.ListVar(fs, &expected, "a", "expected-address", "expected address(es), repeatable or comma-separated; the answer must be exactly this set")
	checkscript.StringFlag(fs, &warn, "w", "warning", "", "warning range for the response time in seconds")
	checkscript.StringFlag(fs, &crit, "c", "critical", "", "critical range for the response time in seconds")
	return func() (checkscript.Check, error) {
		return c.build(warn, crit, expected)
	}
}

// dnsCheck queries a DNS server directly with miekg/dns, as check_dns does
// through nslookup: no search list is applied, the name is taken as absolute.
//
// check_dns prints "DNS OK: 0.022 seconds …" on success but "DNS CRITICAL - …"
// otherwise; Result.String prints "DNS OK - …" so that every probe's line has
// the same shape. The text after the separator is check_dns's.
type dnsCheck struct {
	name       string
	server     string // as given with -s; empty: resolv.conf
	resolvConf string
	expected   []string // canonical, sorted, unique; empty: any answer
	thresholds checkscript.Thresholds
}

// dnsAnswer is what one lookup of the name returned.
type dnsAnswer struct {
	server  string   // the server that answered, as it is displayed
	rcode   int      // the worst response code among the queries
	records []string // canonical, sorted, unique
	elapsed time.Duration
}

// dnsAttempt caps one query attempt, so that a lost UDP datagram is retried
// within the -t budget, as the stub resolver does.
const dnsAttempt = 2 * time.Second

// dnsRounds is how many times every server is tried, as resolv.conf's
// "attempts" (the C library's default is 2; one more costs nothing here).
const dnsRounds = 3

func (c *dnsCheck) build(warn, crit string, expected []string) (checkscript.Check, error) {
	c.name = strings.TrimSpace(c.name)
	if c.name == "" {
		return nil, errors.New("-H NAME is required")
	}
	if _, err := netip.ParseAddr(c.name); err != nil {
		if _, ok := dns.IsDomainName(c.name); !ok {
			return nil, fmt.Errorf("-H %q is neither a domain name nor an address", c.name)
		}
	}
	if c.server != "" {
		if _, err := dnsServerAddr(c.server); err != nil {
			return nil, fmt.Errorf("-s: %w", err)
		}
	}
	for _, e := range expected {
		for _, a := range strings.Split(e, ",") {
			if a = strings.TrimSpace(a); a == "" {
				return nil, fmt.Errorf("-a %q: empty address", e)
			}
			c.expected = append(c.expected, canonicalRecord(a))
		}
	}
	c.expected = sortedUnique(c.expected)
	t, err := checkscript.ParseThresholds(warn, crit)
	if err != nil {
		return nil, err
	}
	c.thresholds = t
	return c, nil
}

// dnsServerAddr turns "host", "host:port", "v6addr" or "[v6addr]:port" into a
// dialable host:port, port 53 by default.
func dnsServerAddr(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return "", errors.New("empty server")
	}
	if a, err := netip.ParseAddr(s); err == nil { // bare IPv4 or IPv6
		return net.JoinHostPort(a.String(), "53"), nil
	}
	host, port, err := net.SplitHostPort(s)
	if err != nil {
		host, port = s, "53"
	}
	if p, perr := netip.ParseAddrPort(net.JoinHostPort(host, port)); perr == nil && p.Port() != 0 {
		return p.String(), nil
	}
	if !isHostname(host) || !validPort(port) {
		return "", fmt.Errorf("%q is not a host or host:port", s)
	}
	return net.JoinHostPort(host, port), nil
}

// isHostname accepts the letters, digits, '-', '_' and '.' of host names.
func isHostname(h string) bool {
	if h == "" || len(h) > 253 {
		return false
	}
	for _, r := range h {
		if !(r == '-' || r == '_' || r == '.' || r >= '0' && r <= '9' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') {
			return false
		}
	}
	return true
}

func validPort(p string) bool {
	_, err := netip.ParseAddrPort("0.0.0.0:" + p)
	return err == nil && p != "0"
}

// canonicalRecord writes addresses in their canonical form and names
// without the root dot, so that "::0001" and "::1" compare equal.
func canonicalRecord(s string) string {
	if a, err := netip.ParseAddr(s); err == nil {
		return a.Unmap().String()
	}
	return strings.ToLower(strings.TrimSuffix(s, "."))
}

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

// Run looks the name up and evaluates the answer.
func (c *dnsCheck) Run(ctx context.Context) checkscript.Result {
	servers, display := c.servers()
	ans, err := c.lookup(ctx, servers, display)
	if err != nil {
		return dnsResult(checkscript.Critical, err.Error(), nil)
	}
	return evaluateDNS(c.name, ans, c.expected, c.thresholds)
}

// servers returns the addresses to ask and how to name them in messages.
func (c *dnsCheck) servers() ([]string, []string) {
	if c.server != "" {
		a, _ := dnsServerAddr(c.server) // validated by build
		return []string{a}, []string{c.server}
	}
	return resolvConfServers(c.resolvConf)
}

// resolvConfServers reads the nameservers of a resolv.conf; like the C
// library it falls back to 127.0.0.1 when there is none.
func resolvConfServers(path string) (addrs, display []string) {
	cfg, err := dns.ClientConfigFromFile(path)
	if err != nil || len(cfg.Servers) == 0 {
		return []string{"127.0.0.1:53"}, []string{"127.0.0.1"}
	}
	for _, s := range cfg.Servers {
		addrs = append(addrs, net.JoinHostPort(s, cfg.Port))
		display = append(display, s)
	}
	return addrs, display
}

// lookup queries A and AAAA (PTR for an address), trying each server in
// turn for dnsRounds rounds until one answers or the context ends. A server given by name is
// resolved with the system resolver first.
func (c *dnsCheck) lookup(ctx context.Context, servers, display []string) (dnsAnswer, error) {
	qname, qtypes := dns.Fqdn(c.name), []uint16{dns.TypeA, dns.TypeAAAA}
	if a, err := netip.ParseAddr(c.name); err == nil {
		qname, _ = dns.ReverseAddr(a.String())
		qtypes = []uint16{dns.TypePTR}
	}
	noResponse := fmt.Errorf("No response from DNS %s", strings.Join(display, ","))
	for round := 0; round < dnsRounds && ctx.Err() == nil; round++ {
		for i, server := range servers {
			if ctx.Err() != nil {
				break
			}
			addr, err := dialableServer(ctx, server)
			if err != nil {
				return dnsAnswer{}, fmt.Errorf("DNS server %s could not be resolved: %w", display[i], err)
			}
			start := time.Now()
			ans, err := queryAll(ctx, addr, qname, qtypes)
			if err != nil {
				pause(ctx, 50*time.Millisecond) // a refusal comes back at once: do not spin
				continue
			}
			ans.server, ans.elapsed = display[i], time.Since(start)
			return ans, nil
		}
	}
	return dnsAnswer{}, noResponse
}

// pause waits d or until ctx ends.
func pause(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-ctx.Done():
	}
}

// dialableServer resolves a server given by name to one of its addresses.
func dialableServer(ctx context.Context, hostport string) (string, error) {
	host, port, _ := net.SplitHostPort(hostport)
	if _, err := netip.ParseAddr(host); err == nil {
		return hostport, nil
	}
	ips, err := net.DefaultResolver.LookupHost(ctx, host)
	if err != nil {
		return "", fmt.Errorf("lookup %s: %w", host, err)
	}
	return net.JoinHostPort(ips[0], port), nil
}

// queryAll sends one query per type concurrently; the answer holds the
// records of every type and the worst response code.
func queryAll(ctx context.Context, addr, qname string, qtypes []uint16) (dnsAnswer, error) {
	type reply struct {
		msg *dns.Msg
		err error
	}
	replies := make(chan reply, len(qtypes))
	for _, qt := range qtypes {
		go func() {
			m, err := exchange(ctx, addr, qname, qt)
			replies <- reply{m, err}
		}()
	}
	var ans dnsAnswer
	var firstErr error
	for range qtypes {
		r := <-replies
		if r.err != nil {
			firstErr = cmpOr(firstErr, r.err)
			continue
		}
		if dnsRcodeRank(r.msg.Rcode) > dnsRcodeRank(ans.rcode) {
			ans.rcode = r.msg.Rcode
		}
		for _, rr := range r.msg.Answer {
			switch v := rr.(type) {
			case *dns.A:
				ans.records = append(ans.records, canonicalRecord(v.A.String()))
			case *dns.AAAA:
				ans.records = append(ans.records, canonicalRecord(v.AAAA.String()))
			case *dns.PTR:
				ans.records = append(ans.records, canonicalRecord(v.Ptr))
			}
		}
	}
	if firstErr != nil {
		return dnsAnswer{}, firstErr
	}
	ans.records = sortedUnique(ans.records)
	return ans, nil
}

func cmpOr(a, b error) error {
	if a != nil {
		return a
	}
	return b
}

// dnsRcodeRank orders response codes so that NXDOMAIN wins over any other
// failure, which wins over success.
func dnsRcodeRank(rcode int) int {
	switch rcode {
	case dns.RcodeSuccess:
		return 0
	case dns.RcodeNameError:
		return 2
	default:
		return 1
	}
}

// exchange sends one query over UDP, repeating it over TCP when the answer
// was truncated.
func exchange(ctx context.Context, addr, qname string, qtype uint16) (*dns.Msg, error) {
	m := new(dns.Msg)
	m.SetQuestion(qname, qtype)
	m.SetEdns0(1232, false)
	for _, network := range []string{"udp", "tcp"} {
		cl := &dns.Client{Net: network, Timeout: dnsAttempt}
		r, _, err := cl.ExchangeContext(ctx, m, addr)
		if err != nil {
			return nil, fmt.Errorf("%s query to %s: %w", network, addr, err)
		}
		if !r.Truncated {
			return r, nil
		}
	}
	return nil, fmt.Errorf("answer from %s truncated even over TCP", addr)
}

// evaluateDNS turns an answer into check_dns's verdict: failures of the
// server first, then the expected set, then the response time thresholds.
func evaluateDNS(name string, ans dnsAnswer, expected []string, t checkscript.Thresholds) checkscript.Result {
	switch ans.rcode {
	case dns.RcodeSuccess:
	case dns.RcodeNameError:
		return dnsResult(checkscript.Critical, fmt.Sprintf("Domain '%s' was not found by the server", name), nil)
	case dns.RcodeRefused:
		return dnsResult(checkscript.Critical, fmt.Sprintf("Query was refused by DNS server at %s", ans.server), nil)
	default:
		return dnsResult(checkscript.Critical, fmt.Sprintf("DNS failure for %s: %s", ans.server, dnsRcodeName(ans.rcode)), nil)
	}
	if len(ans.records) == 0 {
		return dnsResult(checkscript.Critical, fmt.Sprintf("DNS %s has no records for '%s'", ans.server, name), nil)
	}
	got := strings.Join(ans.records, ",")
	if len(expected) > 0 && !slices.Equal(expected, ans.records) {
		return dnsResult(checkscript.Critical, fmt.Sprintf("expected '%s' but got '%s'", strings.Join(expected, ","), got), nil)
	}
	secs := ans.elapsed.Round(time.Microsecond).Seconds()
	unit := "seconds" // check_dns picks the plural from the whole seconds
	if int(secs) == 1 {
		unit = "second"
	}
	return dnsResult(t.Evaluate(secs), fmt.Sprintf("%.3f %s response time. %s returns %s", secs, unit, name, got),
		[]checkscript.Perfdata{{Label: "time", Value: secs, UOM: "s", Warn: t.WarnText(), Crit: t.CritText(), Min: "0.000000"}})
}

func dnsRcodeName(rcode int) string {
	if s, ok := dns.RcodeToString[rcode]; ok {
		return s
	}
	return fmt.Sprintf("RCODE%d", rcode)
}

func dnsResult(s checkscript.Status, summary string, pd []checkscript.Perfdata) checkscript.Result {
	return checkscript.Result{Label: "DNS", Status: s, Summary: summary, Perfdata: pd}
}

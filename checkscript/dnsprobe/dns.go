package dnsprobe

import (
	"errors"
	"flag"
	"fmt"
	"net"
	"net/netip"
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
	Summary: "A name resolves (A and AAAA, or PTR for an address), optionally to an expected address or CIDR range, or not at all (-n), like check_dns.",
	Define: func(fs *flag.FlagSet) func() (checkscript.Check, error) {
		return dnsFlags(fs, &dnsCheck{resolvConf: "/etc/resolv.conf"})
	},
	Syntax: checkscript.ArgSyntax{NeedArgs: checkscript.NoArguments},
}

// dnsFlags declares the flags of the dns probe on fs, parsed into c, which
// holds the probe's inputs: check_dns's, and its operands NAME [SERVER].
func dnsFlags(fs *flag.FlagSet, c *dnsCheck) func() (checkscript.Check, error) {
	var warn, crit string
	var expected, operands []string
	checkscript.StringFlag(fs, &c.name, "H", "hostname", "", "name to look up (required); an address is looked up as PTR")
	checkscript.StringFlag(fs, &c.server, "s", "server", "", "DNS server as host or host:port (default: the nameservers of /etc/resolv.conf)")
	fs.String("r", "", "accepted, as check_dns does; changes nothing")
	checkscript.Alias(fs, "r", "reverse-server")
	checkscript.ListVar(fs, &expected, "a", "expected-address", "expected address, CIDR range (IPv4) or name, repeatable or comma-separated: one must be in the answer (every one, and nothing else, with -L)")
	checkscript.BoolFlag(fs, &c.expectNX, "n", "expect-nxdomain", "the name must not exist (NXDOMAIN)")
	checkscript.BoolFlag(fs, &c.expectAuthority, "A", "expect-authority", "the server must answer with authority")
	checkscript.BoolFlag(fs, &c.all, "L", "all", "every -a must be in the answer, and every address of the answer in -a")
	checkscript.StringFlag(fs, &warn, "w", "warning", "", "warning range for the response time in seconds")
	checkscript.StringFlag(fs, &crit, "c", "critical", "", "critical range for the response time in seconds")
	fs.BoolFunc("v", "accepted, as check_dns does; prints nothing more", func(string) error { return nil })
	checkscript.Alias(fs, "v", "verbose")
	checkscript.Operands(fs, "[NAME [SERVER]]", func(s string) error { operands = append(operands, s); return nil })
	return func() (checkscript.Check, error) {
		if c.name == "" && len(operands) > 0 {
			c.name, operands = operands[0], operands[1:]
		}
		if c.server == "" && len(operands) > 0 {
			c.server = operands[0]
		}
		return c.build(warn, crit, expected)
	}
}

// dnsCheck queries a DNS server directly with miekg/dns, as check_dns does
// through nslookup: no search list is applied, the name is taken as absolute.
type dnsCheck struct {
	name            string
	server          string // as given with -s; empty: resolv.conf
	resolvConf      string
	expected        []string // as given, split at commas; empty: any answer
	expectNX        bool
	expectAuthority bool
	all             bool
	thresholds      checkscript.Thresholds
}

// dnsAnswer is what one lookup of the name returned.
type dnsAnswer struct {
	server        string   // the server that answered, as it is displayed
	rcode         int      // the worst response code among the queries
	records       []string // sorted as check_dns sorts them (by text), unique
	authoritative bool     // every answer carried the AA bit
	elapsed       time.Duration
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
		return nil, errors.New("missing --host argument")
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
		c.expected = append(c.expected, strings.Split(e, ",")...)
	}
	if len(c.expected) > 0 && c.expectNX {
		return nil, errors.New("--expected-address and --expect-nxdomain cannot be combined")
	}
	t, err := checkscript.ParsePluginThresholds(warn, crit)
	if err != nil {
		return nil, errors.Unwrap(err)
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

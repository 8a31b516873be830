package dnsprobe

import (
	"fmt"
	"net/netip"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/zextras/carbonio-health/checkscript"
)

// evaluate is check_dns's verdict on one answer: a failure of the server
// first, then NXDOMAIN (expected with -n, else CRITICAL), the expected
// addresses (-a, -L), the authority (-A), and last the response time
// against -w/-c. The line is check_dns's ("DNS OK: 0.022 seconds response
// time. x returns …"); the steady form keeps the name, what was expected of
// it and the thresholds crossed, not the time nor the answer's addresses
// (a name behind a pool answers other addresses from one run to the next).
func (c *dnsCheck) evaluate(ans dnsAnswer) checkscript.Result {
	nx := ans.rcode == dns.RcodeNameError || (ans.rcode == dns.RcodeSuccess && len(ans.records) == 0)
	switch {
	case ans.rcode == dns.RcodeRefused:
		return dnsResult(checkscript.Critical, fmt.Sprintf("Query was refused by DNS server at %s", ans.server), nil)
	case ans.rcode != dns.RcodeSuccess && ans.rcode != dns.RcodeNameError:
		return dnsResult(checkscript.Critical, fmt.Sprintf("DNS failure for %s: %s", ans.server, dnsRcodeName(ans.rcode)), nil)
	case nx && !c.expectNX:
		return dnsResult(checkscript.Critical, fmt.Sprintf("Domain '%s' was not found by the server", c.name), nil)
	}
	got := strings.Join(ans.records, ",")
	steady := c.name + " resolves"
	switch {
	case c.expectNX && !nx:
		return dnsResult(checkscript.Critical, fmt.Sprintf("Domain '%s' was found by the server: '%s'", c.name, got), nil)
	case c.expectNX:
		got, steady = "NXDOMAIN", c.name+" does not exist, as expected"
	case len(c.expected) > 0:
		if !matchExpected(ans.records, c.expected, c.all) {
			return dnsResult(checkscript.Critical, fmt.Sprintf("expected '%s' but got '%s'", strings.Join(c.expected, "; "), got), nil)
		}
		steady = fmt.Sprintf("%s returns the expected '%s'", c.name, strings.Join(c.expected, "; "))
	}
	if c.expectAuthority && !ans.authoritative {
		return dnsResult(checkscript.Critical, fmt.Sprintf("server %s is not authoritative for %s", c.server, c.name), nil)
	}
	secs := ans.elapsed.Round(time.Microsecond).Seconds()
	unit := "seconds" // check_dns picks the plural from the whole seconds
	if int(secs) == 1 {
		unit = "second"
	}
	pd := checkscript.Perfdata{Label: "time", Value: secs, UOM: "s", Format: "%f", Min: checkscript.CFloat(0)}
	if r := c.thresholds.Warn; r != nil {
		pd.Warn = checkscript.CFloat(r.End)
	}
	if r := c.thresholds.Crit; r != nil {
		pd.Crit = checkscript.CFloat(r.End)
	}
	res := dnsResult(c.thresholds.Evaluate(secs), fmt.Sprintf("%.3f %s response time. %s returns %s", secs, unit, c.name, got), []checkscript.Perfdata{pd})
	res.Colon = true
	res.Steady = steady
	if why, ok := c.thresholds.Breach(secs, "s"); ok {
		res.Steady += ": response time " + why
	}
	return res
}

// matchExpected is check_dns's test of the answer against -a: some
// expected value equals an answer, or is an IPv4 CIDR range holding one;
// with all (-L), every expected value matches an answer and every answer
// is matched.
func matchExpected(answers, expected []string, all bool) bool {
	matchedAnswer := make([]bool, len(answers))
	any, every := false, true
	for _, e := range expected {
		hit := false
		for j, a := range answers {
			if a == e || inCIDR(a, e) {
				hit, matchedAnswer[j] = true, true
			}
		}
		any, every = any || hit, every && hit
	}
	if !all {
		return any
	}
	for _, m := range matchedAnswer {
		every = every && m
	}
	return every
}

// inCIDR reports whether addr is an IPv4 address inside the IPv4 range
// cidr ("130.133.8.41/30": host bits may be set, as check_dns masks them).
func inCIDR(addr, cidr string) bool {
	p, err := netip.ParsePrefix(cidr)
	a, aerr := netip.ParseAddr(addr)
	if err != nil || aerr != nil || !p.Addr().Is4() || !a.Is4() {
		return false
	}
	return p.Masked().Contains(a)
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

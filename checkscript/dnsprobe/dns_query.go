package dnsprobe

import (
	"context"
	"fmt"
	"net"
	"net/netip"
	"slices"
	"strings"
	"time"

	"github.com/miekg/dns"
	"github.com/zextras/carbonio-health/checkscript"
)

// Run looks the name up and evaluates the answer.
func (c *dnsCheck) Run(ctx context.Context) checkscript.Result {
	servers, display := c.servers()
	ans, err := c.lookup(ctx, servers, display)
	if err != nil {
		return dnsResult(checkscript.Critical, err.Error(), nil)
	}
	return c.evaluate(ans)
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
	ans := dnsAnswer{authoritative: true}
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
		ans.authoritative = ans.authoritative && r.msg.Authoritative
		for _, rr := range r.msg.Answer {
			switch v := rr.(type) {
			case *dns.A:
				ans.records = append(ans.records, v.A.String())
			case *dns.AAAA:
				ans.records = append(ans.records, v.AAAA.String())
			case *dns.PTR:
				ans.records = append(ans.records, v.Ptr) // "name." as nslookup prints it
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

func sortedUnique(s []string) []string {
	slices.Sort(s)
	return slices.Compact(s)
}

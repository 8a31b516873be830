package pingprobe

import (
	"bufio"
	"context"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net"
	"os"
	"sort"
	"strconv"
	"strings"

	"github.com/zextras/carbonio-health/checkscript"
)

// Where the ping probe's targets come from besides -H, and how their
// results make one answer. The Consul servers the local agent knows
// (--peers) and the default gateway (--gateway) are looked up when the probe
// runs, so the declaration stays static while the cluster changes, and
// nothing flows back from the agent into the desired state.

// pingTarget is one host to ping and where it came from.
type pingTarget struct {
	host   string // address or name, as pinged
	source string // "" for -H, else "consul server" or "gateway"
}

// name is how the output names the target.
func (t pingTarget) name() string {
	if t.source == "" {
		return t.host
	}
	return t.source + " " + t.host
}

// targets returns the hosts to ping: -H as given, then the Consul servers
// (sorted), then the default gateways, each once. problems say which source
// could not be read; the others are still pinged.
func (c *pingCheck) targets(ctx context.Context) ([]pingTarget, []string) {
	var out []pingTarget
	var problems []string
	seen := map[string]bool{}
	add := func(host, source string) {
		if !seen[host] {
			seen[host] = true
			out = append(out, pingTarget{host: host, source: source})
		}
	}
	for _, h := range c.hosts {
		add(h, "")
	}
	if c.peers {
		peers, err := c.consul.Peers(ctx)
		if err != nil {
			problems = append(problems, fmt.Sprintf("cannot list the Consul servers from %s: %s", c.consul.Where(), checkscript.ErrText(err)))
		}
		own, err := ownAddresses()
		if err != nil {
			problems = append(problems, fmt.Sprintf("cannot list this node's addresses: %s", checkscript.ErrText(err)))
		}
		for _, h := range peerHosts(peers, own) {
			add(h, "consul server")
		}
	}
	if c.gateway {
		gws, err := defaultGateways()
		if err != nil {
			problems = append(problems, fmt.Sprintf("cannot read the default gateway: %s", checkscript.ErrText(err)))
		}
		for _, h := range gws {
			add(h, "gateway")
		}
	}
	return out, problems
}

// combinePing joins the results of several targets into one line: the
// worst state; each target named with check_ping's own text and any source
// of targets that could not be read (UNKNOWN), the worst first; perfdata
// rta_<host> and pl_<host> in check_ping's form.
func combinePing(targets []pingTarget, results []checkscript.Result, problems []string) checkscript.Result {
	if len(targets) == 0 {
		why := "no target to ping"
		if len(problems) > 0 {
			why += ": " + strings.Join(problems, "; ")
		} else {
			why += ": no -H, no Consul server but this node, and no default gateway"
		}
		return pingResult(checkscript.Unknown, why, nil)
	}
	type part struct {
		status       checkscript.Status
		text, steady string
	}
	out := pingResult(checkscript.OK, "", nil)
	var parts []part
	for _, p := range problems {
		parts = append(parts, part{checkscript.Unknown, p, p})
	}
	for i, r := range results {
		out.Status = checkscript.Worst(out.Status, r.Status)
		steady := r.Steady
		if steady == "" {
			steady = r.Summary
		}
		parts = append(parts, part{r.Status, targets[i].name() + ": " + r.Summary, targets[i].name() + ": " + steady})
		for _, p := range r.Perfdata {
			p.Label += "_" + targets[i].host
			out.Perfdata = append(out.Perfdata, p)
		}
	}
	if len(problems) > 0 {
		out.Status = checkscript.Worst(out.Status, checkscript.Unknown)
	}
	sort.SliceStable(parts, func(i, j int) bool {
		return checkscript.Severity(parts[i].status) > checkscript.Severity(parts[j].status)
	})
	texts, steady := make([]string, len(parts)), make([]string, len(parts))
	for i, p := range parts {
		texts[i], steady[i] = p.text, p.steady
	}
	out.Summary, out.Steady = strings.Join(texts, "; "), strings.Join(steady, "; ")
	return out
}

// peerHosts strips the port from raft peer addresses (host:port) and drops
// this node's own addresses (a server is its own peer), sorted.
func peerHosts(peers []string, own map[string]bool) []string {
	var out []string
	for _, p := range peers {
		host, _, err := net.SplitHostPort(p)
		if err != nil {
			host = p
		}
		if ip := net.ParseIP(host); ip != nil && own[ip.String()] {
			continue
		}
		out = append(out, host)
	}
	sort.Strings(out)
	return out
}

// ownAddresses returns the addresses assigned to this host's interfaces
// (127.0.0.1 and ::1 among them, but not the rest of 127.0.0.0/8), in
// net.IP.String form.
func ownAddresses() (map[string]bool, error) {
	addrs, err := net.InterfaceAddrs()
	if err != nil {
		return nil, fmt.Errorf("interface addresses: %w", err)
	}
	own := map[string]bool{}
	for _, a := range addrs {
		if n, ok := a.(*net.IPNet); ok {
			own[n.IP.String()] = true
		}
	}
	return own, nil
}

// defaultGateways reads the kernel's routing tables under $HOST_PROC
// (default /proc) and returns the next hops of the IPv4 default routes;
// only on a node without one, those of the IPv6 default routes (a router
// advertisement can install an IPv6 default route on a network that does
// not use IPv6, whose router then need not answer). A missing IPv6 table
// (IPv6 disabled) is not an error.
func defaultGateways() ([]string, error) {
	v4, err := readRoutes("route", parseRoute)
	if err != nil || len(v4) > 0 {
		return v4, err
	}
	v6, err := readRoutes("ipv6_route", parseIPv6Route)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	return v6, err
}

// readRoutes parses one routing table under $HOST_PROC/net.
func readRoutes(file string, parse func(io.Reader) ([]string, error)) ([]string, error) {
	f, err := os.Open(checkscript.HostProc("net", file))
	if err != nil {
		return nil, fmt.Errorf("routing table: %w", err)
	}
	defer f.Close()
	gws, err := parse(f)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", f.Name(), err)
	}
	return gws, nil
}

// Route flags (linux/route.h).
const (
	rtfUp      = 0x1
	rtfGateway = 0x2
)

// parseRoute reads /proc/net/route: a default route has destination and
// mask 0 and the UP and GATEWAY flags; its gateway is a little-endian hex
// IPv4 address.
func parseRoute(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for first := true; sc.Scan(); first = false {
		f := strings.Fields(sc.Text())
		if first || len(f) < 8 {
			continue // the header, or a line too short to be a route
		}
		flags, err1 := strconv.ParseUint(f[3], 16, 32)
		gw, err2 := strconv.ParseUint(f[2], 16, 32)
		if err1 != nil || err2 != nil {
			return nil, fmt.Errorf("malformed route line %q", sc.Text())
		}
		if f[1] != "00000000" || f[7] != "00000000" || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || gw == 0 {
			continue
		}
		out = append(out, net.IPv4(byte(gw), byte(gw>>8), byte(gw>>16), byte(gw>>24)).String())
	}
	return out, sc.Err()
}

// parseIPv6Route reads /proc/net/ipv6_route: destination, prefix length,
// source, source prefix length, next hop, metric, refcount, use, flags,
// device. A link-local next hop is given with its interface as zone.
func parseIPv6Route(r io.Reader) ([]string, error) {
	var out []string
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 10 {
			continue
		}
		flags, err := strconv.ParseUint(f[8], 16, 32)
		hop, herr := hex.DecodeString(f[4])
		if err != nil || herr != nil || len(hop) != net.IPv6len {
			return nil, fmt.Errorf("malformed route line %q", sc.Text())
		}
		ip := net.IP(hop)
		if f[0] != strings.Repeat("0", 32) || f[1] != "00" || flags&(rtfUp|rtfGateway) != rtfUp|rtfGateway || ip.IsUnspecified() {
			continue
		}
		s := ip.String()
		if ip.IsLinkLocalUnicast() {
			s += "%" + f[9]
		}
		out = append(out, s)
	}
	return out, sc.Err()
}

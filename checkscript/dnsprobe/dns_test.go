package dnsprobe

import (
	"context"
	"flag"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/zextras/carbonio-health/checkscript"
)

// probes holds the probe under test, as allprobes.Registry holds it.
var probes = checkscript.Registry{"dns": Probe}

// startDNS serves a small test zone on addr ("127.0.0.1:0" for a random
// port) over UDP and, on the same port, TCP. It returns the bound address.
func startDNS(t *testing.T, addr string) string {
	t.Helper()
	pc, err := net.ListenPacket("udp", addr)
	if err != nil {
		t.Skipf("cannot listen on udp %s: %v", addr, err)
	}
	release := make(chan struct{}) // ends slow answers at cleanup
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		rr := func(s string) {
			x, err := dns.NewRR(s)
			if err != nil {
				panic(err)
			}
			if x.Header().Rrtype == q.Qtype || x.Header().Rrtype == dns.TypeCNAME {
				m.Answer = append(m.Answer, x)
			}
		}
		switch strings.ToLower(q.Name) {
		case "www.example.test.":
			rr("www.example.test. 60 IN A 192.0.2.11")
			rr("www.example.test. 60 IN A 192.0.2.10")
		case "dual.example.test.":
			rr("dual.example.test. 60 IN A 192.0.2.1")
			rr("dual.example.test. 60 IN AAAA 2001:db8::1")
		case "alias.example.test.":
			rr("alias.example.test. 60 IN CNAME www.example.test.")
			rr("www.example.test. 60 IN A 192.0.2.10")
		case "big.example.test.":
			if w.LocalAddr().Network() == "udp" {
				m.Truncated = true
			} else {
				rr("big.example.test. 60 IN A 192.0.2.20")
			}
		case "10.2.0.192.in-addr.arpa.":
			rr("10.2.0.192.in-addr.arpa. 60 IN PTR www.example.test.")
		case "empty.example.test.":
		case "fail.example.test.":
			m.Rcode = dns.RcodeServerFailure
		case "refused.example.test.":
			m.Rcode = dns.RcodeRefused
		case "slow.example.test.":
			select {
			case <-release:
			case <-time.After(5 * time.Second):
			}
			rr("slow.example.test. 60 IN A 192.0.2.30")
		default:
			m.Rcode = dns.RcodeNameError
		}
		_ = w.WriteMsg(m)
	})
	servers := []*dns.Server{serve(t, &dns.Server{PacketConn: pc, Handler: handler})}
	if ln, err := net.Listen("tcp", pc.LocalAddr().String()); err == nil {
		servers = append(servers, serve(t, &dns.Server{Listener: ln, Handler: handler}))
	}
	t.Cleanup(func() {
		close(release)
		for _, s := range servers {
			_ = s.Shutdown()
		}
	})
	return pc.LocalAddr().String()
}

func serve(t *testing.T, s *dns.Server) *dns.Server {
	started := make(chan struct{})
	s.NotifyStartedFunc = func() { close(started) }
	go func() { _ = s.ActivateAndServe() }()
	select {
	case <-started:
	case <-time.After(5 * time.Second):
		t.Fatal("test DNS server did not start")
	}
	return s
}

// closedUDPPort returns a loopback address nothing listens on.
func closedUDPPort(t *testing.T) string {
	pc, err := net.ListenPacket("udp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := pc.LocalAddr().String()
	pc.Close()
	return addr
}

func TestDNSAgainstServer(t *testing.T) {
	srv := startDNS(t, "127.0.0.1:0")
	dead := closedUDPPort(t)
	okLine := func(name, records, perf string) *regexp.Regexp {
		return regexp.MustCompile(`^DNS OK: \d\.\d{3} seconds response time\. ` + regexp.QuoteMeta(name+" returns "+records) +
			`\|time=[0-9.]+s;` + regexp.QuoteMeta(perf) + `$`)
	}
	tests := []struct {
		name   string
		args   []string
		want   string         // exact line, or
		wantRe *regexp.Regexp // a pattern when the line holds a time
		status checkscript.Status
	}{
		{name: "answers sorted", args: []string{"-H", "www.example.test"}, status: checkscript.OK,
			wantRe: okLine("www.example.test", "192.0.2.10,192.0.2.11", ";;0.000000")},
		{name: "expected in any order", args: []string{"-H", "www.example.test", "-a", "192.0.2.11,192.0.2.10"}, status: checkscript.OK,
			wantRe: okLine("www.example.test", "192.0.2.10,192.0.2.11", ";;0.000000")},
		{name: "expected repeated", args: []string{"-H", "www.example.test", "-a", "192.0.2.11", "--expected-address", "192.0.2.10"}, status: checkscript.OK,
			wantRe: okLine("www.example.test", "192.0.2.10,192.0.2.11", ";;0.000000")},
		{name: "mismatch", args: []string{"-H", "www.example.test", "-a", "192.0.2.99"}, status: checkscript.Critical,
			want: "DNS CRITICAL - expected '192.0.2.99' but got '192.0.2.10,192.0.2.11'"},
		{name: "one of the answers is enough", args: []string{"-H", "www.example.test", "-a", "192.0.2.10"}, status: checkscript.OK,
			wantRe: okLine("www.example.test", "192.0.2.10,192.0.2.11", ";;0.000000")},
		{name: "-L: all of them", args: []string{"-H", "www.example.test", "-a", "192.0.2.10", "-L"}, status: checkscript.Critical,
			want: "DNS CRITICAL - expected '192.0.2.10' but got '192.0.2.10,192.0.2.11'"},
		{name: "-L: all of them, and only them", args: []string{"-H", "www.example.test", "-a", "192.0.2.11", "-a", "192.0.2.10", "-L"}, status: checkscript.OK,
			wantRe: okLine("www.example.test", "192.0.2.10,192.0.2.11", ";;0.000000")},
		{name: "CIDR", args: []string{"-H", "www.example.test", "-a", "192.0.2.9/30"}, status: checkscript.OK,
			wantRe: okLine("www.example.test", "192.0.2.10,192.0.2.11", ";;0.000000")},
		{name: "CIDR mismatch", args: []string{"-H", "www.example.test", "-a", "192.0.2.13/30", "-a", "192.0.2.99"}, status: checkscript.Critical,
			want: "DNS CRITICAL - expected '192.0.2.13/30; 192.0.2.99' but got '192.0.2.10,192.0.2.11'"},
		{name: "A and AAAA", args: []string{"-H", "dual.example.test", "-a", "2001:db8::1,192.0.2.1"}, status: checkscript.OK,
			wantRe: okLine("dual.example.test", "192.0.2.1,2001:db8::1", ";;0.000000")},
		{name: "through a CNAME", args: []string{"-H", "alias.example.test"}, status: checkscript.OK,
			wantRe: okLine("alias.example.test", "192.0.2.10", ";;0.000000")},
		{name: "truncated over UDP, retried over TCP", args: []string{"-H", "big.example.test"}, status: checkscript.OK,
			wantRe: okLine("big.example.test", "192.0.2.20", ";;0.000000")},
		{name: "PTR for an address", args: []string{"-H", "192.0.2.10"}, status: checkscript.OK,
			wantRe: okLine("192.0.2.10", "www.example.test.", ";;0.000000")},
		{name: "expected NXDOMAIN", args: []string{"-H", "nx.example.test", "-n"}, status: checkscript.OK,
			wantRe: okLine("nx.example.test", "NXDOMAIN", ";;0.000000")},
		{name: "unexpected answer", args: []string{"-H", "www.example.test", "-n"}, status: checkscript.Critical,
			want: "DNS CRITICAL - Domain 'www.example.test' was found by the server: '192.0.2.10,192.0.2.11'"},
		{name: "not authoritative", args: []string{"-H", "www.example.test", "-A"}, status: checkscript.Critical,
			want: "DNS CRITICAL - server " + srv + " is not authoritative for www.example.test"},
		{name: "critical time range", args: []string{"-H", "www.example.test", "-w", "5", "-c", "0"}, status: checkscript.Critical,
			wantRe: regexp.MustCompile(`^DNS CRITICAL: \d\.\d{3} seconds response time\. www\.example\.test returns 192\.0\.2\.10,192\.0\.2\.11\|time=[0-9.]+s;5\.000000;0\.000000;0\.000000$`)},
		{name: "warning time range", args: []string{"-H", "www.example.test", "-w", "@0:10", "-c", "10"}, status: checkscript.Warning,
			wantRe: regexp.MustCompile(`^DNS WARNING: .*\|time=[0-9.]+s;10\.000000;10\.000000;0\.000000$`)},
		{name: "NXDOMAIN", args: []string{"-H", "nx.example.test"}, status: checkscript.Critical,
			want: "DNS CRITICAL - Domain 'nx.example.test' was not found by the server"},
		{name: "SERVFAIL", args: []string{"-H", "fail.example.test"}, status: checkscript.Critical,
			want: "DNS CRITICAL - DNS failure for " + srv + ": SERVFAIL"},
		{name: "REFUSED", args: []string{"-H", "refused.example.test"}, status: checkscript.Critical,
			want: "DNS CRITICAL - Query was refused by DNS server at " + srv},
		{name: "no records", args: []string{"-H", "empty.example.test"}, status: checkscript.Critical,
			want: "DNS CRITICAL - Domain 'empty.example.test' was not found by the server"},
		{name: "slow answer beyond timeout", args: []string{"-H", "slow.example.test", "-t", "300ms"}, status: checkscript.Critical,
			want: "DNS CRITICAL - No response from DNS " + srv},
		{name: "closed port", args: []string{"-H", "www.example.test", "-s", dead, "-t", "1"}, status: checkscript.Critical,
			want: "DNS CRITICAL - No response from DNS " + dead},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			args := tt.args
			if !slices.Contains(args, "-s") {
				args = append([]string{"-s", srv}, args...)
			}
			c, err := probes.New("dns", args)
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := c.Run(context.Background())
			if d := time.Since(start); d > checkscript.TimeoutOf(c)+500*time.Millisecond {
				t.Errorf("took %s with a %s timeout", d, checkscript.TimeoutOf(c))
			}
			line := r.String()
			if r.Status != tt.status {
				t.Errorf("status %s, want %s: %s", r.Status, tt.status, line)
			}
			if tt.wantRe != nil && !tt.wantRe.MatchString(line) {
				t.Errorf("\ngot  %s\nwant %s", line, tt.wantRe)
			}
			if tt.wantRe == nil && line != tt.want {
				t.Errorf("\ngot  %s\nwant %s", line, tt.want)
			}
		})
	}
}

// TestDNSSystemResolver points a resolv.conf at a test server on port 53
// of another loopback address (root only, as port 53 is privileged).
func TestDNSSystemResolver(t *testing.T) {
	srv := startDNS(t, "127.42.0.1:53")
	conf := filepath.Join(t.TempDir(), "resolv.conf")
	if err := os.WriteFile(conf, []byte("search example.test\nnameserver 127.42.0.1\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	withConf := func(fs *flag.FlagSet) func() (checkscript.Check, error) {
		return dnsFlags(fs, &dnsCheck{resolvConf: conf})
	}
	c := newWith(t, "dns", []string{"-H", "www.example.test", "-a", "192.0.2.10,192.0.2.11"}, withConf)
	if r := c.Run(context.Background()); r.Status != checkscript.OK {
		t.Fatalf("via %s: %s", srv, r)
	}
	c = newWith(t, "dns", []string{"-H", "nx.example.test"}, withConf)
	if r := c.Run(context.Background()); r.String() != "DNS CRITICAL - Domain 'nx.example.test' was not found by the server" {
		t.Fatalf("got %s", r)
	}
}

func TestDNSCancelled(t *testing.T) {
	c, err := probes.New("dns", []string{"-H", "www.example.test", "-s", "127.0.0.1:1"})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if r := c.Run(ctx); r.String() != "DNS CRITICAL - No response from DNS 127.0.0.1:1" {
		t.Fatalf("got %s", r)
	}
}

func TestEvaluateDNS(t *testing.T) {
	th := func(w, c string) checkscript.Thresholds {
		x, err := checkscript.ParsePluginThresholds(w, c)
		if err != nil {
			t.Fatal(err)
		}
		return x
	}
	recs := []string{"192.0.2.10", "192.0.2.11"}
	tests := []struct {
		name     string
		ans      dnsAnswer
		expected []string
		t        checkscript.Thresholds
		want     string
	}{
		{"ok", dnsAnswer{server: "127.0.0.1", records: recs, elapsed: 22479 * time.Microsecond}, nil, checkscript.Thresholds{},
			"DNS OK: 0.022 seconds response time. www.example.test returns 192.0.2.10,192.0.2.11|time=0.022479s;;;0.000000"},
		{"singular second", dnsAnswer{records: recs, elapsed: 1500 * time.Millisecond}, nil, th("1", "2"),
			"DNS WARNING: 1.500 second response time. www.example.test returns 192.0.2.10,192.0.2.11|time=1.500000s;1.000000;2.000000;0.000000"},
		{"critical", dnsAnswer{records: recs, elapsed: 3 * time.Second}, nil, th("1", "2"),
			"DNS CRITICAL: 3.000 seconds response time. www.example.test returns 192.0.2.10,192.0.2.11|time=3.000000s;1.000000;2.000000;0.000000"},
		{"expected matches", dnsAnswer{records: recs, elapsed: time.Millisecond}, recs, checkscript.Thresholds{},
			"DNS OK: 0.001 seconds response time. www.example.test returns 192.0.2.10,192.0.2.11|time=0.001000s;;;0.000000"},
		{"mismatch before time", dnsAnswer{records: recs, elapsed: 3 * time.Second}, []string{"192.0.2.99"}, th("1", "2"),
			"DNS CRITICAL - expected '192.0.2.99' but got '192.0.2.10,192.0.2.11'"},
		{"nxdomain", dnsAnswer{rcode: dns.RcodeNameError}, nil, checkscript.Thresholds{},
			"DNS CRITICAL - Domain 'www.example.test' was not found by the server"},
		{"servfail", dnsAnswer{server: "127.0.0.2", rcode: dns.RcodeServerFailure}, nil, checkscript.Thresholds{},
			"DNS CRITICAL - DNS failure for 127.0.0.2: SERVFAIL"},
		{"odd rcode", dnsAnswer{server: "127.0.0.2", rcode: 4000}, nil, checkscript.Thresholds{},
			"DNS CRITICAL - DNS failure for 127.0.0.2: RCODE4000"},
		{"refused", dnsAnswer{server: "127.0.0.2", rcode: dns.RcodeRefused}, nil, checkscript.Thresholds{},
			"DNS CRITICAL - Query was refused by DNS server at 127.0.0.2"},
		{"no records", dnsAnswer{server: "127.0.0.2"}, nil, checkscript.Thresholds{},
			"DNS CRITICAL - Domain 'www.example.test' was not found by the server"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := &dnsCheck{name: "www.example.test", expected: tt.expected, thresholds: tt.t}
			if got := c.evaluate(tt.ans).String(); got != tt.want {
				t.Errorf("\ngot  %s\nwant %s", got, tt.want)
			}
		})
	}
}

func TestMatchExpected(t *testing.T) {
	answers := []string{"130.133.8.40", "2001:db8::1"}
	tests := []struct {
		expected []string
		all      bool
		want     bool
	}{
		{[]string{"130.133.8.40"}, false, true},
		{[]string{"130.133.8.41/30"}, false, true}, // host bits set, as the suite writes it
		{[]string{"130.133.8.39/30"}, false, false},
		{[]string{"130.133.8.0/24", "10.0.0.1"}, false, true},
		{[]string{"130.133.8.0/24"}, true, false}, // -L: the IPv6 answer is not matched
		{[]string{"130.133.8.0/24", "2001:db8::1"}, true, true},
		{[]string{"130.133.8.0/24", "2001:db8::1", "10.0.0.1"}, true, false},
		{[]string{"2001:db8::/32"}, false, false}, // check_dns matches IPv4 ranges only
		{[]string{"130.133.8.40/x"}, false, false},
		{[]string{""}, false, false},
	}
	for _, tt := range tests {
		if got := matchExpected(answers, tt.expected, tt.all); got != tt.want {
			t.Errorf("matchExpected(%q, all %v) = %v, want %v", tt.expected, tt.all, got, tt.want)
		}
	}
}

func TestDNSServerAddr(t *testing.T) {
	tests := []struct{ in, want string }{
		{"127.0.0.2", "127.0.0.2:53"},
		{"127.0.0.2:5353", "127.0.0.2:5353"},
		{"::1", "[::1]:53"},
		{"[::1]:5353", "[::1]:5353"},
		{"ns1.example.test", "ns1.example.test:53"},
		{"ns1.example.test:54", "ns1.example.test:54"},
		{"", ""},
		{"127.0.0.2:0", ""},
		{"127.0.0.2:99999", ""},
		{"ns1.example.test:port", ""},
		{"a b", ""},
	}
	for _, tt := range tests {
		got, err := dnsServerAddr(tt.in)
		if (err != nil) != (tt.want == "") || got != tt.want {
			t.Errorf("dnsServerAddr(%q) = %q, %v; want %q", tt.in, got, err, tt.want)
		}
	}
}

func TestResolvConfServers(t *testing.T) {
	dir := t.TempDir()
	tests := []struct {
		name, conf    string
		addrs, labels []string
	}{
		{"two servers", "nameserver 10.0.0.1\nnameserver ::1\noptions ndots:2\n",
			[]string{"10.0.0.1:53", "[::1]:53"}, []string{"10.0.0.1", "::1"}},
		{"none listed", "search example.test\n", []string{"127.0.0.1:53"}, []string{"127.0.0.1"}},
		{"missing file", "", []string{"127.0.0.1:53"}, []string{"127.0.0.1"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tt.name, " ", "_"))
			if tt.conf != "" {
				if err := os.WriteFile(path, []byte(tt.conf), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			addrs, labels := resolvConfServers(path)
			if !slices.Equal(addrs, tt.addrs) || !slices.Equal(labels, tt.labels) {
				t.Errorf("got %v %v, want %v %v", addrs, labels, tt.addrs, tt.labels)
			}
		})
	}
}

func TestDNSArguments(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{args: []string{"-H", "www.example.test", "-s", "127.0.0.1:5353", "-a", "192.0.2.1", "-w", "1", "-c", "2"}},
		{args: []string{"-H", "192.0.2.1"}},
		{args: []string{"x.test", "127.0.0.1:5353", "-to", "3", "-v", "-r", "127.0.0.1", "-A", "-L", "-a", "10.0.0.0/8"}},
		{args: []string{"-H", "x.test", "-n", "-c", "abc"}},
		{args: []string{}, wantErr: "Could not parse arguments"},
		{args: []string{"-v"}, wantErr: "missing --host argument"},
		{args: []string{"-H", "bad..name"}, wantErr: "neither a domain name"},
		{args: []string{"-H", "x.test", "-s", "127.0.0.1:0"}, wantErr: "-s"},
		{args: []string{"-H", "x.test", "-a", "192.0.2.1", "-n"}, wantErr: "--expected-address and --expect-nxdomain cannot be combined"},
		{args: []string{"-H", "x.test", "-w", "2:1"}, wantErr: "Range format incorrect"},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			_, err := probes.New("dns", tt.args)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("unexpected error: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("error = %v, want it to contain %q", err, tt.wantErr)
			}
		})
	}
}

// newWith builds the probe from args like probes.New, on the check value
// that define's flags fill in (stand-in inputs).
func newWith(t *testing.T, name string, args []string, define func(fs *flag.FlagSet) func() (checkscript.Check, error)) checkscript.Check {
	t.Helper()
	c, err := probes[name].Build(define, args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

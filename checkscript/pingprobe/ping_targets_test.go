package pingprobe

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

const routeHeader = "Iface\tDestination\tGateway \tFlags\tRefCnt\tUse\tMetric\tMask\t\tMTU\tWindow\tIRTT\n"

func TestParseRoute(t *testing.T) {
	tests := []struct {
		name, table string
		want        string
		wantErr     bool
	}{
		{"default route", routeHeader + "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n" +
			"eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", "192.0.2.1", false},
		{"two default routes", routeHeader + "eth0\t00000000\t0100000A\t0003\t0\t0\t100\t00000000\t0\t0\t0\n" +
			"eth1\t00000000\t0101A8C0\t0003\t0\t0\t200\t00000000\t0\t0\t0\n", "10.0.0.1 192.168.1.1", false},
		{"no default route", routeHeader + "eth0\t000200C0\t00000000\t0001\t0\t0\t0\t00FFFFFF\t0\t0\t0\n", "", false},
		{"default route that is down", routeHeader + "eth0\t00000000\t010200C0\t0002\t0\t0\t0\t00000000\t0\t0\t0\n", "", false},
		{"default route without a gateway", routeHeader + "ppp0\t00000000\t00000000\t0001\t0\t0\t0\t00000000\t0\t0\t0\n", "", false},
		{"empty table", routeHeader, "", false},
		{"malformed", routeHeader + "eth0\t00000000\tzz\t0003\t0\t0\t0\t00000000\t0\t0\t0\n", "", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseRoute(strings.NewReader(tt.table))
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v", err)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("gateways %v, want %q", got, tt.want)
			}
		})
	}
}

func TestParseIPv6Route(t *testing.T) {
	const zero = "00000000000000000000000000000000"
	line := func(dst, plen, hop, flags, dev string) string {
		return dst + " " + plen + " " + zero + " 00 " + hop + " 00000400 00000001 00000000 " + flags + " " + dev + "\n"
	}
	tests := []struct {
		name, table, want string
	}{
		{"link-local gateway", line(zero, "00", "fe800000000000000000000000000001", "00000003", "eth0"), "fe80::1%eth0"},
		{"global gateway", line(zero, "00", "20010db8000000000000000000000001", "00000003", "eth0"), "2001:db8::1"},
		{"reject route on lo", line(zero, "00", zero, "00200200", "lo"), ""},
		{"not a default route", line("20010db8000000000000000000000000", "40", "fe800000000000000000000000000001", "00000003", "eth0"), ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := parseIPv6Route(strings.NewReader(tt.table))
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("gateways %v, want %q", got, tt.want)
			}
		})
	}
}

func TestPeerHosts(t *testing.T) {
	own := map[string]bool{"127.0.0.1": true, "::1": true, "10.0.0.5": true}
	got := peerHosts([]string{"10.0.0.7:8300", "10.0.0.5:8300", "127.0.0.1:8300", "[2001:db8::2]:8300", "10.0.0.6:8300"}, own)
	if strings.Join(got, " ") != "10.0.0.6 10.0.0.7 2001:db8::2" {
		t.Errorf("peer hosts %v", got)
	}
}

// fakeProc makes $HOST_PROC a directory whose net/route holds the given
// IPv4 routes and, unless v6 is empty, net/ipv6_route the IPv6 ones, for
// the rest of the test.
func fakeProc(t *testing.T, routes string, v6 ...string) {
	t.Helper()
	dir := t.TempDir()
	if err := os.MkdirAll(filepath.Join(dir, "net"), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "net", "route"), []byte(routeHeader+routes), 0o644); err != nil {
		t.Fatal(err)
	}
	if len(v6) > 0 {
		if err := os.WriteFile(filepath.Join(dir, "net", "ipv6_route"), []byte(strings.Join(v6, "")), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOST_PROC", dir)
}

// TestDefaultGateways: the IPv4 default gateway when there is one, else
// the IPv6 one; a node without IPv6 has no ipv6_route at all.
func TestDefaultGateways(t *testing.T) {
	const v4 = "eth0\t00000000\t010200C0\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	const v6 = "00000000000000000000000000000000 00 00000000000000000000000000000000 00 fe800000000000000000000000000001 00000400 00000001 00000000 00000003 eth0\n"
	tests := []struct {
		name, v4 string
		v6       []string
		want     string
	}{
		{"both: IPv4 only", v4, []string{v6}, "192.0.2.1"},
		{"IPv6 only", "", []string{v6}, "fe80::1%eth0"},
		{"no IPv6 table", v4, nil, "192.0.2.1"},
		{"none at all", "", nil, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeProc(t, tt.v4, tt.v6...)
			got, err := defaultGateways()
			if err != nil {
				t.Fatal(err)
			}
			if strings.Join(got, " ") != tt.want {
				t.Errorf("gateways %v, want %q", got, tt.want)
			}
		})
	}
	t.Setenv("HOST_PROC", t.TempDir())
	if _, err := defaultGateways(); err == nil || !strings.Contains(err.Error(), "routing table") {
		t.Errorf("missing route table: %v", err)
	}
}

// TestPingPeersAndGateway runs the probe against a real Consul server that
// advertises 127.0.0.2 (a stand-in peer on a loopback alias) and a routing
// table whose default gateway is 127.0.0.3: both are pinged and named.
func TestPingPeersAndGateway(t *testing.T) {
	server := consultest.Start(t, consultest.Options{ExtraHCL: "bind_addr = \"127.0.0.2\"\nadvertise_addr = \"127.0.0.2\"\n"})
	self := consultest.Start(t, consultest.Options{}) // advertises 127.0.0.1: this node's own address
	const gateway = "eth0\t00000000\t0300007F\t0003\t0\t0\t0\t00000000\t0\t0\t0\n"
	flags := []string{"-w", "100,20%", "-c", "500,60%", "-p", "2", "-i", "50ms", "-t", "5"}
	tests := []struct {
		name   string
		routes string
		args   []string
		status checkscript.Status
		want   []string // parts of the output line, in order
	}{
		{"peer and gateway", gateway, []string{"--peers", "--gateway", "--consul-addr", server.Addr}, checkscript.OK,
			[]string{"PING OK - consul server 127.0.0.2: Packet loss = 0%, RTA = ", "; gateway 127.0.0.3: Packet loss = 0%, RTA = ",
				"|rta_127.0.0.2=", "ms;100.000000;500.000000;0.000000 pl_127.0.0.2=0%;20;60;0; rta_127.0.0.3="}},
		{"a host, the peers and the gateway once each", gateway,
			[]string{"-H", "127.0.0.3", "--peers", "--gateway", "--consul-addr", server.Addr}, checkscript.OK,
			[]string{"PING OK - 127.0.0.3: Packet loss = 0%", "; consul server 127.0.0.2: Packet loss = 0%"}},
		{"this node is no peer of its own, no default route", "", []string{"--peers", "--gateway", "--consul-addr", self.Addr}, checkscript.Unknown,
			[]string{"PING UNKNOWN - no target to ping: no -H, no Consul server but this node, and no default gateway"}},
		{"agent down: the gateway is still pinged", gateway, []string{"--peers", "--gateway", "--consul-addr", "127.0.0.1:1"}, checkscript.Unknown,
			[]string{"PING UNKNOWN - cannot list the Consul servers from 127.0.0.1:1: Connection refused; gateway 127.0.0.3: Packet loss = 0%", "|rta_127.0.0.3="}},
		{"a failing target comes first", gateway, []string{"--gateway", "-H", "nowhere.invalid"}, checkscript.Unknown,
			[]string{"PING UNKNOWN - nowhere.invalid: Invalid hostname/address - nowhere.invalid", "; gateway 127.0.0.3: Packet loss = 0%"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fakeProc(t, tt.routes)
			r := runPing(t, context.Background(), append(tt.args, flags...)...)
			skipIfICMPDenied(t, r)
			line := r.String()
			if r.Status != tt.status {
				t.Errorf("status %s, want %s: %s", r.Status, tt.status, line)
			}
			rest := line
			for _, w := range tt.want {
				i := strings.Index(rest, w)
				if i < 0 {
					t.Fatalf("output lacks %q (in order):\n%s", w, line)
				}
				rest = rest[i+len(w):]
			}
		})
	}
}

func TestPingRealGateway(t *testing.T) {
	gws, err := defaultGateways()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("default gateways of this machine: %v", gws)
	for _, g := range gws {
		if strings.HasPrefix(g, "127.") || g == "::1" {
			t.Errorf("loopback gateway %s", g)
		}
	}
}

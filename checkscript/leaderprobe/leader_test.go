package leaderprobe

import (
	"context"
	"fmt"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/consulstatus"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// probes holds the probe under test, as allprobes.Registry holds it.
var probes = checkscript.Registry{"leader": Probe}

// TestLeaderLostQuorum runs the probe against a real two-server Consul
// cluster: OK naming the leader while both run, CRITICAL once one server is
// gone and the other has lost quorum (its /v1/status/leader then answers 200
// with "", which an http check takes for healthy), UNKNOWN once the agent
// itself does not answer.
func TestLeaderLostQuorum(t *testing.T) {
	// Autopilot promotes a new server to voter once it has been stable this
	// long; with the default (10 s) the test would wait for it.
	const autopilot = "autopilot { server_stabilization_time = \"1s\" }\n"
	a := consultest.Start(t, consultest.Options{ExtraHCL: autopilot})
	ca := a.Client(t, "")
	self, err := ca.Agent().Self()
	if err != nil {
		t.Fatal(err)
	}
	serf := int(self["Member"]["Port"].(float64))
	// The second server joins the first instead of bootstrapping alone (the
	// later bootstrap_expect overrides consultest's).
	b := consultest.Start(t, consultest.Options{ExtraHCL: autopilot + fmt.Sprintf(
		"bootstrap_expect = 0\nretry_join = [\"127.0.0.1:%d\"]\n", serf)})
	consultest.Eventually(t, "two raft voters", func() bool { return voters(ca) == 2 })

	probe := func() checkscript.Result {
		t.Helper()
		c, err := probes.New("leader", []string{"-H", a.Addr, "-t", "5"})
		if err != nil {
			t.Fatal(err)
		}
		return c.Run(context.Background())
	}
	leader, err := ca.Status().Leader()
	if err != nil || leader == "" {
		t.Fatalf("leader %q, %v", leader, err)
	}
	if r := probe(); r.Status != checkscript.OK || r.String() != "LEADER OK - cluster leader is "+leader {
		t.Errorf("with quorum: %s", r)
	}

	b.Stop(t) // a server does not leave on SIGINT: the cluster keeps two voters, one of them gone
	consultest.Eventually(t, "the leader lost", func() bool { l, err := ca.Status().Leader(); return err == nil && l == "" })
	r := probe()
	if r.Status != checkscript.Critical || !strings.Contains(r.String(), "LEADER CRITICAL - no cluster leader: Consul at "+a.Addr) {
		t.Errorf("without quorum: %s", r)
	}

	a.Stop(t)
	r = probe()
	if r.Status != checkscript.Unknown || !strings.Contains(r.String(), "LEADER UNKNOWN - cannot ask Consul at "+a.Addr+": Connection refused") {
		t.Errorf("agent down: %s", r)
	}
}

// voters counts the raft voters the agent's cluster has (0 on error).
func voters(c *api.Client) int {
	cfg, err := c.Operator().RaftGetConfiguration(nil)
	if err != nil {
		return 0
	}
	n := 0
	for _, s := range cfg.Servers {
		if s.Voter {
			n++
		}
	}
	return n
}

func TestLeaderArguments(t *testing.T) {
	tests := []struct {
		addr, want string
	}{
		{"", consulstatus.DefaultAddr},
		{"10.0.0.1", "10.0.0.1:8500"},
		{"10.0.0.1:8501", "10.0.0.1:8501"},
		{"::1", "[::1]:8500"},
		{"[::1]:8501", "[::1]:8501"},
		{"https://consul.example:8501", "https://consul.example:8501"},
	}
	for _, tt := range tests {
		t.Run(tt.addr, func(t *testing.T) {
			t.Setenv("CONSUL_HTTP_ADDR", "")
			if got := (consulstatus.Client{Addr: tt.addr}).Where(); got != tt.want {
				t.Errorf("where() = %q, want %q", got, tt.want)
			}
		})
	}
	if _, err := probes.New("leader", []string{"-x"}); err == nil {
		t.Error("unknown flag accepted")
	}
}

func TestNoLeaderAnswer(t *testing.T) {
	tests := []struct {
		err  error
		want bool
	}{
		{api.StatusError{Code: 500, Body: "rpc error making call: No cluster leader"}, true},
		{api.StatusError{Code: 500, Body: "No known Consul servers"}, true},
		{api.StatusError{Code: 403, Body: "Permission denied"}, false},
		{fmt.Errorf("dial: %w", context.DeadlineExceeded), false},
	}
	for _, tt := range tests {
		if got := consulstatus.Classify(tt.err) == consulstatus.NoLeader; got != tt.want {
			t.Errorf("Classify(%v) == NoLeader: %v", tt.err, got)
		}
	}
}

package main

import (
	"regexp"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/registrar"
)

func hc(node, id, svcID, svcName, status, output string) *api.HealthCheck {
	return &api.HealthCheck{Node: node, CheckID: id, Name: id, ServiceID: svcID, ServiceName: svcName, Status: status, Output: output}
}

var sample = api.HealthChecks{
	hc("n1", "serfHealth", "", "", "passing", "Agent alive and reachable"),
	hc("n1", "carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp", "carbonio-mta-smtp", "critical",
		"dial tcp 127.0.0.1:25: connect: connection refused"),
	hc("n1", "carbonio-health:all:load:load", "carbonio-health:all:load", "carbonio-all-load", "warning",
		"LOAD WARNING - total load average: 3.00, 2.00, 1.00|load1=3;2;4;0"),
	hc("n1", "carbonio-health:all:users:users", "carbonio-health:all:users", "carbonio-all-users", "passing", "USERS OK"),
	hc("n1", "web:http", "web", "carbonio-mta-smtp", "critical", "not ours, same name"),
	hc("n2", "carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp", "carbonio-mta-smtp", "passing", "ok"),
	// Someone else's service whose ID only looks like ours (no managed-by meta).
	hc("n1", "carbonio-health:mta:fake:tcp", "carbonio-health:mta:fake", "carbonio-mta-fake", "critical", "not ours, our prefix"),
}

// sampleOwned is what the services' Meta says: everything of ours but the
// foreign look-alike.
var sampleOwned = ownedSet{
	{"n1", "carbonio-health:mta:smtp"}: true, {"n1", "carbonio-health:all:load"}: true,
	{"n1", "carbonio-health:all:users"}: true, {"n2", "carbonio-health:mta:smtp"}: true,
}

func TestSelectChecks(t *testing.T) {
	tests := []struct {
		name  string
		scope statusScope
		want  []string
	}{
		{"node: owned and node-level", statusScope{node: "n1"},
			[]string{"carbonio-health:all:load:load", "carbonio-health:all:users:users", "carbonio-health:mta:smtp:tcp", "serfHealth"}},
		{"role", statusScope{node: "n1", role: "mta"}, []string{"carbonio-health:mta:smtp:tcp"}},
		{"service, never a foreign one of the same name", statusScope{service: "carbonio-mta-smtp"},
			[]string{"carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp:tcp"}},
		{"every node, owned only", statusScope{role: "mta"}, []string{"carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp:tcp"}},
		{"one check", statusScope{node: "n2", checkID: "carbonio-health:mta:smtp:tcp"}, []string{"carbonio-health:mta:smtp:tcp"}},
		{"a foreign check named like ours", statusScope{node: "n1", checkID: "carbonio-health:mta:fake:tcp"}, nil},
		{"a foreign service named like ours", statusScope{service: "carbonio-mta-fake"}, nil},
		{"nothing", statusScope{node: "n3"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var got []string
			for _, c := range selectChecks(sample, sampleOwned, tt.scope) {
				got = append(got, c.CheckID)
			}
			if strings.Join(got, " ") != strings.Join(tt.want, " ") {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
}

func TestNagiosReport(t *testing.T) {
	tests := []struct {
		name   string
		checks api.HealthChecks
		status checkscript.Status
		line   string
	}{
		{"worst wins, failing named, perfdata counts", selectChecks(sample, sampleOwned, statusScope{node: "n1"}), checkscript.Critical,
			"HEALTH CRITICAL - 1 critical, 1 warning of 4 checks on node n1: carbonio-health:all:load:load: LOAD WARNING - total load average: 3.00, 2.00, 1.00; " +
				"carbonio-health:mta:smtp:tcp: dial tcp 127.0.0.1:25: connect: connection refused|passing=2;;;0;4 warning=1;;;0;4 critical=1;;;0;4"},
		{"all passing", api.HealthChecks{sample[0], sample[3]}, checkscript.OK,
			"HEALTH OK - 2 checks passing on node n1|passing=2;;;0;2 warning=0;;;0;2 critical=0;;;0;2"},
		{"maintenance is critical", api.HealthChecks{hc("n1", "_node_maintenance", "", "", "maintenance", "")}, checkscript.Critical, ""},
		{"nothing is unknown, never OK", nil, checkscript.Unknown,
			"HEALTH UNKNOWN - no checks found for node n1 (not registered, or the token may not read them)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := nagiosReport(tt.checks, "node n1")
			if r.Status != tt.status {
				t.Errorf("status %s, want %s", r.Status, tt.status)
			}
			if tt.line != "" && r.String() != tt.line {
				t.Errorf("line\n got %s\nwant %s", r.String(), tt.line)
			}
		})
	}
}

func TestNagiosReportNamesAtMostFive(t *testing.T) {
	var checks api.HealthChecks
	for i := 0; i < 8; i++ {
		checks = append(checks, hc("n1", "c"+string(rune('a'+i)), "carbonio-health:all:x", "x", "critical", "down\nsecond line"))
	}
	r := nagiosReport(checks, "node n1")
	if !strings.Contains(r.Summary, "; and 3 more") || strings.Contains(r.Summary, "second line") {
		t.Errorf("summary %q", r.Summary)
	}
}

func TestZabbixDiscovery(t *testing.T) {
	d := zabbixDiscovery(selectChecks(sample, sampleOwned, statusScope{node: "n1", role: "mta"}))
	if len(d["data"]) != 1 { // never carbonio-health:mta:fake, a foreign service
		t.Fatalf("data = %v", d)
	}
	e := d["data"][0]
	if e["{#CHECKID}"] != "carbonio-health:mta:smtp:tcp" || e["{#ROLE}"] != "mta" || e["{#SERVICE}"] != "carbonio-mta-smtp" {
		t.Errorf("entry = %v", e)
	}
}

// TestCollapseStale: the checks of an unreachable node (serfHealth
// critical) become one critical entry, those of a node whose daemon's
// heartbeat is critical one UNKNOWN entry (its node-level checks stay).
func TestCollapseStale(t *testing.T) {
	heartbeat := func(node, status string) *api.HealthCheck {
		return hc(node, registrar.HeartbeatCheckID, registrar.HeartbeatServiceID, registrar.HeartbeatServiceName, status, "TTL expired")
	}
	checks := append(api.HealthChecks{
		heartbeat("n2", "critical"), hc("n2", "serfHealth", "", "", "passing", "Agent alive and reachable"),
		heartbeat("n3", "passing"), hc("n3", "carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp", "carbonio-mta-smtp", "passing", "ok"),
	}, sample...)
	owned := ownedSet{{"n2", registrar.HeartbeatServiceID}: true, {"n3", registrar.HeartbeatServiceID}: true, {"n3", "carbonio-health:mta:smtp"}: true}
	for k, v := range sampleOwned {
		owned[k] = v
	}
	dead := map[string]*api.HealthCheck{
		"n1": hc("n1", "serfHealth", "", "", "critical", "Agent not live or unreachable"),
		"s9": hc("s9", "serfHealth", "", "", "critical", "Agent not live or unreachable"),
	}
	tests := []struct {
		name     string
		scope    statusScope
		allNodes bool
		want     []string
	}{
		{"one dead node: its stale checks become one entry", statusScope{node: "n1"}, false, []string{"n1 serfHealth critical (3 stale)"}},
		{"one unfed node: its checks become one entry, serfHealth stays", statusScope{node: "n2"}, false,
			[]string{"n2 " + registrar.HeartbeatCheckID + " unknown (1 stale)", "n2 serfHealth passing"}},
		{"a fed node: the heartbeat is one more passing check", statusScope{node: "n3"}, false,
			[]string{"n3 " + registrar.HeartbeatCheckID + " passing", "n3 carbonio-health:mta:smtp:tcp passing"}},
		{"every node: every stale node, with checks or not", statusScope{}, true,
			[]string{"n1 serfHealth critical (3 stale)", "n2 " + registrar.HeartbeatCheckID + " unknown (1 stale)",
				"n3 " + registrar.HeartbeatCheckID + " passing", "n3 carbonio-health:mta:smtp:tcp passing", "s9 serfHealth critical (0 stale)"}},
		{"a service: only nodes in scope", statusScope{service: "carbonio-mta-smtp"}, false,
			[]string{"n1 serfHealth critical (1 stale)", "n2 " + registrar.HeartbeatCheckID + " unknown (1 stale)", "n3 carbonio-health:mta:smtp:tcp passing"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := selectChecks(checks, owned, tt.scope)
			st := staleNodes{dead: dead, unfed: map[string]*api.HealthCheck{}}
			st.addUnfed(checks)
			var got []string
			for _, c := range collapseStale(in, st, tt.allNodes) {
				s := c.Node + " " + c.CheckID + " " + c.Status
				if m := staleCount.FindStringSubmatch(c.Output); m != nil {
					s += " (" + m[1] + " stale)"
				}
				got = append(got, s)
			}
			if strings.Join(got, "; ") != strings.Join(tt.want, "; ") {
				t.Errorf("got %v\nwant %v", got, tt.want)
			}
		})
	}
	st := staleNodes{dead: dead, unfed: map[string]*api.HealthCheck{}}
	st.addUnfed(checks)
	r := nagiosReport(collapseStale(selectChecks(checks, owned, statusScope{node: "n1"}), st, false), "node n1")
	if r.Status != checkscript.Critical || !strings.Contains(r.Summary, "node unreachable") || strings.Contains(r.Summary, "LOAD WARNING") {
		t.Errorf("report: %v %s", r.Status, r.Summary)
	}
	r = nagiosReport(collapseStale(selectChecks(checks, owned, statusScope{node: "n2"}), st, false), "node n2")
	if r.Status != checkscript.Unknown || !strings.Contains(r.Summary, "0 critical, 0 warning, 1 unknown of 2 checks") || !strings.Contains(r.Summary, "daemon down or its token refused; the 1 checks it feeds are stale and not counted (heartbeat critical: TTL expired)") {
		t.Errorf("report: %v %s", r.Status, r.Summary)
	}
}

// staleCount finds the number of stale checks in an entry of collapseStale.
var staleCount = regexp.MustCompile(`(\d+) checks (?:it feeds )?are stale and not counted`)

// TestFreshnessPerCheck: on a node whose daemon is down (heartbeat
// critical) but whose agent lives, the checks the agent runs count as they
// are and only the TTL checks the daemon feeds are stale; the worst wins.
// Daemon down and SMTP down is CRITICAL, naming SMTP.
func TestFreshnessPerCheck(t *testing.T) {
	typed := func(c *api.HealthCheck, typ string) *api.HealthCheck { c.Type = typ; return c }
	checks := api.HealthChecks{
		hc("n1", "serfHealth", "", "", "passing", "Agent alive and reachable"),
		typed(hc("n1", registrar.HeartbeatCheckID, registrar.HeartbeatServiceID, registrar.HeartbeatServiceName, "critical", "TTL expired"), "ttl"),
		typed(hc("n1", "carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp", "carbonio-mta-smtp", "critical",
			"dial tcp 127.0.0.1:25: connect: connection refused"), "tcp"),
		typed(hc("n1", "carbonio-health:mta:units:target", "carbonio-health:mta:units", "carbonio-mta-units", "passing", "SYSTEMD OK"), "script"),
		typed(hc("n1", "carbonio-health:mta:clamav:socket", "carbonio-health:mta:clamav", "carbonio-mta-clamav", "passing", "SOCKET OK"), "ttl"),
	}
	owned := ownedSet{}
	for _, c := range checks {
		if c.ServiceID != "" {
			owned[serviceRef{c.Node, c.ServiceID}] = true
		}
	}
	st := staleNodes{dead: map[string]*api.HealthCheck{}, unfed: map[string]*api.HealthCheck{}}
	st.addUnfed(checks)
	checks[1].ModifyIndex, checks[2].ModifyIndex = 50, 60 // the daemon stopped, then SMTP died
	out := collapseStale(selectChecks(checks, owned, statusScope{node: "n1"}), st, false)
	r := nagiosReport(out, "node n1")
	if r.Status != checkscript.Critical || !strings.Contains(r.Summary, "on node n1: carbonio-health:mta:smtp:tcp: dial tcp") ||
		!strings.Contains(r.Summary, "the 1 checks it feeds are stale") || !strings.Contains(r.Summary, "of 4 checks") {
		t.Errorf("daemon down, SMTP down: %v %s", r.Status, r.Summary)
	}
}

// TestNewestFailureLeads: the failing check written last to the catalog
// (highest ModifyIndex) is named first, whatever its ID; ties keep the ID
// order, and the rest are counted.
func TestNewestFailureLeads(t *testing.T) {
	var checks api.HealthChecks
	for i := 0; i < 8; i++ {
		c := hc("n1", "carbonio-health:all:"+string(rune('a'+i)), "carbonio-health:all:x", "x", "critical", "old failure "+string(rune('a'+i)))
		c.ModifyIndex = 100
		checks = append(checks, c)
	}
	smtp := hc("n1", "carbonio-health:mta:smtp:tcp", "carbonio-health:mta:smtp", "carbonio-mta-smtp", "critical", "SMTP just died")
	smtp.ModifyIndex = 900
	checks = append(checks, smtp)
	r := nagiosReport(checks, "node n1")
	if !strings.Contains(r.Summary, "of 9 checks on node n1: carbonio-health:mta:smtp:tcp: SMTP just died; carbonio-health:all:a: old failure a") ||
		!strings.Contains(r.Summary, "; and 4 more") {
		t.Errorf("summary %q", r.Summary)
	}
}

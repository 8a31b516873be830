package registrar

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// failingDecl declares three checks that fail from their first run, one of
// each feeder: a TCP check on a closed port (the agent), a script check
// through the fragment (the agent), a socket TTL check on a missing socket
// (the daemon); and, when more, a second failing TCP check.
func failingDecl(port int, sock string, more bool) string {
	eps := []consultest.Endpoint{
		{Service: "web", Port: port, Interval: "3s"},
		{Service: "sock", Check: "present", Socket: sock, Interval: "2s"},
		{Service: "script", Check: "sh", Script: "echo SCRIPT CRITICAL - broken; exit 2", Interval: "4s"},
	}
	if more {
		eps = append(eps, consultest.Endpoint{Service: "late", Port: port, Interval: "3s"})
	}
	return consultest.Role("t", eps...)
}

// outputsInCatalog waits until every check in ids is non-passing in the
// agent with an output, and the catalog has that same output; it returns,
// per check, how long after the agent first showed the output the catalog
// had it.
func outputsInCatalog(t *testing.T, c *api.Client, node string, ids []string) map[string]time.Duration {
	t.Helper()
	firstSeen, delay := map[string]time.Time{}, map[string]time.Duration{}
	consultest.Eventually(t, fmt.Sprintf("the first outputs of %v in the catalog", ids), func() bool {
		agent, err := c.Agent().Checks()
		if err != nil {
			return false
		}
		list, _, err := c.Health().Node(node, nil)
		if err != nil {
			return false
		}
		catalog := map[string]*api.HealthCheck{}
		for _, hc := range list {
			catalog[hc.CheckID] = hc
		}
		now := time.Now()
		for _, id := range ids {
			a := agent[id]
			if a == nil || a.Output == "" || a.Status == api.HealthPassing {
				continue
			}
			if _, ok := firstSeen[id]; !ok {
				firstSeen[id] = now
			}
			if cc := catalog[id]; cc != nil && cc.Output == a.Output {
				if _, ok := delay[id]; !ok {
					delay[id] = now.Sub(firstSeen[id])
				}
			}
		}
		return len(delay) == len(ids)
	})
	return delay
}

// TestFirstOutputsAtOnce: after a start, an agent restart and a reload, a
// check that fails from its first run has its output in the catalog within
// seconds, not after the agent's check_update_interval (5 min here, the
// default): the daemon makes the agent sync the output it holds back,
// without touching any status.
func TestFirstOutputsAtOnce(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, false)
	closed := consultest.Listen(t, "tcp", "")
	port := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	load, path := declDir(t, failingDecl(port, n.sock, false))
	reload := make(chan struct{}, 1)
	startDaemon(t, &Daemon{Client: n.client, Log: testLogger(t), Load: load, Reload: reload,
		AgentConfigDir: n.agent.ConfigDir, Options: Options{Self: "/bin/true", Heartbeat: true}})
	ids := []string{webID + ":tcp", sockChk, shChk}
	report := func(when string, d map[string]time.Duration) {
		var parts []string
		for _, id := range ids {
			parts = append(parts, fmt.Sprintf("%s %v", id[strings.LastIndex(id, ":t:")+3:], d[id].Round(100*time.Millisecond)))
		}
		t.Logf("%s: catalog had each first output after the agent: %s", when, strings.Join(parts, ", "))
	}
	report("start", outputsInCatalog(t, n.client, n.agent.NodeName, ids))

	n.agent.Stop(t)
	n.agent.Start(t)
	report("agent restart", outputsInCatalog(t, n.client, n.agent.NodeName, ids))

	if err := os.WriteFile(path, []byte(failingDecl(port, n.sock, true)), 0o644); err != nil {
		t.Fatal(err)
	}
	reload <- struct{}{}
	ids = append(ids, "carbonio-health:t:late:tcp")
	report("reload with a new check", outputsInCatalog(t, n.client, n.agent.NodeName, ids))
}

// gate holds every request of a client but its blocking queries while
// closed, until it opens: the daemon behind it asks nothing of its agent
// for that time and sees none of its own calls fail, while its watch's
// blocking queries are cut or refused as they would be by a real restart.
// (Holding those too would stand for a query sent before the agent
// stopped and answered by the agent started after it, which TCP cannot
// do: a watch between two queries when the gate closed saw nothing.)
type gate struct {
	mu   sync.Mutex
	open chan struct{} // closed while the gate is open
	next http.RoundTripper
}

func newGate() *gate {
	g := &gate{open: make(chan struct{}), next: http.DefaultTransport.(*http.Transport).Clone()}
	close(g.open)
	return g
}

// RoundTrip sends a blocking query at once, and any other req once the
// gate is open.
func (g *gate) RoundTrip(req *http.Request) (*http.Response, error) {
	if req.URL.Query().Has("wait") {
		return g.next.RoundTrip(req)
	}
	g.mu.Lock()
	open := g.open
	g.mu.Unlock()
	select {
	case <-open:
	case <-req.Context().Done():
		return nil, req.Context().Err()
	}
	return g.next.RoundTrip(req)
}

// hold closes the gate; the returned func opens it.
func (g *gate) hold() func() {
	g.mu.Lock()
	defer g.mu.Unlock()
	open := make(chan struct{})
	g.open = open
	return func() { close(open) }
}

// TestFirstOutputsAfterUnseenRestart: an agent restarted in a few seconds
// in which the daemon asked it nothing (as `systemctl restart` of the
// agent may be: the daemon's own calls never fail, only its watch's
// blocking queries are cut): the checks the agent runs again from nothing
// have their first outputs in the catalog within seconds, not after the
// agent's check_update_interval (5 min here, the default).
func TestFirstOutputsAfterUnseenRestart(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, false)
	closed := consultest.Listen(t, "tcp", "")
	port := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	// The agent runs a check first at a random point of its interval: at
	// 20 s (not failingDecl's 3-4 s) the first runs after the restart come
	// after the agent's first sync to the catalog, as a real node's 30-60 s
	// checks do, and that sync wipes the outputs the catalog had.
	decl := strings.NewReplacer(`interval = "3s"`, `interval = "20s"`, `interval = "4s"`, `interval = "20s"`).
		Replace(failingDecl(port, n.sock, false))
	load, _ := declDir(t, decl)
	g := newGate()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token, cfg.TokenFile = n.agent.Addr, n.agent.ManagementToken, ""
	cfg.HttpClient = &http.Client{Transport: g}
	client, err := api.NewClient(cfg)
	if err != nil {
		t.Fatal(err)
	}
	startDaemon(t, &Daemon{Client: client, Log: testLogger(t), Load: load,
		AgentConfigDir: n.agent.ConfigDir, Options: Options{Self: "/bin/true", Heartbeat: true}})
	ids := []string{webID + ":tcp", shChk}
	outputsInCatalog(t, n.client, n.agent.NodeName, ids)

	open := g.hold()
	n.agent.Stop(t)
	n.agent.Start(t)
	open()
	start := time.Now()
	d := outputsInCatalog(t, n.client, n.agent.NodeName, ids)
	t.Logf("after the restart: every first output in the catalog %s after the daemon's calls went through again (tcp %s, script %s after the agent had it)",
		time.Since(start).Round(100*time.Millisecond), d[ids[0]].Round(100*time.Millisecond), d[ids[1]].Round(100*time.Millisecond))
}

// TestFirstOutputsDecide: which services are registered again, when the
// fragment's are reloaded, and when the follow-up is over.
func TestFirstOutputsDecide(t *testing.T) {
	svc := func(id string, file bool, checks ...string) ServiceState {
		reg := &api.AgentServiceRegistration{ID: id}
		for _, c := range checks {
			reg.Checks = append(reg.Checks, &api.AgentServiceCheck{CheckID: c, Interval: "10s"})
		}
		return ServiceState{Registration: reg, HasScript: file}
	}
	st := State{Services: []ServiceState{svc("api", false, "api:a", "api:b"), svc("file", true, "file:a", "file:b")}}
	viaFile := func(s ServiceState) bool { return s.HasScript }
	ac := func(status, out string) *api.AgentCheck { return &api.AgentCheck{Status: status, Output: out} }
	hc := func(status, out string) *api.HealthCheck { return &api.HealthCheck{Status: status, Output: out} }
	start := time.Now()
	tests := []struct {
		name      string
		at        time.Duration
		mayReload bool
		agent     map[string]*api.AgentCheck
		catalog   map[string]*api.HealthCheck
		register  []string
		reload    bool
		done      bool
	}{
		{"nothing run yet", 0, true,
			map[string]*api.AgentCheck{"api:a": ac("critical", ""), "api:b": ac("critical", ""), "file:a": ac("critical", ""), "file:b": ac("critical", "")},
			map[string]*api.HealthCheck{"api:a": hc("critical", ""), "api:b": hc("critical", ""), "file:a": hc("critical", ""), "file:b": hc("critical", "")},
			nil, false, false},
		{"an API check's output held: its service again; a fragment check's waits for the other", time.Second, true,
			map[string]*api.AgentCheck{"api:a": ac("critical", "refused"), "api:b": ac("passing", "ok"), "file:a": ac("critical", "broken"), "file:b": ac("critical", "")},
			map[string]*api.HealthCheck{"api:a": hc("critical", ""), "api:b": hc("passing", "ok"), "file:a": hc("critical", ""), "file:b": hc("critical", "")},
			[]string{"api"}, false, false},
		{"half an interval later the fragment is reloaded all the same", 6 * time.Second, true,
			map[string]*api.AgentCheck{"api:a": ac("critical", "refused"), "api:b": ac("passing", "ok"), "file:a": ac("critical", "broken"), "file:b": ac("critical", "")},
			map[string]*api.HealthCheck{"api:a": hc("critical", "refused"), "api:b": hc("passing", "ok"), "file:a": hc("critical", ""), "file:b": hc("critical", "")},
			nil, true, false},
		{"not while the agent does not hold what is declared", 7 * time.Second, false,
			map[string]*api.AgentCheck{"api:a": ac("critical", "refused"), "api:b": ac("passing", "ok"), "file:a": ac("critical", "broken"), "file:b": ac("critical", "x")},
			map[string]*api.HealthCheck{"api:a": hc("critical", "refused"), "api:b": hc("passing", "ok"), "file:a": hc("critical", ""), "file:b": hc("critical", "")},
			nil, false, false},
		{"every output in the catalog: done", 8 * time.Second, true,
			map[string]*api.AgentCheck{"api:a": ac("critical", "refused"), "api:b": ac("passing", "ok"), "file:a": ac("critical", "broken"), "file:b": ac("warning", "x")},
			map[string]*api.HealthCheck{"api:a": hc("critical", "refused"), "api:b": hc("passing", "ok"), "file:a": hc("critical", "broken"), "file:b": hc("warning", "x")},
			nil, false, true},
	}
	var f firstOutputs
	f.arm(time.Minute)
	defer f.stop()
	for _, tt := range tests {
		step := f.decide(start.Add(tt.at), st, viaFile, tt.mayReload, tt.agent, tt.catalog)
		var got []string
		for _, s := range step.register {
			got = append(got, s.ID())
		}
		if strings.Join(got, ",") != strings.Join(tt.register, ",") || step.reload != tt.reload || step.done != tt.done {
			t.Errorf("%s: register %v reload %v done %v; want %v %v %v", tt.name, got, step.reload, step.done, tt.register, tt.reload, tt.done)
		}
		f.commit(step, tt.agent, start.Add(tt.at))
	}
}

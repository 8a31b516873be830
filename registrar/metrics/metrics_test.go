package metrics

import (
	"errors"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/registrar"
)

// state is a desired state of one service with a script, a TTL, an HTTP and
// (when withTCP) a TCP check.
func state(withTCP bool) registrar.State {
	reg := &api.AgentServiceRegistration{ID: "carbonio-health:all:x", Name: "carbonio-all-x", Checks: api.AgentServiceChecks{
		{CheckID: "carbonio-health:all:x:script", Args: []string{"carbonio-health", "check", "load"}},
		{CheckID: "carbonio-health:all:x:ttl", TTL: "90s"},
		{CheckID: "carbonio-health:all:x:http", HTTP: "http://127.0.0.1:1/"},
	}}
	if withTCP {
		reg.Checks = append(reg.Checks, &api.AgentServiceCheck{CheckID: "carbonio-health:all:x:tcp", TCP: "127.0.0.1:1"})
	}
	return registrar.State{Services: []registrar.ServiceState{{
		Registration: reg,
		TTL:          []registrar.TTLCheck{{CheckID: "carbonio-health:all:x:ttl", Probe: "disk"}},
	}}}
}

func agentChecks(m map[string][2]string) map[string]*api.AgentCheck {
	out := map[string]*api.AgentCheck{}
	for id, so := range m {
		out[id] = &api.AgentCheck{CheckID: id, Status: so[0], Output: so[1]}
	}
	return out
}

const statusHelp = `# HELP carbonio_health_check_status Status of a declared check as the local Consul agent reports it (passing, warning or critical), always 1: one series per check, its label the current status.
# TYPE carbonio_health_check_status gauge
`

// statusLines renders the series of one check ("" when it has none).
func statusLines(check, status string) string {
	if status == "" {
		return ""
	}
	return `carbonio_health_check_status{check="` + check + `",role="all",service="carbonio-all-x",status="` + status + `"} 1` + "\n"
}

func TestCollectorChecks(t *testing.T) {
	c := New("1.2.3")
	c.Reconciled(state(true), registrar.Outcome{AgentChecks: agentChecks(map[string][2]string{
		"carbonio-health:all:x:script": {api.HealthWarning, "LOAD WARNING - high|load1=2.5;1;3;0; rta=250ms;;; pl=20%;; up=3c U=U"},
		"carbonio-health:all:x:ttl":    {api.HealthPassing, "DISK OK - free|/var=2MB;;;0;10 /var=1MB /srv=1KB time=1500us odd=3XB"},
		"carbonio-health:all:x:http":   {api.HealthCritical, "HTTP GET: 500 Output: a|b=1"},
		// x:tcp not in the agent yet: no status series.
	})}, nil)

	want := statusHelp + statusLines("carbonio-health:all:x:http", api.HealthCritical) + statusLines("carbonio-health:all:x:script", api.HealthWarning) +
		statusLines("carbonio-health:all:x:tcp", "") + statusLines("carbonio-health:all:x:ttl", api.HealthPassing) + `
# HELP carbonio_health_perfdata Perfdata value without a unit (e.g. load1, users) of the last result of a check.
# TYPE carbonio_health_perfdata gauge
carbonio_health_perfdata{check="carbonio-health:all:x:script",label="load1",role="all",service="carbonio-all-x"} 2.5
# HELP carbonio_health_perfdata_bytes Perfdata size (UOM B, KB, MB, GB, TB; 1 KB = 1024 B as check_disk counts) of the last result of a check, in bytes.
# TYPE carbonio_health_perfdata_bytes gauge
carbonio_health_perfdata_bytes{check="carbonio-health:all:x:ttl",label="/srv",role="all",service="carbonio-all-x"} 1024
carbonio_health_perfdata_bytes{check="carbonio-health:all:x:ttl",label="/var",role="all",service="carbonio-all-x"} 2.097152e+06
# HELP carbonio_health_perfdata_ratio Perfdata percentage (UOM %) of the last result of a check, as a ratio (0–1).
# TYPE carbonio_health_perfdata_ratio gauge
carbonio_health_perfdata_ratio{check="carbonio-health:all:x:script",label="pl",role="all",service="carbonio-all-x"} 0.2
# HELP carbonio_health_perfdata_seconds Perfdata time (UOM s, ms, us) of the last result of a check, in seconds.
# TYPE carbonio_health_perfdata_seconds gauge
carbonio_health_perfdata_seconds{check="carbonio-health:all:x:script",label="rta",role="all",service="carbonio-all-x"} 0.25
carbonio_health_perfdata_seconds{check="carbonio-health:all:x:ttl",label="time",role="all",service="carbonio-all-x"} 0.0015
# HELP carbonio_health_perfdata_total Perfdata continuous counter (UOM c) of the last result of a check.
# TYPE carbonio_health_perfdata_total counter
carbonio_health_perfdata_total{check="carbonio-health:all:x:script",label="up",role="all",service="carbonio-all-x"} 3
# HELP carbonio_health_perfdata_limit Limit of a perfdata value without a unit: the upper bound of its warning or critical threshold, or its maximum (label limit).
# TYPE carbonio_health_perfdata_limit gauge
carbonio_health_perfdata_limit{check="carbonio-health:all:x:script",label="load1",limit="critical",role="all",service="carbonio-all-x"} 3
carbonio_health_perfdata_limit{check="carbonio-health:all:x:script",label="load1",limit="warning",role="all",service="carbonio-all-x"} 1
# HELP carbonio_health_perfdata_limit_bytes Limit of a perfdata size, in bytes: the upper bound of its warning or critical threshold, or its maximum, e.g. a file system's size (label limit).
# TYPE carbonio_health_perfdata_limit_bytes gauge
carbonio_health_perfdata_limit_bytes{check="carbonio-health:all:x:ttl",label="/var",limit="max",role="all",service="carbonio-all-x"} 1.048576e+07
# HELP carbonio_health_agent_up 1 when the last reconcile pass could read the local Consul agent, else 0.
# TYPE carbonio_health_agent_up gauge
carbonio_health_agent_up 1
# HELP carbonio_health_build_info Always 1; the labels say which build runs.
# TYPE carbonio_health_build_info gauge
carbonio_health_build_info{goversion="` + goVersion() + `",version="1.2.3"} 1
`
	names := []string{"carbonio_health_check_status", "carbonio_health_perfdata", "carbonio_health_perfdata_bytes",
		"carbonio_health_perfdata_ratio", "carbonio_health_perfdata_seconds", "carbonio_health_perfdata_total",
		"carbonio_health_perfdata_limit", "carbonio_health_perfdata_limit_bytes", "carbonio_health_perfdata_limit_ratio",
		"carbonio_health_perfdata_limit_seconds", "carbonio_health_agent_up", "carbonio_health_build_info"}
	if err := testutil.GatherAndCompare(c.Gatherer(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}

	// The TCP check leaves the declaration, the script check's output
	// changes: its series follow, the others stay.
	c.Probed(registrar.TTLCheck{CheckID: "carbonio-health:all:x:ttl", Probe: "disk"}, checkscript.Result{}, 20*time.Microsecond)
	c.Reconciled(state(false), registrar.Outcome{AgentChecks: agentChecks(map[string][2]string{
		"carbonio-health:all:x:script": {api.HealthPassing, "LOAD OK|load1=0.5"},
		"carbonio-health:all:x:ttl":    {api.HealthPassing, "DISK OK - free|/var=2MB;;;0;10 /var=1MB /srv=1KB time=1500us odd=3XB"},
		"carbonio-health:all:x:http":   {api.HealthPassing, "HTTP GET: 200"},
	})}, nil)
	want = statusHelp + statusLines("carbonio-health:all:x:http", api.HealthPassing) + statusLines("carbonio-health:all:x:script", api.HealthPassing) +
		statusLines("carbonio-health:all:x:ttl", api.HealthPassing) + `
# HELP carbonio_health_perfdata Perfdata value without a unit (e.g. load1, users) of the last result of a check.
# TYPE carbonio_health_perfdata gauge
carbonio_health_perfdata{check="carbonio-health:all:x:script",label="load1",role="all",service="carbonio-all-x"} 0.5
`
	if err := testutil.GatherAndCompare(c.Gatherer(), strings.NewReader(want), "carbonio_health_check_status", "carbonio_health_perfdata"); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(c.durations); n != 1 {
		t.Errorf("probe duration histograms: %d, want 1", n)
	}

	// A TTL check no longer declared loses its histogram, and a last
	// evaluation that ends after that does not bring it back.
	c.Reconciled(registrar.State{}, registrar.Outcome{AgentChecks: map[string]*api.AgentCheck{}}, nil)
	c.Probed(registrar.TTLCheck{CheckID: "carbonio-health:all:x:ttl", Probe: "disk"}, checkscript.Result{}, 20*time.Microsecond)
	if n := testutil.CollectAndCount(c.durations); n != 0 {
		t.Errorf("probe duration histograms after the check left: %d, want 0", n)
	}
}

func TestCollectorCounters(t *testing.T) {
	c := New("dev")
	ttl := registrar.TTLCheck{CheckID: "carbonio-health:all:x:ttl", Probe: "disk"}
	steps := []func(){
		func() {
			c.Reconciled(state(false), registrar.Outcome{Registered: []string{"a", "b", "c"}, Replaced: []string{"b"},
				Deregistered: []string{"d"}, Reloaded: true, AgentChecks: map[string]*api.AgentCheck{}}, nil)
		},
		func() { c.Reconciled(state(false), registrar.Outcome{}, errors.New("connection refused")) },
		func() { c.Pushed(ttl, nil) },
		func() { c.Pushed(ttl, errors.New("404")) },
	}
	for _, s := range steps {
		s()
	}
	want := `
# HELP carbonio_health_agent_up 1 when the last reconcile pass could read the local Consul agent, else 0.
# TYPE carbonio_health_agent_up gauge
carbonio_health_agent_up 0
# HELP carbonio_health_reconcile_errors_total Reconcile passes that ended with an error (agent unreachable, write refused).
# TYPE carbonio_health_reconcile_errors_total counter
carbonio_health_reconcile_errors_total 1
# HELP carbonio_health_reconcile_passes_total Reconcile passes (agent compared with the declaration).
# TYPE carbonio_health_reconcile_passes_total counter
carbonio_health_reconcile_passes_total 2
# HELP carbonio_health_reconcile_writes_total Writes to the agent by kind: register (new service), update (changed service), deregister, reload (config fragment).
# TYPE carbonio_health_reconcile_writes_total counter
carbonio_health_reconcile_writes_total{kind="deregister"} 1
carbonio_health_reconcile_writes_total{kind="register"} 2
carbonio_health_reconcile_writes_total{kind="reload"} 1
carbonio_health_reconcile_writes_total{kind="update"} 1
# HELP carbonio_health_ttl_push_failures_total TTL check updates the agent refused or did not answer.
# TYPE carbonio_health_ttl_push_failures_total counter
carbonio_health_ttl_push_failures_total 1
# HELP carbonio_health_ttl_pushes_total TTL check updates sent to the agent.
# TYPE carbonio_health_ttl_pushes_total counter
carbonio_health_ttl_pushes_total 2
`
	if err := testutil.GatherAndCompare(c.Gatherer(), strings.NewReader(want), "carbonio_health_agent_up",
		"carbonio_health_reconcile_errors_total", "carbonio_health_reconcile_passes_total",
		"carbonio_health_reconcile_writes_total", "carbonio_health_ttl_push_failures_total",
		"carbonio_health_ttl_pushes_total"); err != nil {
		t.Error(err)
	}
}

func goVersion() string { return runtime.Version() }

// TestMetricNamesLint runs Prometheus's own naming linter (promlint, what
// `promtool check metrics` runs) over a full-catalog scrape.
func TestMetricNamesLint(t *testing.T) {
	c := New("dev")
	st, checks := fullCatalog(t, 0)
	c.Reconciled(st, registrar.Outcome{AgentChecks: checks}, nil)
	for _, ck := range st.TTLChecks() {
		c.Probed(ck, checkscript.Result{}, time.Millisecond)
	}
	problems, err := testutil.GatherAndLint(c.Gatherer())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Errorf("%s: %s", p.Metric, p.Text)
	}
}

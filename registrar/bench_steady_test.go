package registrar

// Steady state (deploy/bench/README.md, item 4): the full built-in catalog
// (every role and feature, deploy/dev/node.hcl) registered in a real agent,
// then $BENCH_STEADY (default 60s) with nothing changing: the agent calls
// the daemon makes, counted on the wire, and whether the catalog's indexes
// move.
//
//	go test -run '^$' -bench BenchmarkSteadyState -benchtime 1x ./registrar

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

func BenchmarkSteadyState(b *testing.B) {
	period := 60 * time.Second
	if d, err := time.ParseDuration(os.Getenv("BENCH_STEADY")); err == nil && d > 0 {
		period = d
	}
	root := filepath.Join("..")
	self := builtDaemon(b)
	agent := consultest.Start(b, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal})
	proxy := newCountingProxy(b, agent.Addr)
	client := clientFor(b, proxy.URL())
	opts := hcl.Options{ConfigDirs: []string{filepath.Join(root, "deploy", "dev")}}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	d := &Daemon{
		Client: client, Log: hclog.NewNullLogger(), Ready: ready,
		Load:           func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Options:        Options{Self: self, Heartbeat: true}, // as run
		AgentConfigDir: agent.ConfigDir,
	}
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-ready
	direct := agent.Client(b, "")
	waitFirstRuns(b, direct, 90*time.Second)

	_, svcBefore, err := direct.Catalog().Services(nil)
	if err != nil {
		b.Fatal(err)
	}
	before, chkBefore, err := direct.Health().State("any", nil)
	if err != nil {
		b.Fatal(err)
	}
	proxy.Reset()
	b.ResetTimer()
	time.Sleep(period)
	b.StopTimer()
	_, svcAfter, _ := direct.Catalog().Services(nil)
	after, chkAfter, _ := direct.Health().State("any", nil)
	logMovedChecks(b, before, after)

	b.ReportMetric(float64(proxy.Count("register")+proxy.Count("deregister")+proxy.Count("reload")), "writes")
	b.ReportMetric(float64(proxy.Count("ttl-update")), "ttl-updates")
	b.ReportMetric(float64(proxy.Count("read")), "reads")
	b.ReportMetric(float64(proxy.Count("watch")), "watch-queries")
	b.ReportMetric(float64(proxy.Count("leader")), "leader-asks")
	b.ReportMetric(float64(svcAfter.LastIndex-svcBefore.LastIndex), "services-index-delta")
	b.ReportMetric(float64(chkAfter.LastIndex-chkBefore.LastIndex), "checks-index-delta")
	b.ReportMetric(period.Seconds(), "seconds")
}

// waitFirstRuns waits until every check in the agent has run once (has an
// output in the agent's local state): the agent runs a script, TCP or HTTP
// check for the first time at a random point of its first interval (up to
// 60 s in the catalog), and that first result is a real catalog write, not
// steady state.
func waitFirstRuns(b *testing.B, client *api.Client, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		checks, err := client.Agent().Checks() // the agent's own view: the catalog defers output-only changes
		if err != nil {
			b.Fatal(err)
		}
		pending := 0
		for _, c := range checks {
			if c.Output == "" {
				pending++
			}
		}
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%d checks have not run after %s", pending, limit)
		}
		time.Sleep(time.Second)
	}
}

// logMovedChecks names the checks the catalog rewrote between two reads,
// with their status then and now: a moved checks index is explained, not
// just counted.
func logMovedChecks(b *testing.B, before, after api.HealthChecks) {
	was := map[string]*api.HealthCheck{}
	for _, c := range before {
		was[c.CheckID] = c
	}
	for _, c := range after {
		if w := was[c.CheckID]; w == nil || w.ModifyIndex != c.ModifyIndex {
			from := "new"
			if w != nil {
				from = w.Status
			}
			b.Logf("check %s: %s → %s (%s)", c.CheckID, from, c.Status, strings.TrimSpace(c.Output))
		}
	}
}

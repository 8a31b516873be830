package registrar

// Steady state (README "Benchmarks", item 4): the full built-in catalog
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
	"testing"
	"time"

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
	self, err := filepath.Abs(filepath.Join(root, "bin", "carbonio-health"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(self); err != nil {
		b.Fatalf("%s: run `make build` first", self)
	}
	agent := consultest.Start(b, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal})
	proxy := newCountingProxy(b, agent.Addr)
	client := clientFor(b, proxy.URL())
	opts := hcl.Options{ConfigDirs: []string{filepath.Join(root, "deploy", "dev")}}
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	d := &Daemon{
		Client: client, Log: hclog.NewNullLogger(), Ready: ready,
		Load:           func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Options:        Options{Self: self},
		AgentConfigDir: agent.ConfigDir,
	}
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-ready
	// Script and TCP checks first run within one interval (30 s in the
	// catalog) of registration: let them settle, then start counting.
	time.Sleep(35 * time.Second)

	direct := agent.Client(b, "")
	_, svcBefore, err := direct.Catalog().Services(nil)
	if err != nil {
		b.Fatal(err)
	}
	_, chkBefore, err := direct.Health().State("any", nil)
	if err != nil {
		b.Fatal(err)
	}
	proxy.Reset()
	b.ResetTimer()
	time.Sleep(period)
	b.StopTimer()
	_, svcAfter, _ := direct.Catalog().Services(nil)
	_, chkAfter, _ := direct.Health().State("any", nil)

	b.ReportMetric(float64(proxy.Count("register")+proxy.Count("deregister")+proxy.Count("reload")), "writes")
	b.ReportMetric(float64(proxy.Count("ttl-update")), "ttl-updates")
	b.ReportMetric(float64(proxy.Count("read")), "reads")
	b.ReportMetric(float64(svcAfter.LastIndex-svcBefore.LastIndex), "services-index-delta")
	b.ReportMetric(float64(chkAfter.LastIndex-chkBefore.LastIndex), "checks-index-delta")
	b.ReportMetric(period.Seconds(), "seconds")
}

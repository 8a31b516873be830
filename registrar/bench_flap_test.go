package registrar

// Catalog writes of a flapping socket (deploy/bench/README.md): one socket
// TTL check (interval 10 s, as the catalog's sockets) whose socket goes away
// and comes back every second, in two real agents side by side: one daemon
// with the default damping (failures_before_critical 1,
// success_before_passing 2) and one without (success_before_passing 1).
// Every catalog write of the node's checks is counted from the servers' side
// (writeCounter), over $BENCH_FLAP (default 2 min) with each agent's
// check_update_interval cut to $BENCH_CHECK_UPDATE (default 30 s), so the
// window covers several of them (and the check's interval and TTL).
//
//	go test -run '^$' -bench BenchmarkFlappingSocket -benchtime 1x ./registrar

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

func BenchmarkFlappingSocket(b *testing.B) {
	interval, window := benchClocks(b, "BENCH_FLAP", 4)
	variants := []struct{ name, damping string }{
		{"damped", ""},
		{"undamped", "success_before_passing = 1"},
	}
	counters := make([]*writeCounter, len(variants))
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	for i, v := range variants {
		agent := consultest.Start(b, consultest.Options{ExtraHCL: "check_update_interval = \"" + interval.String() + "\"\n"})
		sock := filepath.Join(b.TempDir(), "flap.sock")
		dir := b.TempDir()
		if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(flapDecl(sock, 10*time.Second, v.damping)), 0o644); err != nil {
			b.Fatal(err)
		}
		client := agent.Client(b, "")
		wc := watchWrites(ctx, client, agent.NodeName)
		opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}}
		ready, done := make(chan struct{}), make(chan error, 1)
		d := &Daemon{Client: client, Log: hclog.NewNullLogger(), Ready: ready,
			Load: func() (*hcl.Plan, error) { return hcl.Load(opts) }}
		go func() { done <- d.Run(ctx) }()
		<-ready
		wc.waitSettled(b, time.Minute)
		flapping := flapSocket(ctx, b, sock, time.Second)
		b.Cleanup(func() {
			stop()
			<-done
			if l := <-flapping; l != nil {
				l.Close()
			}
		})
		counters[i] = wc
	}
	for _, c := range counters {
		c.reset()
	}
	b.ResetTimer()
	time.Sleep(window)
	b.StopTimer()
	hours := window.Hours()
	for i, v := range variants {
		c := counters[i].snapshot()
		b.Logf("%s: in %s of a socket flapping every second: %d status-change writes, %d output-only writes; by check: %s",
			v.name, window, c.status, c.output, c.top())
		b.ReportMetric(float64(c.status+c.output)/hours, v.name+"-writes/node-hour")
	}
	b.ReportMetric(window.Seconds(), "seconds")
	b.ReportMetric(interval.Seconds(), "check-update-interval-s")
}

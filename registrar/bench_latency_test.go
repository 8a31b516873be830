package registrar

// Detection latency (deploy/bench/README.md, item 5): from a socket file
// removed, or a TCP listener closed, to Consul's health API (the catalog,
// as every external reader sees it) reporting the check critical. 20
// trials each; median and max are reported, nothing is asserted.
//
//	go test -run '^$' -bench BenchmarkDetection -benchtime 1x ./registrar

import (
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"sort"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

const detectionTrials = 20

func BenchmarkDetection(b *testing.B) {
	agent := consultest.Start(b, consultest.Options{})
	client := agent.Client(b, "")
	dir := b.TempDir()
	sock := filepath.Join(dir, "clamd.sock")
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	port := tcp.Addr().(*net.TCPAddr).Port
	tcp.Close()
	// The socket check keeps the catalog's 30 s interval: removal is seen
	// through inotify, not by polling. The TCP check is the agent's own,
	// at 1 s, as a Carbonio operator would tune a port check.
	decl := fmt.Sprintf(`
role "b" {
  service "clamav" {
    check "socket" {
      type  = "ttl"
      probe = "socket"
      args  = { p = %q }
    }
  }
  service "smtp" {
    port = %d
    check "tcp" { interval = "1s" }
  }
}
node { roles = ["b"] }
`, sock, port)
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(decl), 0o644); err != nil {
		b.Fatal(err)
	}
	load := hclLoader(dir)
	ctx, cancel := context.WithCancel(context.Background())
	ready, done := make(chan struct{}), make(chan error, 1)
	d := &Daemon{Client: client, Log: hclog.NewNullLogger(), Load: load, Ready: ready}
	go func() { done <- d.Run(ctx) }()
	defer func() { cancel(); <-done }()
	<-ready

	kinds := []struct {
		name, service string
		up            func() func() // brings the endpoint up, returns "take it down"
	}{
		{"socket-removed", "carbonio-b-clamav", func() func() {
			l, err := net.Listen("unix", sock)
			if err != nil {
				b.Fatal(err)
			}
			return func() { l.Close(); os.Remove(sock) }
		}},
		{"tcp-closed", "carbonio-b-smtp", func() func() {
			l := consultest.Listen(b, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
			return func() { l.Close() }
		}},
	}
	b.ResetTimer()
	for _, k := range kinds {
		var lat []time.Duration
		for i := 0; i < detectionTrials; i++ {
			down := k.up()
			waitHealth(b, client, k.service, api.HealthPassing)
			start := time.Now()
			down()
			waitHealth(b, client, k.service, api.HealthCritical)
			lat = append(lat, time.Since(start))
		}
		sort.Slice(lat, func(i, j int) bool { return lat[i] < lat[j] })
		median, worst := lat[len(lat)/2], lat[len(lat)-1]
		b.ReportMetric(float64(median.Microseconds())/1000, k.name+"-median-ms")
		b.ReportMetric(float64(worst.Microseconds())/1000, k.name+"-max-ms")
	}
}

// waitHealth polls the health API (catalog view) every 5 ms until the
// service's own check has the status.
func waitHealth(b *testing.B, c *api.Client, service, status string) {
	deadline := time.Now().Add(time.Minute)
	for time.Now().Before(deadline) {
		checks, _, err := c.Health().Checks(service, nil)
		if err == nil && len(checks) > 0 && checks.AggregatedStatus() == status {
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	b.Fatalf("%s never became %s", service, status)
}

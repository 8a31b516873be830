package registrar

// Catalog writes of a busy node (deploy/bench/README.md, issue 17 item 3):
// the full built-in catalog (deploy/dev/node.hcl) in a real agent, with the
// /var/log checks (disk used %, dirsize with its 10 GiB / 20 GiB
// thresholds) pointed at a log folder that grows 8 KiB a second (one file
// appended to, a new file every 10 s), and the node's load moved by a CPU
// burner (one core busy 10 s out of 30, on top of whatever else runs). Every
// catalog write of the node's checks is counted from the servers' side
// (writeCounter) over $BENCH_BUSY (default 4 min) with check_update_interval
// cut to $BENCH_CHECK_UPDATE (default 30 s): the window covers 8 of those,
// the dirsize check's 60 s interval and its 180 s TTL. Output-only writes
// scale back by 5 min / 30 s to Consul's default interval; status changes
// (a threshold really crossed) do not.
//
//	go test -run '^$' -bench BenchmarkBusyNode -benchtime 1x -timeout 30m ./registrar

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

func BenchmarkBusyNode(b *testing.B) {
	interval, window := benchClocks(b, "BENCH_BUSY", 8)
	self := builtDaemon(b)
	logs := b.TempDir()
	override := b.TempDir()
	if err := os.WriteFile(filepath.Join(override, "busy.hcl"), []byte(fmt.Sprintf(`
override "all" "disk-var-log" {
  meta = { path = %[1]q }
  check "disk" { args = { p = %[1]q } }
  check "size" { args = { p = %[1]q } }
}
`, logs)), 0o644); err != nil {
		b.Fatal(err)
	}
	agent := consultest.Start(b, consultest.Options{
		ScriptChecks: consultest.ScriptChecksLocal,
		ExtraHCL:     "check_update_interval = \"" + interval.String() + "\"\n",
	})
	wc := startNode(b, agent, Options{Self: self, Heartbeat: true}, override) // as run
	wc.waitSettled(b, 3*interval+time.Minute)

	ctx, cancel := context.WithCancel(context.Background())
	b.Cleanup(cancel)
	go growLogs(ctx, b, logs)
	go moveLoad(ctx)
	wc.reset()
	b.ResetTimer()
	time.Sleep(window)
	b.StopTimer()
	c := wc.snapshot()
	hours := window.Hours()
	scale := float64(interval) / float64(defaultCheckUpdate)
	b.Logf("busy node, %d checks: in %s, %d status-change writes, %d output-only writes; by check: %s",
		c.checks, window, c.status, c.output, c.top())
	b.ReportMetric(float64(c.status+c.output)/hours, "writes/node-hour@"+interval.String())
	b.ReportMetric((float64(c.status)+float64(c.output)*scale)/hours, "writes/node-hour@5m")
	b.ReportMetric(float64(c.status), "status-writes")
	b.ReportMetric(float64(c.output), "output-writes")
	b.ReportMetric(window.Seconds(), "seconds")
	b.ReportMetric(interval.Seconds(), "check-update-interval-s")
}

// growLogs appends 8 KiB a second to a log file in dir and starts a new
// file every 10 s, until ctx ends.
func growLogs(ctx context.Context, b *testing.B, dir string) {
	chunk := make([]byte, 8<<10)
	var f *os.File
	defer func() {
		if f != nil {
			f.Close()
		}
	}()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	for n := 0; ; n++ {
		if n%10 == 0 {
			if f != nil {
				f.Close()
			}
			var err error
			if f, err = os.Create(filepath.Join(dir, fmt.Sprintf("mailbox.log.%d", n/10))); err != nil {
				b.Error(err)
				return
			}
		}
		if _, err := f.Write(chunk); err != nil {
			b.Error(err)
			return
		}
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
	}
}

// moveLoad keeps one core busy 10 s out of every 30 s until ctx ends, so
// the load averages move as on a node whose mail traffic comes and goes.
func moveLoad(ctx context.Context) {
	runtime.LockOSThread()
	for ctx.Err() == nil {
		busy := time.Now().Add(10 * time.Second)
		for time.Now().Before(busy) && ctx.Err() == nil {
			for i := 0; i < 1_000_000; i++ {
			}
		}
		sleep(ctx, 20*time.Second)
	}
}

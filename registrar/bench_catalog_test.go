package registrar

// Catalog write load (deploy/bench/README.md): the full built-in catalog
// (deploy/dev/node.hcl) registered in two real agents side by side, one
// daemon storing each probe's full line (-full-output, the old way) and one
// its steady form (the default). Each agent's check_update_interval is cut
// to $BENCH_CHECK_UPDATE (default 30s) so that a window of
// $BENCH_CATALOG (default 4 × that) sees several rounds of deferred output
// writes; every catalog write of a check is counted from the servers' side
// (a blocking query on the node's checks, ModifyIndex by ModifyIndex) and
// sorted into status changes, which are synced at once whatever the
// interval, and output-only changes, which the agent syncs once per
// interval and which therefore scale back by 5 min / $BENCH_CHECK_UPDATE.
//
//	go test -run '^$' -bench BenchmarkCatalogWrites -benchtime 1x ./registrar

import (
	"context"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// defaultCheckUpdate is Consul's check_update_interval default.
const defaultCheckUpdate = 5 * time.Minute

func BenchmarkCatalogWrites(b *testing.B) {
	interval, window := benchClocks(b, "BENCH_CATALOG", 4)
	self := builtDaemon(b)
	variants := []struct {
		name string
		full bool
	}{{"full", true}, {"steady", false}}
	counters := make([]*writeCounter, len(variants))
	var wg sync.WaitGroup
	for i, v := range variants {
		agent := consultest.Start(b, consultest.Options{
			ScriptChecks: consultest.ScriptChecksLocal,
			ExtraHCL:     "check_update_interval = \"" + interval.String() + "\"\n",
		})
		counters[i] = startNode(b, agent, Options{Self: self, FullOutput: v.full, Heartbeat: true}) // as run
	}
	// Transient: registration and each check's first output (a new check
	// starts critical with no output, and Consul's registration API has no
	// initial output: one write per check, once). Wait until every check's
	// first output is in the catalog, then count.
	for i := range variants {
		wg.Add(1)
		go func() { defer wg.Done(); counters[i].waitSettled(b, 3*interval+time.Minute) }()
	}
	wg.Wait()
	for _, c := range counters {
		c.reset()
	}
	b.ResetTimer()
	time.Sleep(window)
	b.StopTimer()
	hours := window.Hours()
	scale := float64(interval) / float64(defaultCheckUpdate)
	for i, v := range variants {
		c := counters[i].snapshot()
		b.Logf("%s: %d checks; in %s: %d status-change writes, %d output-only writes; by check: %s",
			v.name, c.checks, window, c.status, c.output, c.top())
		b.ReportMetric(float64(c.status+c.output)/hours, v.name+"-writes/node-hour@"+interval.String())
		b.ReportMetric((float64(c.status)+float64(c.output)*scale)/hours, v.name+"-writes/node-hour@5m")
		b.ReportMetric(float64(c.transient), v.name+"-transient-writes")
	}
	b.ReportMetric(window.Seconds(), "seconds")
	b.ReportMetric(interval.Seconds(), "check-update-interval-s")
}

// benchClocks reads the clocks of a catalog-write benchmark: the agent's
// check_update_interval from $BENCH_CHECK_UPDATE (default 30 s) and the
// window from $windowEnv (default times × the interval, at least two
// intervals).
func benchClocks(b *testing.B, windowEnv string, times int) (interval, window time.Duration) {
	interval = 30 * time.Second
	if d, err := time.ParseDuration(os.Getenv("BENCH_CHECK_UPDATE")); err == nil && d > 0 {
		interval = d
	}
	window = time.Duration(times) * interval
	if d, err := time.ParseDuration(os.Getenv(windowEnv)); err == nil && d >= 2*interval {
		window = d
	}
	return interval, window
}

// builtDaemon is the absolute path of bin/carbonio-health, which script
// checks run; the benchmark fails if make build has not made it.
func builtDaemon(b *testing.B) string {
	self, err := filepath.Abs(filepath.Join("..", "bin", "carbonio-health"))
	if err != nil {
		b.Fatal(err)
	}
	if _, err := os.Stat(self); err != nil {
		b.Fatalf("%s: run `make build` first", self)
	}
	return self
}

// startNode runs a daemon with options on agent, declarations from the dev
// catalog (deploy/dev) and then dirs, and counts the catalog writes of the
// agent's node from before the daemon's start on. Both stop at b's cleanup.
func startNode(b *testing.B, agent *consultest.Agent, options Options, dirs ...string) *writeCounter {
	opts := hcl.Options{ConfigDirs: append([]string{filepath.Join("..", "deploy", "dev")}, dirs...)}
	ctx, cancel := context.WithCancel(context.Background())
	client := agent.Client(b, "")
	wc := watchWrites(ctx, client, agent.NodeName)
	ready, done := make(chan struct{}), make(chan error, 1)
	d := &Daemon{
		Client: client, Log: hclog.NewNullLogger(), Ready: ready,
		Load:           func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Options:        options,
		AgentConfigDir: agent.ConfigDir,
	}
	go func() { done <- d.Run(ctx) }()
	b.Cleanup(func() { cancel(); <-done })
	<-ready
	return wc
}

// writeCounter counts the catalog writes of one node's checks.
type writeCounter struct {
	client *api.Client
	node   string

	mu             sync.Mutex
	last           map[string]*api.HealthCheck
	status, output int
	transient      int
	byName         map[string]int
	settled        bool
}

// watchWrites starts counting the catalog writes of node's checks, until
// ctx ends; it returns after the first answer.
func watchWrites(ctx context.Context, client *api.Client, node string) *writeCounter {
	wc := &writeCounter{client: client, node: node, byName: map[string]int{}}
	watching := make(chan struct{})
	go wc.watch(ctx, watching)
	<-watching
	return wc
}

// watch follows the node's checks with blocking queries; ready is closed
// after the first answer.
func (w *writeCounter) watch(ctx context.Context, ready chan<- struct{}) {
	var index uint64
	for ctx.Err() == nil {
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: time.Minute}).WithContext(ctx)
		checks, meta, err := w.client.Health().Node(w.node, q)
		if err != nil {
			time.Sleep(100 * time.Millisecond)
			continue
		}
		index = meta.LastIndex
		w.observe(checks)
		if ready != nil {
			close(ready)
			ready = nil
		}
	}
}

func (w *writeCounter) observe(checks api.HealthChecks) {
	w.mu.Lock()
	defer w.mu.Unlock()
	first := w.last == nil
	now := map[string]*api.HealthCheck{}
	for _, c := range checks {
		now[c.CheckID] = c
		was := w.last[c.CheckID]
		if first || (was != nil && was.ModifyIndex == c.ModifyIndex) {
			continue
		}
		switch {
		case !w.settled:
			w.transient++
		case was == nil || was.Status != c.Status:
			w.status++
			w.byName[c.Name+" (status)"]++
		default:
			w.output++
			w.byName[c.Name]++
		}
	}
	w.last = now
}

// waitSettled waits until every check of the node has an output in the
// catalog, i.e. its first result was written, and no size check still
// answers that its first walk is running: the change from that answer to
// the first figure happens once per daemon start, not in the steady state
// the window counts.
func (w *writeCounter) waitSettled(b *testing.B, limit time.Duration) {
	deadline := time.Now().Add(limit)
	for {
		local, err := w.client.Agent().Checks()
		if err != nil {
			b.Fatal(err)
		}
		w.mu.Lock()
		pending := max(0, len(local)+1-len(w.last)) // + serfHealth, which only the catalog has
		for _, c := range w.last {
			if c.Output == "" || strings.Contains(c.Output, "not measured yet") {
				pending++
			}
		}
		w.mu.Unlock()
		if pending == 0 {
			return
		}
		if time.Now().After(deadline) {
			b.Fatalf("%s: %d checks without output in the catalog after %s", w.node, pending, limit)
		}
		time.Sleep(time.Second)
	}
}

// reset starts the steady-state count.
func (w *writeCounter) reset() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.settled, w.status, w.output, w.byName = true, 0, 0, map[string]int{}
}

type writeCounts struct {
	checks, status, output, transient int
	byName                            map[string]int
}

func (w *writeCounter) snapshot() writeCounts {
	w.mu.Lock()
	defer w.mu.Unlock()
	by := make(map[string]int, len(w.byName))
	for k, v := range w.byName {
		by[k] = v
	}
	return writeCounts{checks: len(w.last), status: w.status, output: w.output, transient: w.transient, byName: by}
}

// top lists the checks written, most written first.
func (c writeCounts) top() string {
	names := make([]string, 0, len(c.byName))
	for n := range c.byName {
		names = append(names, n)
	}
	sort.Slice(names, func(i, j int) bool {
		if c.byName[names[i]] != c.byName[names[j]] {
			return c.byName[names[i]] > c.byName[names[j]]
		}
		return names[i] < names[j]
	})
	var parts []string
	for _, n := range names {
		parts = append(parts, n+"="+strconv.Itoa(c.byName[n]))
	}
	if len(parts) == 0 {
		return "none"
	}
	return strings.Join(parts, " ")
}

package metrics

// Scrape cost (deploy/bench/README.md): one scrape of /metrics of a daemon with
// the full built-in catalog (every role and feature, deploy/dev/node.hcl),
// every check with an output shaped like its probe's (perfdata included),
// served by the same handler `run -metrics-addr` serves.
//
//	go test -run '^$' -bench BenchmarkScrape ./registrar/metrics
//
// Variants: "cached" scrapes with nothing changed since the last one;
// "changed" has one check output change before every scrape (its series
// rendered again, the set reassembled: what a real scrape does, as a 15–60 s
// interval always sees some change); "-gzip" asks for gzip as Prometheus does (the handler
// offers none, so this shows that asking costs nothing). cpu-µs/scrape
// is the process's user+system CPU (getrusage, garbage collection included)
// divided by the scrapes.

import (
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// sampleOutput is an output shaped like the probe's own (label, summary,
// perfdata with its units).
func sampleOutput(probe string, n int) string {
	v := float64(n % 7)
	pd := map[string][]checkscript.Perfdata{
		"disk":    {{Label: "/opt", Value: 52e9 + v, UOM: "B", Warn: "80000000000", Crit: "90000000000", Min: "0", Max: "100000000000"}},
		"load":    {{Label: "load1", Value: v / 10, Warn: "1.5", Crit: "3", Min: "0"}, {Label: "load5", Value: 0.2, Min: "0"}, {Label: "load15", Value: 0.3, Min: "0"}},
		"socket":  {{Label: "time", Value: 0.000012 * (v + 1), UOM: "s", Min: "0"}},
		"tcp":     {{Label: "time", Value: 0.00009 * (v + 1), UOM: "s", Min: "0", Max: "10"}},
		"dns":     {{Label: "time", Value: 0.003 * (v + 1), UOM: "s", Min: "0"}},
		"ping":    {{Label: "rta", Value: 0.05 * (v + 1), UOM: "ms", Min: "0"}, {Label: "pl", Value: 0, UOM: "%", Min: "0"}},
		"users":   {{Label: "users", Value: v, Warn: "1", Crit: "4", Min: "0"}},
		"systemd": nil,
	}
	return checkscript.Result{Label: strings.ToUpper(probe), Status: checkscript.OK, Summary: "sample", Perfdata: pd[probe]}.String()
}

// fullCatalog returns the desired state of deploy/dev/node.hcl with the
// exporter, and the agent's view of its checks, all passing.
func fullCatalog(tb testing.TB, n int) (registrar.State, map[string]*api.AgentCheck) {
	plan, err := hcl.Load(hcl.Options{
		ConfigDirs: []string{filepath.Join("..", "..", "deploy", "dev")},
		PathExists: func(string) bool { return true },
	})
	if err != nil {
		tb.Fatal(err)
	}
	st := registrar.Desired(plan, registrar.Options{Self: "/usr/bin/carbonio-health", Exporter: &registrar.Exporter{Port: 9999}})
	probes := map[string]string{}
	for _, t := range st.TTLChecks() {
		probes[t.CheckID] = t.Probe
	}
	checks := map[string]*api.AgentCheck{}
	for _, s := range st.Services {
		for _, c := range s.Registration.Checks {
			out := "TCP connect " + c.TCP + ": Success"
			switch {
			case len(c.Args) > 2:
				out = sampleOutput(c.Args[2], n)
			case probes[c.CheckID] != "":
				out = sampleOutput(probes[c.CheckID], n)
			case c.HTTP != "":
				out = "HTTP GET " + c.HTTP + ": 200 OK Output: ok"
			}
			checks[c.CheckID] = &api.AgentCheck{CheckID: c.CheckID, Status: api.HealthPassing, Output: out}
		}
	}
	return st, checks
}

func cpuTime() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func BenchmarkScrape(b *testing.B) {
	for _, v := range []struct {
		name          string
		changed, gzip bool
	}{
		{"cached", false, false},
		{"changed", true, false},
		{"changed-gzip", true, true},
	} {
		b.Run(v.name, func(b *testing.B) {
			c := New("bench")
			st, checks := fullCatalog(b, 0)
			c.Reconciled(st, registrar.Outcome{AgentChecks: checks}, nil)
			for _, t := range st.TTLChecks() {
				for i := range 20 {
					c.Probed(t, checkscript.Result{}, time.Duration(i*37)*time.Microsecond)
				}
			}
			_, alt := fullCatalog(b, 1)
			var one string // a check whose output changes before each scrape
			for id, ac := range alt {
				if ac.Output != checks[id].Output {
					one = id
					break
				}
			}
			h := c.Handler()
			req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
			req.Header.Set("Accept", "text/plain;version=0.0.4;q=0.9,*/*;q=0.1")
			if v.gzip {
				req.Header.Set("Accept-Encoding", "gzip")
			}
			var size int
			b.ReportAllocs()
			b.ResetTimer()
			cpu0 := cpuTime()
			for i := range b.N {
				if v.changed {
					if i%2 == 0 {
						checks[one], alt[one] = alt[one], checks[one]
					} else {
						alt[one], checks[one] = checks[one], alt[one]
					}
					c.Reconciled(st, registrar.Outcome{AgentChecks: checks}, nil)
				}
				w := &discard{header: http.Header{}}
				h.ServeHTTP(w, req)
				if w.code != http.StatusOK {
					b.Fatalf("status %d", w.code)
				}
				size = w.n
			}
			cpu := cpuTime() - cpu0
			b.StopTimer()
			b.ReportMetric(float64(cpu.Microseconds())/float64(b.N), "cpu-µs/scrape")
			b.ReportMetric(float64(size), "bytes/scrape")
			b.ReportMetric(float64(countSeries(b, c)), "series")
		})
	}
}

// countSeries counts the sample lines of one uncompressed scrape.
func countSeries(tb testing.TB, c *Collector) int {
	w := httptest.NewRecorder()
	c.Handler().ServeHTTP(w, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	body, _ := io.ReadAll(w.Body)
	n := 0
	for _, l := range strings.Split(string(body), "\n") {
		if l != "" && !strings.HasPrefix(l, "#") {
			n++
		}
	}
	if n == 0 {
		tb.Fatal(fmt.Sprintf("empty scrape: %q", body))
	}
	return n
}

// discard is a ResponseWriter that counts and drops the body, as a socket
// would take it (an httptest recorder would measure its own buffer growth).
type discard struct {
	header http.Header
	code   int
	n      int
}

func (d *discard) Header() http.Header { return d.header }

func (d *discard) Write(p []byte) (int, error) {
	if d.code == 0 {
		d.code = http.StatusOK
	}
	d.n += len(p)
	return len(p), nil
}

func (d *discard) WriteHeader(code int) { d.code = code }

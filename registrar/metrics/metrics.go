// Package metrics is the daemon's Prometheus endpoint: a registrar.Recorder
// that keeps the last state the daemon saw of every check, and serves it as
// metrics with prometheus/client_golang.
//
// Where the numbers come from: check status and perfdata from the agent's own
// view of the node's checks, which every reconcile pass reads anyway (so TTL,
// script, TCP and HTTP checks are reported alike, as Consul reports them, at
// no extra agent call); probe durations and TTL pushes from the TTL runner;
// reconcile writes and agent reachability from each pass. Perfdata is parsed
// only when a check's output changed. A scrape does no parsing and one read
// of /proc/self/stat: a check's series are rebuilt at the first scrape after
// it changed, and reused until its next change. client_golang's standard Go
// and process collectors are registered as every exporter has them
// (go_goroutines, go_threads, process_open_fds, …: a goroutine, thread or
// fd leak shows); they double the CPU of a scrape, about 0.6 ms more
// (deploy/prometheus/README.md), which a node pays once a scrape interval.
package metrics

import (
	"net/http"
	"runtime"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// durationBuckets cover the probes from an in-process stat (µs) to a ping
// or DNS timeout (s), one per decade: each bucket is a series of every TTL
// check, and the histograms are the larger part of a scrape.
var durationBuckets = []float64{0.0001, 0.001, 0.01, 0.1, 1, 10}

// Collector is the daemon's metrics. Its Recorder methods are safe for
// concurrent use; Handler serves them.
type Collector struct {
	reg *prometheus.Registry

	agentUp    prometheus.Gauge
	passes     prometheus.Counter
	passErrors prometheus.Counter
	writes     *prometheus.CounterVec
	pushes     prometheus.Counter
	pushFails  prometheus.Counter
	durations  *prometheus.HistogramVec
	checkDesc  checkDescs

	mu     sync.Mutex
	checks map[string]*checkState // by check ID
	gen    uint64                 // the pass that last saw a check
	cache  []prometheus.Metric    // check series; nil after a change
}

// checkState is what is known of one declared check.
type checkState struct {
	service string
	// parsed says whether its output carries perfdata (script and TTL
	// checks; an HTTP check's output is the response body).
	parsed bool
	status string
	output string
	perf   []perfValue
	// inProcess is set once the daemon evaluated the check itself (TTL):
	// its perfdata come from that full result, not from the agent's
	// output, which is the steady form without perfdata.
	inProcess bool
	// probe is set for TTL checks, whose durations are observed.
	probe string
	seen  uint64
	// series are its rendered metrics; nil after a change.
	series []prometheus.Metric
}

// perfValue is one perfdata item in its family's base unit, with the
// limits it carries (perfLimits, in the same unit).
type perfValue struct {
	family int
	label  string
	value  float64
	limits [numLimits]limit
}

// New returns a Collector; version is reported in carbonio_health_build_info.
func New(version string) *Collector {
	c := &Collector{
		reg: prometheus.NewRegistry(),
		agentUp: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "carbonio_health_agent_up",
			Help: "1 when the last reconcile pass could read the local Consul agent, else 0.",
		}),
		passes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carbonio_health_reconcile_passes_total",
			Help: "Reconcile passes (agent compared with the declaration).",
		}),
		passErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carbonio_health_reconcile_errors_total",
			Help: "Reconcile passes that ended with an error (agent unreachable, write refused).",
		}),
		writes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "carbonio_health_reconcile_writes_total",
			Help: "Writes to the agent by kind: register (new service), update (changed service), deregister, reload (config fragment).",
		}, []string{"kind"}),
		pushes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carbonio_health_ttl_pushes_total",
			Help: "TTL check updates sent to the agent.",
		}),
		pushFails: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "carbonio_health_ttl_push_failures_total",
			Help: "TTL check updates the agent refused or did not answer.",
		}),
		durations: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "carbonio_health_probe_duration_seconds",
			Help:    "Duration of the in-process evaluations of TTL checks.",
			Buckets: durationBuckets,
		}, []string{"check", "role", "probe"}),
		checkDesc: newCheckDescs(),
		checks:    map[string]*checkState{},
	}
	for _, k := range []string{"register", "update", "deregister", "reload"} {
		c.writes.WithLabelValues(k) // every kind present from the start, at 0
	}
	build := prometheus.NewGauge(prometheus.GaugeOpts{
		Name:        "carbonio_health_build_info",
		Help:        "Always 1; the labels say which build runs.",
		ConstLabels: prometheus.Labels{"version": version, "goversion": runtime.Version()},
	})
	build.Set(1)
	c.reg.MustRegister(c.agentUp, c.passes, c.passErrors, c.writes, c.pushes, c.pushFails, c.durations,
		build, checkCollector{c},
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return c
}

// Handler serves the metrics (Prometheus text format, uncompressed).
func (c *Collector) Handler() http.Handler {
	// A series that fails to render is left out; the others are served.
	// No gzip: the 22 kB of a full catalog cost nothing to send on a LAN,
	// and compressing them doubled the CPU of a scrape.
	return promhttp.HandlerFor(c.reg, promhttp.HandlerOpts{
		ErrorHandling:       promhttp.ContinueOnError,
		OfferedCompressions: []promhttp.Compression{promhttp.Identity},
	})
}

// Gatherer returns the registry, for tests and benchmarks.
func (c *Collector) Gatherer() prometheus.Gatherer { return c.reg }

// Probed implements registrar.Recorder. An evaluation that ends after its
// check left the declaration is not observed (its histogram is gone).
func (c *Collector) Probed(ck registrar.TTLCheck, r checkscript.Result, took time.Duration) {
	c.mu.Lock()
	cs := c.checks[ck.CheckID]
	if cs != nil {
		cs.inProcess = true
		if perf := perfValues(r.Perfdata); !slices.Equal(perf, cs.perf) {
			cs.perf = perf
			c.changed(cs)
		}
	}
	c.mu.Unlock()
	if cs != nil {
		c.durations.WithLabelValues(ck.CheckID, hcl.RoleOf(ck.CheckID), ck.Probe).Observe(took.Seconds())
	}
}

// Pushed implements registrar.Recorder.
func (c *Collector) Pushed(_ registrar.TTLCheck, err error) {
	c.pushes.Inc()
	if err != nil {
		c.pushFails.Inc()
	}
}

// Reconciled implements registrar.Recorder.
func (c *Collector) Reconciled(st registrar.State, out registrar.Outcome, err error) {
	c.passes.Inc()
	if err != nil {
		c.passErrors.Inc()
	}
	if n := len(out.Registered) - len(out.Replaced); n > 0 {
		c.writes.WithLabelValues("register").Add(float64(n))
	}
	if n := len(out.Replaced); n > 0 {
		c.writes.WithLabelValues("update").Add(float64(n))
	}
	if n := len(out.Deregistered); n > 0 {
		c.writes.WithLabelValues("deregister").Add(float64(n))
	}
	if out.Reloaded {
		c.writes.WithLabelValues("reload").Inc()
	}
	if out.AgentChecks == nil {
		c.agentUp.Set(0)
		return
	}
	c.agentUp.Set(1)
	c.observeChecks(st, out.AgentChecks)
}

// observeChecks stores the agent's status and output of every declared
// check and forgets the checks no longer declared.
func (c *Collector) observeChecks(st registrar.State, agent map[string]*api.AgentCheck) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.gen++
	gen := c.gen
	for _, svc := range st.Services {
		for _, def := range svc.Registration.Checks {
			cs := c.checks[def.CheckID]
			if cs == nil {
				cs = &checkState{service: svc.Registration.Name, parsed: len(def.Args) > 0 || def.TTL != ""}
				c.checks[def.CheckID] = cs
				c.changed(cs)
			}
			cs.seen = gen
			c.update(cs, agent[def.CheckID])
		}
		for _, t := range svc.TTL {
			if cs := c.checks[t.CheckID]; cs != nil {
				cs.probe = t.Probe
			}
		}
	}
	for id, cs := range c.checks {
		if cs.seen != gen {
			delete(c.checks, id)
			if cs.probe != "" {
				c.durations.DeleteLabelValues(id, hcl.RoleOf(id), cs.probe)
			}
			c.cache = nil
		}
	}
}

// update takes the agent's view of one check (nil: not in the agent yet).
func (c *Collector) update(cs *checkState, ac *api.AgentCheck) {
	status, output := "", ""
	if ac != nil {
		status, output = ac.Status, ac.Output
	}
	if status != cs.status {
		cs.status = status
		c.changed(cs)
	}
	if output == cs.output {
		return
	}
	cs.output = output
	if !cs.parsed || cs.inProcess {
		return
	}
	c.changed(cs)
	pd, _ := checkscript.ParseOutput(output) // a bad item is left out
	cs.perf = perfValues(pd)
}

// perfValues converts perfdata to base units: one value per label and
// family, items of an unknown unit or without a value left out.
func perfValues(pd []checkscript.Perfdata) []perfValue {
	type key struct {
		family int
		label  string
	}
	var out []perfValue
	seen := map[key]bool{}
	for _, p := range pd {
		u, ok := units[p.UOM]
		k := key{u.family, p.Label}
		if !ok || p.NoValue || seen[k] { // one series per label and family
			continue
		}
		seen[k] = true
		out = append(out, perfValue{family: u.family, label: p.Label, value: p.Value * u.factor, limits: perfLimits(p, u.factor)})
	}
	return out
}

// changed drops the rendered series of cs and of the whole set.
func (c *Collector) changed(cs *checkState) {
	cs.series = nil
	c.cache = nil
}

// checkDescs describe the per-check series built at scrape time.
type checkDescs struct {
	status *prometheus.Desc
	perf   []*prometheus.Desc
	// limit is nil for the families without limits (counters).
	limit []*prometheus.Desc
}

func newCheckDescs() checkDescs {
	d := checkDescs{status: prometheus.NewDesc("carbonio_health_check_status",
		"Status of a declared check as the local Consul agent reports it (passing, warning or critical), always 1: one series per check, its label the current status.",
		[]string{"check", "role", "service", "status"}, nil)}
	for _, f := range perfFamilies {
		d.perf = append(d.perf, prometheus.NewDesc(f.name, f.help, []string{"check", "role", "service", "label"}, nil))
		var ld *prometheus.Desc
		if f.limitName != "" {
			ld = prometheus.NewDesc(f.limitName, f.limitHelp, []string{"check", "role", "service", "label", "limit"}, nil)
		}
		d.limit = append(d.limit, ld)
	}
	return d
}

// checkCollector writes the per-check series.
type checkCollector struct{ c *Collector }

// Describe implements prometheus.Collector.
func (cc checkCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- cc.c.checkDesc.status
	for _, d := range cc.c.checkDesc.perf {
		ch <- d
	}
	for _, d := range cc.c.checkDesc.limit {
		if d != nil {
			ch <- d
		}
	}
}

// Collect implements prometheus.Collector: the cached series, rebuilt
// after a change.
func (cc checkCollector) Collect(ch chan<- prometheus.Metric) {
	c := cc.c
	c.mu.Lock()
	if c.cache == nil {
		c.cache = c.buildSeries()
	}
	series := c.cache
	c.mu.Unlock()
	for _, m := range series {
		ch <- m
	}
}

// buildSeries renders every check's status and perfdata, reusing the
// series of the checks that did not change; c.mu is held.
func (c *Collector) buildSeries() []prometheus.Metric {
	ids := make([]string, 0, len(c.checks))
	n := 0
	for id, cs := range c.checks {
		ids = append(ids, id)
		if cs.series == nil {
			cs.series = c.checkSeries(id, cs)
		}
		n += len(cs.series)
	}
	sort.Strings(ids)
	out := make([]prometheus.Metric, 0, n)
	for _, id := range ids {
		out = append(out, c.checks[id].series...)
	}
	return out
}

// checkSeries renders the status and perfdata of one check.
func (c *Collector) checkSeries(id string, cs *checkState) []prometheus.Metric {
	out := make([]prometheus.Metric, 0, 1+len(cs.perf))
	role := hcl.RoleOf(id)
	if cs.status != "" { // not in the agent yet: no series
		out = append(out, prometheus.MustNewConstMetric(c.checkDesc.status, prometheus.GaugeValue, 1, id, role, cs.service, cs.status))
	}
	for _, p := range cs.perf {
		f := perfFamilies[p.family]
		m, err := prometheus.NewConstMetric(c.checkDesc.perf[p.family], f.kind, p.value, id, role, cs.service, p.label)
		if err != nil { // a label that is not valid UTF-8 is left out
			continue
		}
		out = append(out, m)
		ld := c.checkDesc.limit[p.family]
		for i, l := range p.limits {
			if !l.set || ld == nil {
				continue
			}
			out = append(out, prometheus.MustNewConstMetric(ld, prometheus.GaugeValue, l.value, id, role, cs.service, p.label, limitNames[i]))
		}
	}
	return out
}

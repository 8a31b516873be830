package metrics

import (
	"os"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/procfs"
)

// processCollector is the daemon's own CPU and memory from one read of
// /proc/self/stat. client_golang's process collector also reads the fd
// directory, the limits and /proc/self/net/netstat at every scrape, which
// was half the cost of a scrape (deploy/bench/results.md); a node daemon
// needs none of those to show it stays small.
type processCollector struct {
	pid                   int
	cpu, rss, vsize, boot *prometheus.Desc
	// start is read once: it needs the boot time from /proc/stat.
	start float64
}

func newProcessCollector() processCollector {
	var start float64
	if proc, err := procfs.NewProc(os.Getpid()); err == nil {
		if st, err := proc.Stat(); err == nil {
			start, _ = st.StartTime()
		}
	}
	return processCollector{
		pid:   os.Getpid(),
		start: start,
		cpu:   prometheus.NewDesc("process_cpu_seconds_total", "Total user and system CPU time spent in seconds.", nil, nil),
		rss:   prometheus.NewDesc("process_resident_memory_bytes", "Resident memory size in bytes.", nil, nil),
		vsize: prometheus.NewDesc("process_virtual_memory_bytes", "Virtual memory size in bytes.", nil, nil),
		boot:  prometheus.NewDesc("process_start_time_seconds", "Start time of the process since unix epoch in seconds.", nil, nil),
	}
}

// Describe implements prometheus.Collector.
func (p processCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- p.cpu
	ch <- p.rss
	ch <- p.vsize
	ch <- p.boot
}

// Collect implements prometheus.Collector; without /proc it reports
// nothing.
func (p processCollector) Collect(ch chan<- prometheus.Metric) {
	proc, err := procfs.NewProc(p.pid)
	if err != nil {
		return
	}
	st, err := proc.Stat()
	if err != nil {
		return
	}
	ch <- prometheus.MustNewConstMetric(p.cpu, prometheus.CounterValue, st.CPUTime())
	ch <- prometheus.MustNewConstMetric(p.rss, prometheus.GaugeValue, float64(st.ResidentMemory()))
	ch <- prometheus.MustNewConstMetric(p.vsize, prometheus.GaugeValue, float64(st.VirtualMemory()))
	if p.start > 0 {
		ch <- prometheus.MustNewConstMetric(p.boot, prometheus.GaugeValue, p.start)
	}
}

package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"

	"github.com/shirou/gopsutil/v3/load"
)

// loadProbe is the load probe's entry in the registry of the light probes (Light).
var loadProbe = Probe{
	Name:    "load",
	Label:   "LOAD",
	Summary: "The 1, 5 and 15 minute load averages, optionally per CPU (like check_load).",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		return loadFlags(fs, &loadCheck{read: readLoad})
	},
}

// loadCheck compares the load averages with per-interval thresholds.
type loadCheck struct {
	warn, crit [3]float64
	perCPU     bool
	// read returns the three averages and the CPU count; tests replace it.
	read func(ctx context.Context, perCPU bool) ([3]float64, int, error)
	// calls bounds the reads given up on to one (Blocking).
	calls Calls
}

var loadIntervals = [3]string{"1", "5", "15"}

// loadFlags declares the flags of the load probe on fs, parsed into c,
// which holds the probe's inputs.
func loadFlags(fs *flag.FlagSet, c *loadCheck) func() (Check, error) {
	var warn, crit string
	StringFlag(fs, &warn, "w", "warning", "", "WLOAD1[,WLOAD5[,WLOAD15]]: warn above these loads (required)")
	StringFlag(fs, &crit, "c", "critical", "", "CLOAD1[,CLOAD5[,CLOAD15]]: critical above these loads (required)")
	BoolFlag(fs, &c.perCPU, "r", "percpu", "divide the load averages by the number of CPUs")
	return func() (Check, error) {
		var err error
		if c.warn, err = parseLoadTriplet(warn); err != nil {
			return nil, fmt.Errorf("-w: %w", err)
		}
		if c.crit, err = parseLoadTriplet(crit); err != nil {
			return nil, fmt.Errorf("-c: %w", err)
		}
		for i := range c.warn {
			if c.warn[i] > c.crit[i] {
				return nil, fmt.Errorf("Parameter inconsistency: %s-minute \"warning load\" is greater than \"critical load\"", loadIntervals[i])
			}
		}
		return c, nil
	}
}

// parseLoadTriplet reads "W1[,W5[,W15]]"; missing values repeat the last, as
// check_load does. Unlike check_load, an empty field ("1,,3") is an error
// rather than a silent 0.
func parseLoadTriplet(s string) ([3]float64, error) {
	var out [3]float64
	if strings.TrimSpace(s) == "" {
		return out, errors.New("threshold is required (float or float triplet)")
	}
	fields := strings.Split(s, ",")
	if len(fields) > 3 {
		return out, fmt.Errorf("%q has more than three values", s)
	}
	for i := range out {
		if i >= len(fields) {
			out[i] = out[i-1]
			continue
		}
		v, err := parseNumber(strings.TrimSpace(fields[i]))
		if err != nil {
			return out, fmt.Errorf("threshold must be float or float triplet: %w", err)
		}
		if v < 0 {
			return out, fmt.Errorf("%q: load thresholds are not negative", s)
		}
		out[i] = v
	}
	return out, nil
}

// readLoad reads /proc/loadavg (and, for -r, the CPU count) through
// gopsutil, which honours HOST_PROC.
func readLoad(ctx context.Context, perCPU bool) ([3]float64, int, error) {
	avg, err := load.AvgWithContext(ctx)
	if err != nil {
		return [3]float64{}, 0, fmt.Errorf("reading load averages: %w", err)
	}
	cpus := 1
	if perCPU {
		cpus = cpuCount()
	}
	return [3]float64{avg.Load1, avg.Load5, avg.Load15}, cpus, nil
}

// cpuCount returns the number of online CPUs as check_load gets it:
// sysconf(_SC_NPROCESSORS_ONLN), which glibc reads from
// $HOST_SYS/devices/system/cpu/online. Where that file cannot be read it
// counts the "processor" entries of $HOST_PROC/cpuinfo, then falls back to
// runtime.NumCPU.
//
// gopsutil's cpu.Counts(true) reads the same cpuinfo entries as the
// fallback here (then /proc/stat), but it is not used: importing
// gopsutil/v3/cpu runs an init() that reads /proc/stat twice and calls
// sysconf, 0.16-0.2 ms (GODEBUG=inittrace=1) at every exec of every probe of
// carbonio-health-check.
func cpuCount() int {
	if n, err := onlineCPUs(); err == nil && n > 0 {
		return n
	}
	data, err := os.ReadFile(HostProc("cpuinfo"))
	n := 0
	if err == nil {
		for _, line := range strings.Split(string(data), "\n") {
			key, val, ok := strings.Cut(line, ":")
			if !ok || strings.TrimSpace(strings.ToLower(key)) != "processor" {
				continue
			}
			if _, err := strconv.Atoi(strings.TrimSpace(val)); err == nil {
				n++
			}
		}
	}
	if n == 0 {
		n = runtime.NumCPU()
	}
	return n
}

// onlineCPUs reads the kernel's list of online CPUs.
func onlineCPUs() (int, error) {
	root := os.Getenv("HOST_SYS")
	if root == "" {
		root = "/sys"
	}
	data, err := os.ReadFile(filepath.Join(root, "devices", "system", "cpu", "online"))
	if err != nil {
		return 0, err
	}
	return countCPUList(strings.TrimSpace(string(data)))
}

// countCPUList counts the CPUs of a kernel CPU list such as "0-3,6,8-9".
func countCPUList(list string) (int, error) {
	n := 0
	for _, part := range strings.Split(list, ",") {
		lo, hi, isRange := strings.Cut(part, "-")
		a, err := strconv.Atoi(lo)
		if err != nil {
			return 0, fmt.Errorf("cpu list %q: %w", list, err)
		}
		b := a
		if isRange {
			if b, err = strconv.Atoi(hi); err != nil || b < a {
				return 0, fmt.Errorf("cpu list %q: bad range %q", list, part)
			}
		}
		n += b - a + 1
	}
	return n, nil
}

// Run reads the averages and evaluates them.
func (c *loadCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	type reading struct {
		avg  [3]float64
		cpus int
	}
	r, err := Blocking(ctx, &c.calls, "read /proc/loadavg", func() (reading, error) {
		avg, cpus, err := c.read(ctx, c.perCPU)
		return reading{avg, cpus}, err
	})
	if err != nil {
		if ctx.Err() != nil {
			return socketTimeout("LOAD", timeout)
		}
		return Unknownf("LOAD", "Error opening load average: "+err.Error())
	}
	return evaluateLoad(r.avg, r.cpus, c.perCPU, c.warn, c.crit)
}

// evaluateLoad is the pure part: strict > comparisons, critical first, any
// interval may trigger. With perCPU the thresholds apply to the averages
// divided by cpus, and both series appear in the output, as check_load -r.
func evaluateLoad(avg [3]float64, cpus int, perCPU bool, warn, crit [3]float64) Result {
	cmp := avg
	if perCPU {
		if cpus < 1 {
			cpus = 1
		}
		for i := range cmp {
			cmp[i] = avg[i] / float64(cpus)
		}
	}
	res := Result{Label: "LOAD", Status: OK}
	for i := range cmp {
		switch {
		case cmp[i] > crit[i]:
			res.Status = Critical
		case cmp[i] > warn[i]:
			res.Status = Worst(res.Status, Warning)
		}
	}
	total := fmt.Sprintf("total load average: %.2f, %.2f, %.2f", avg[0], avg[1], avg[2])
	if perCPU {
		res.Summary = fmt.Sprintf("scaled load average: %.2f, %.2f, %.2f - %s", cmp[0], cmp[1], cmp[2], total)
	} else {
		res.Summary = total
	}
	for i, iv := range loadIntervals {
		if perCPU {
			res.Perfdata = append(res.Perfdata, Perfdata{Label: "load" + iv, Value: round3(avg[i]), Min: "0"})
		}
		label := "load" + iv
		if perCPU {
			label = "scaled_load" + iv
		}
		res.Perfdata = append(res.Perfdata, Perfdata{Label: label, Value: round3(cmp[i]),
			Warn: FormatFloat(warn[i]), Crit: FormatFloat(crit[i]), Min: "0"})
	}
	return res
}

// round3 keeps the three decimals check_load prints in perfdata.
func round3(v float64) float64 { return math.Round(v*1000) / 1000 }

// HostProc returns a path under $HOST_PROC (default /proc), as gopsutil
// reads it, so tests and containers can point the probes at another /proc.
func HostProc(elem ...string) string {
	root := os.Getenv("HOST_PROC")
	if root == "" {
		root = "/proc"
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
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
	Syntax: ArgSyntax{NeedArgs: NoArguments},
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
// which holds the probe's inputs. They are check_load's: thresholds
// default to 0 (-c 3 alone warns on any load), a threshold that is not a
// number is refused, and check_load's operands are read and ignored (its
// code for them never runs).
func loadFlags(fs *flag.FlagSet, c *loadCheck) func() (Check, error) {
	var bad error
	threshold := func(dst *[3]float64) func(string) error {
		return func(s string) error {
			if !parseLoadThreshold(s, dst) && bad == nil {
				bad = errors.New("Warning threshold must be float or float triplet!")
			}
			return nil
		}
	}
	fs.Func("w", "WLOAD1[,WLOAD5[,WLOAD15]]: warn above these loads (missing values repeat the last)", threshold(&c.warn))
	Alias(fs, "w", "warning")
	fs.Func("c", "CLOAD1[,CLOAD5[,CLOAD15]]: critical above these loads", threshold(&c.crit))
	Alias(fs, "c", "critical")
	BoolFlag(fs, &c.perCPU, "r", "percpu", "divide the load averages by the number of CPUs")
	fs.Func("n", "number of top processes to show (accepted as check_load's; none is listed)", func(string) error { return nil })
	Alias(fs, "n", "procs-to-show")
	Operands(fs, "", func(string) error { return nil })
	return func() (Check, error) {
		if bad != nil {
			return nil, bad
		}
		for i, iv := range loadIntervals {
			switch {
			case c.crit[i] < 0:
				return nil, fmt.Errorf("Critical threshold for %s-minute load average is not specified", iv)
			case c.warn[i] < 0:
				return nil, fmt.Errorf("Warning threshold for %s-minute load average is not specified", iv)
			case c.warn[i] > c.crit[i]:
				return nil, fmt.Errorf("Parameter inconsistency: %s-minute \"warning load\" is greater than \"critical load\"", iv)
			}
		}
		return c, nil
	}
}

// parseLoadThreshold reads "W1[,W5[,W15]]" into th as check_load's
// get_threshold does: up to three numbers, each read by strtod and
// followed by one separator; missing values repeat the last one read (an
// empty field reads 0 and is repeated: "1,,3" is 1,0,0). It reports false
// when s does not start with a number.
func parseLoadThreshold(s string, th *[3]float64) bool {
	str, i, valid := 0, 0, false
	for ; i < 3; i++ {
		v, n := Strtod(s[str:])
		th[i] = v
		if n == 0 {
			break
		}
		valid = true
		str += n + 1
		if len(s) <= str {
			break
		}
	}
	if i == 0 && !valid {
		return false
	}
	if i < 3 && i != 2 {
		for n := i; n < 3; n++ {
			th[n] = th[i]
		}
	}
	return true
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
	milli := func(v float64) string { return fmt.Sprintf("%.3f", v) }
	for i, iv := range loadIntervals {
		item := Perfdata{Label: "load" + iv, Value: avg[i], Format: "%.3f", Min: "0", Fields: 4}
		if perCPU {
			res.Perfdata = append(res.Perfdata, item)
			item = Perfdata{Label: "scaled_load" + iv, Value: cmp[i], Format: "%.3f", Min: "0", Fields: 4}
		}
		item.Warn, item.Crit = milli(warn[i]), milli(crit[i])
		res.Perfdata = append(res.Perfdata, item)
	}
	res.Steady = steadyLoad(res.Status, warn, crit)
	return res
}

// steadyLoad is the load's steady form: the state and its thresholds, as
// the three averages move all the time (and which one crosses a threshold
// moves on a loaded node without a change of state).
func steadyLoad(s Status, warn, crit [3]float64) string {
	join := func(t [3]float64) string {
		return FormatFloat(t[0]) + "," + FormatFloat(t[1]) + "," + FormatFloat(t[2])
	}
	switch s {
	case OK:
		return "load average under the warning thresholds (" + join(warn) + ")"
	case Warning:
		return "load average over a warning threshold (" + join(warn) + ")"
	}
	return "load average over a critical threshold (" + join(crit) + ")"
}

// HostProc returns a path under $HOST_PROC (default /proc), as gopsutil
// reads it, so tests and containers can point the probes at another /proc.
func HostProc(elem ...string) string {
	root := os.Getenv("HOST_PROC")
	if root == "" {
		root = "/proc"
	}
	return filepath.Join(append([]string{root}, elem...)...)
}

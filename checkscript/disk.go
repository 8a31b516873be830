package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/bits"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// diskProbe is the disk probe's entry in the registry of the light probes (Light).
var diskProbe = Probe{
	Name:    "disk",
	Label:   "DISK",
	Summary: "Free space and inodes of the filesystems holding -p paths (like check_disk; --used-* for used %).",
	Define: func(fs *flag.FlagSet) func() (Check, error) {
		return diskFlags(fs, &diskCheck{statfs: statfsPath})
	},
}

// diskCheck evaluates free space on the filesystem of every -p path.
type diskCheck struct {
	paths []string
	diskLimits
	// statfs is the only I/O; tests replace it.
	statfs func(path string) (fsStats, error)
	// calls bounds the statfs calls given up on (a hung mount) to one per
	// path: later runs report the hang at once (Blocking).
	calls Calls
}

// diskLimits is the pure configuration evaluateDisk applies.
type diskLimits struct {
	warn, crit   freeThreshold // free space
	iwarn, icrit freeThreshold // free inodes, percent only
	unit         diskUnit
}

// freeThreshold is one check_disk threshold on FREE space: alert when the
// free amount is at or below value (inclusive, as check_disk's "@0:value").
type freeThreshold struct {
	set     bool
	value   float64
	percent bool // value is a percentage, else an amount in the -u unit
}

// diskUnit is a -u unit, in powers of 1024 as check_disk counts them.
type diskUnit struct {
	name string // as printed: "MiB"
	mult uint64
}

var diskUnits = map[string]diskUnit{
	"kb": {"kiB", 1 << 10}, "kib": {"kiB", 1 << 10},
	"mb": {"MiB", 1 << 20}, "mib": {"MiB", 1 << 20},
	"gb": {"GiB", 1 << 30}, "gib": {"GiB", 1 << 30},
	"tb": {"TiB", 1 << 40}, "tib": {"TiB", 1 << 40},
}

// fsStats is what statfs tells about one filesystem, in bytes and inodes.
type fsStats struct {
	Total, Free, Avail uint64 // Free counts reserved blocks, Avail does not
	Files, FilesFree   uint64
}

// diskFlags declares the flags of the disk probe on fs, parsed into c,
// which holds the probe's inputs.
func diskFlags(fs *flag.FlagSet, c *diskCheck) func() (Check, error) {
	var warn, crit, iwarn, icrit, unit, usedWarn, usedCrit string
	// Unlike check_disk, where a threshold applies only to the -p paths that
	// follow it (and -p before any threshold is an error), Go's flag package
	// parses everything first: order does not matter and every threshold
	// applies to every path.
	StringFlag(fs, &warn, "w", "warning", "", "warn when free space is at or below N% or N units (-u)")
	StringFlag(fs, &crit, "c", "critical", "", "critical when free space is at or below N% or N units (-u)")
	StringFlag(fs, &iwarn, "W", "iwarning", "", "warn when free inodes are at or below N%")
	StringFlag(fs, &icrit, "K", "icritical", "", "critical when free inodes are at or below N%")
	fs.StringVar(&usedWarn, "used-warning", "", "warn when USED space is at or above N% (instead of -w)")
	fs.StringVar(&usedCrit, "used-critical", "", "critical when USED space is at or above N% (instead of -c)")
	ListVar(fs, &c.paths, "p", "path", "path whose filesystem to check (repeatable, required)")
	StringFlag(fs, &unit, "u", "units", "MB", "unit of absolute thresholds and output: kB, MB, GB or TB (powers of 1024)")
	return func() (Check, error) {
		if len(c.paths) == 0 {
			return nil, errors.New("-p PATH is required")
		}
		c.paths = uniquePaths(c.paths)
		var ok bool
		if c.unit, ok = diskUnits[strings.ToLower(unit)]; !ok {
			return nil, fmt.Errorf("-u: unit type %s not known", unit)
		}
		var err error
		if warn, crit, err = usedModeFlags(warn, crit, usedWarn, usedCrit); err != nil {
			return nil, err
		}
		for _, t := range []struct {
			name, text string
			dst        *freeThreshold
			pctOnly    bool
		}{{"-w", warn, &c.warn, false}, {"-c", crit, &c.crit, false}, {"-W", iwarn, &c.iwarn, true}, {"-K", icrit, &c.icrit, true}} {
			if *t.dst, err = parseFreeThreshold(t.text, t.pctOnly); err != nil {
				return nil, fmt.Errorf("%s: %w", t.name, err)
			}
		}
		return c, nil
	}
}

// uniquePaths drops repeated paths, keeping the first occurrence's place.
func uniquePaths(paths []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, p := range paths {
		if !seen[p] {
			seen[p] = true
			out = append(out, p)
		}
	}
	return out
}

// usedModeFlags folds --used-warning/--used-critical into -w/-c.
func usedModeFlags(warn, crit, usedWarn, usedCrit string) (string, string, error) {
	if usedWarn == "" && usedCrit == "" {
		return warn, crit, nil
	}
	if warn != "" || crit != "" {
		return "", "", errors.New("use either -w/-c (free space) or --used-warning/--used-critical (used space), not both")
	}
	var err error
	if usedWarn != "" {
		if warn, err = usedToFree(usedWarn); err != nil {
			return "", "", fmt.Errorf("--used-warning: %w", err)
		}
	}
	if usedCrit != "" {
		if crit, err = usedToFree(usedCrit); err != nil {
			return "", "", fmt.Errorf("--used-critical: %w", err)
		}
	}
	return warn, crit, nil
}

// usedToFree translates a threshold on USED space, as the Carbonio document
// states them ("alert at 80% used"), into check_disk's threshold on FREE
// space: used% >= U  ⇔  free% <= 100−U, exactly, because free% is computed
// as 100 − used%. Only percentages translate without knowing the size.
func usedToFree(used string) (string, error) {
	num, isPct := strings.CutSuffix(strings.TrimSpace(used), "%")
	if !isPct {
		return "", fmt.Errorf("%q: a used-space threshold is a percentage such as 80%%", used)
	}
	v, err := parseNumber(num)
	if err != nil {
		return "", fmt.Errorf("%q: %w", used, err)
	}
	if v < 0 || v > 100 {
		return "", fmt.Errorf("%q is not within 0..100%%", used)
	}
	return FormatFloat(100-v) + "%", nil
}

// parseFreeThreshold reads "20%" (percent) or "500" (an amount in the unit).
func parseFreeThreshold(s string, pctOnly bool) (freeThreshold, error) {
	s = strings.TrimSpace(s)
	if s == "" {
		return freeThreshold{}, nil
	}
	num, pct := strings.CutSuffix(s, "%")
	v, err := parseNumber(num)
	if err != nil {
		return freeThreshold{}, err
	}
	if v < 0 || ((pct || pctOnly) && v > 100) {
		return freeThreshold{}, fmt.Errorf("%q is out of range", s)
	}
	return freeThreshold{set: true, value: v, percent: pct || pctOnly}, nil
}

// statfsPath reads a path's filesystem usage; fragment sizes are used as
// check_disk does (f_frsize, falling back to f_bsize).
func statfsPath(path string) (fsStats, error) {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	for err == unix.EINTR { // a signal while a network or FUSE mount answers
		err = unix.Statfs(path, &st)
	}
	if err != nil {
		return fsStats{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return fsStats{
		Total: st.Blocks * bs, Free: st.Bfree * bs, Avail: st.Bavail * bs,
		Files: st.Files, FilesFree: st.Ffree,
	}, nil
}

// Run statfs-es every path (giving up when ctx ends) and evaluates them.
// A path whose statfs hangs is CRITICAL at once on later runs, with the
// time it started hanging (see Blocking); the steady form leaves that out.
func (c *diskCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	res := Result{Label: "DISK", Status: OK}
	// Every path at once: a hung one does not use up the others' time.
	stats, errs := make([]fsStats, len(c.paths)), make([]error, len(c.paths))
	var wg sync.WaitGroup
	for i, p := range c.paths {
		wg.Go(func() {
			stats[i], errs[i] = Blocking(ctx, &c.calls, "statfs "+p, func() (fsStats, error) { return c.statfs(p) })
		})
	}
	wg.Wait()
	var parts, failures, steady []string
	for i, p := range c.paths {
		st, err := stats[i], errs[i]
		var hung *HungError
		switch {
		case errors.As(err, &hung):
			full, stable := hung.Hung("statfs", timeout)
			failures = append(failures, p+" is not accessible: "+full)
			steady = append(steady, p+" is not accessible: "+stable)
			continue
		case err != nil:
			text := fmt.Sprintf("%s is not accessible: %s", p, ErrText(err))
			failures, steady = append(failures, text), append(steady, text)
			continue
		}
		ev := evaluateDisk(p, st, c.diskLimits)
		res.Status = Worst(res.Status, ev.Status)
		parts = append(parts, ev.Text)
		res.Perfdata = append(res.Perfdata, ev.Perfdata)
	}
	if len(failures) > 0 {
		// check_disk stops at the first inaccessible path; we name them all.
		return Result{Label: "DISK", Status: Critical, Summary: strings.Join(failures, "; "), Steady: strings.Join(steady, "; ")}
	}
	res.Summary = "free space: " + strings.Join(parts, " ")
	return res
}

// diskEval is evaluateDisk's answer for one path.
type diskEval struct {
	Status       Status
	FreeUnits    uint64 // free space available to users, in the unit, truncated
	FreePct      int    // 100 − used% rounded up, as check_disk
	InodeFreePct int
	Text         string // "/ 77140MiB (82% inode=96%);"
	Perfdata     Perfdata
}

// evaluateDisk is the pure part of the probe: from statfs numbers and the
// limits it computes what check_disk 2.3.3 prints. used = total − free;
// used% = ⌈used / (used + avail) · 100⌉ (reserved blocks excluded);
// free% = 100 − used%; thresholds are inclusive (free ≤ N alerts).
func evaluateDisk(path string, st fsStats, l diskLimits) diskEval {
	if l.unit.mult == 0 {
		l.unit = diskUnits["mb"]
	}
	if st.Total == 0 {
		return diskEval{Status: Unknown, Text: path + " has no blocks (pseudo filesystem);",
			Perfdata: Perfdata{Label: path, NoValue: true}}
	}
	used := st.Total - min(st.Free, st.Total)
	ev := diskEval{
		FreeUnits:    st.Avail / l.unit.mult,
		FreePct:      100 - ceilPercent(used, used+st.Avail),
		InodeFreePct: 100,
	}
	if st.Files > 0 {
		ev.InodeFreePct = 100 - ceilPercent(st.Files-min(st.FilesFree, st.Files), st.Files)
	}
	hit := func(t, it freeThreshold) bool {
		return t.hit(float64(ev.FreePct), float64(ev.FreeUnits)) || it.hit(float64(ev.InodeFreePct), math.NaN())
	}
	switch {
	case hit(l.crit, l.icrit):
		ev.Status = Critical
	case hit(l.warn, l.iwarn):
		ev.Status = Warning
	}
	ev.Text = fmt.Sprintf("%s %d%s (%d%% inode=%d%%);", path, ev.FreeUnits, l.unit.name, ev.FreePct, ev.InodeFreePct)
	ev.Perfdata = Perfdata{
		Label: path, Value: float64(used), UOM: "B",
		Warn: l.warn.usedBytes(st.Total, l.unit), Crit: l.crit.usedBytes(st.Total, l.unit),
		Min: "0", Max: FormatFloat(float64(st.Total)),
	}
	return ev
}

// hit reports whether the free amount is at or below the threshold.
func (t freeThreshold) hit(freePct, freeUnits float64) bool {
	if !t.set {
		return false
	}
	if t.percent {
		return freePct <= t.value
	}
	return freeUnits <= t.value
}

// usedBytes expresses a free-space threshold as used bytes for perfdata, as
// check_disk does: total·(100−N)/100, or total − N units (never below 0,
// where check_disk wraps around).
func (t freeThreshold) usedBytes(total uint64, u diskUnit) string {
	if !t.set {
		return ""
	}
	if t.percent {
		return FormatFloat(math.Floor(float64(total) * (100 - t.value) / 100))
	}
	return FormatFloat(math.Max(0, float64(total)-t.value*float64(u.mult)))
}

// ceilPercent returns ⌈part·100/whole⌉ in integer arithmetic (no float
// rounding at exact percentages); 0 when whole is 0.
func ceilPercent(part, whole uint64) int {
	if whole == 0 {
		return 0
	}
	part = min(part, whole)
	hi, lo := bits.Mul64(part, 100)
	q, r := bits.Div64(hi, lo, whole) // hi < whole since part ≤ whole
	if r != 0 {
		q++
	}
	return int(q)
}

package checkscript

import (
	"fmt"
	"math"
	"math/bits"
	"strings"
)

// diskUsage is check_disk's figures for one filesystem or group: sizes in
// bytes, "units" in the -u unit (truncated per filesystem, then added up),
// percentages as it computes them.
type diskUsage struct {
	used, avail, total                  uint64
	usedUnits, freeUnits, totalUnits    uint64
	inodesUsed, inodesFree, inodesTotal uint64
	usedPct, freePct                    float64 // ⌈used / (used + avail)⌉, so free% = 100 − used%
	usedInodesPct, freeInodesPct        float64 // -1 and 101 without inodes
}

// usage adds up the statfs figures of members as check_disk's
// get_path_stats and get_stats do.
func usage(members []fsStats, o diskOptions) diskUsage {
	var u diskUsage
	for _, st := range members {
		used := st.Total - min(st.Free, st.Total)
		total := st.Total
		if o.ignoreReserved {
			total = st.Total - st.Free + st.Avail
		}
		u.used, u.avail, u.total = u.used+used, u.avail+st.Avail, u.total+total
		u.usedUnits += used / o.unit.mult
		u.freeUnits += st.Avail / o.unit.mult
		u.totalUnits += total / o.unit.mult
		u.inodesUsed += st.Files - min(st.FilesFree, st.Files)
		u.inodesFree += st.FilesFree
		u.inodesTotal += st.Files
	}
	u.usedPct = cPercent(u.used, u.used+u.avail)
	u.freePct = 100 - u.usedPct
	u.usedInodesPct = cPercent(u.inodesTotal-min(u.inodesFree, u.inodesTotal), u.inodesTotal)
	u.freeInodesPct = 100 - u.usedInodesPct
	return u
}

// cPercent is check_disk's calculate_percent: ⌈part·100/whole⌉ in integer
// arithmetic (no float rounding at exact percentages), -1 when whole is 0.
func cPercent(part, whole uint64) float64 {
	if whole == 0 {
		return -1
	}
	part = min(part, whole)
	hi, lo := bits.Mul64(part, 100)
	q, r := bits.Div64(hi, lo, whole) // hi < whole since part ≤ whole
	if r != 0 {
		q++
	}
	return float64(q)
}

// diskEval is evaluateDisk's answer for one filesystem or group.
type diskEval struct {
	Status   Status
	Text     string // " / 77140MiB (82% inode=96%);"
	Steady   string // "/ free space at or below the warning threshold 20%", or "" when OK
	Perfdata []Perfdata
}

// evaluateDisk is check_disk's verdict on one entry: every threshold of the
// entry against its figure (critical first), its text and its perfdata
// (used bytes, thresholds as the used bytes at which they alert).
func evaluateDisk(label string, u diskUsage, l diskLimits, o diskOptions) diskEval {
	checks := []struct {
		v    float64
		t    Thresholds
		what string
		unit string
	}{
		{float64(u.freeUnits), l.freeUnits, "free space", o.unit.name},
		{u.freePct, l.freePct, "free space", "%"},
		{u.usedPct, l.usedPct, "used space", "%"},
		{u.freeInodesPct, l.freeInodes, "free inodes", "%"},
	}
	ev := diskEval{Status: OK}
	for _, c := range checks {
		s := c.t.Evaluate(c.v)
		if Severity(s) > Severity(ev.Status) {
			ev.Status = s
			why, _ := c.t.Breach(c.v, c.unit)
			ev.Steady = label + " " + c.what + " " + why
		}
	}
	header, closing := "", ""
	if ev.Status != OK && o.verbose >= 1 {
		header, closing = " "+ev.Status.String()+" [", "]"
	}
	ev.Text = fmt.Sprintf("%s %s %d%s (%.0f%%", header, label, u.freeUnits, o.unit.name, u.freePct)
	if u.usedInodesPct < 0 {
		if ev.Status != OK {
			closing = "]" // check_disk closes it here without -v too
		}
		ev.Text += " inode=-)" + closing + ";"
	} else {
		ev.Text += fmt.Sprintf(" inode=%.0f%%)%s;", u.freeInodesPct, closing)
	}
	mult := o.unit.mult
	size := u.totalUnits * mult
	warn, crit := highTide(l.freeUnits.Warn, l.freePct.Warn, u.totalUnits, mult), highTide(l.freeUnits.Crit, l.freePct.Crit, u.totalUnits, mult)
	ev.Perfdata = []Perfdata{{Label: label, Value: float64(u.usedUnits * mult), Format: "%.0f", UOM: "B",
		Warn: warn, Crit: crit, Min: "0", Max: fmt.Sprint(size), Fields: 4}}
	if o.inodePerfdata {
		ev.Perfdata = append(ev.Perfdata, Perfdata{Label: label + " (inodes)", Value: float64(u.inodesUsed), Format: "%.0f",
			Warn: inodeTide(l.freeInodes.Warn, u.inodesTotal), Crit: inodeTide(l.freeInodes.Crit, u.inodesTotal),
			Min: "0", Max: fmt.Sprint(u.inodesTotal), Fields: 4})
	}
	return ev
}

// highTide is check_disk's threshold in perfdata: the used bytes at which
// a free-space threshold alerts, the lower of the units one and the
// percent one, computed as it does in C (a units threshold larger than the
// disk wraps around as its double-to-uint64 conversion does).
func highTide(units, pct *Range, totalUnits, mult uint64) string {
	tide, set := uint64(math.MaxUint64), false
	if units != nil {
		tide, set = cUint64((float64(totalUnits)-units.End)*float64(mult)), true
	}
	if pct != nil {
		tide, set = min(tide, cUint64((1.0-pct.End/100)*float64(totalUnits*mult))), true
	}
	if !set || tide == math.MaxUint64 {
		return ""
	}
	return fmt.Sprint(tide)
}

// inodeTide is highTide for free inodes (-P).
func inodeTide(pct *Range, total uint64) string {
	if pct == nil {
		return ""
	}
	return fmt.Sprint(cUint64(math.Abs(min(float64(math.MaxUint64), (1.0-pct.End/100)*float64(total)))))
}

// cUint64 converts as x86-64 C does: below 2^63 through a signed integer,
// so a negative value wraps around.
func cUint64(v float64) uint64 {
	if v < 1<<63 {
		return uint64(int64(v))
	}
	return uint64(v)
}

// evaluateDisks is check_disk's answer for the selected entries: UNKNOWN
// when none could be evaluated, else the worst state; the paths that are
// OK left out with -e; perfdata for every entry.
func evaluateDisks(entries []diskEntry, stats map[string]fsStats, o diskOptions) Result {
	res := Result{Label: "DISK", Status: Unknown, PerfLead: true}
	var text strings.Builder
	var labels, steady []string
	for _, e := range entries {
		own := stats[e.members[0]]
		if own.Total == 0 || e.dir == "none" {
			continue // no blocks (proc, sysfs…): check_disk skips it silently
		}
		members := make([]fsStats, len(e.members))
		for i, m := range e.members {
			members[i] = stats[m]
		}
		ev := evaluateDisk(e.label, usage(members, o), e.limits, o)
		res.Status = maxState(res.Status, ev.Status)
		res.Perfdata = append(res.Perfdata, ev.Perfdata...)
		labels = append(labels, e.label)
		if ev.Status != OK {
			steady = append(steady, ev.Steady)
		}
		if ev.Status == OK && o.errorsOnly && o.verbose == 0 {
			continue
		}
		text.WriteString(ev.Text)
	}
	if !(o.errorsOnly && res.Status == OK) {
		res.Summary = "free space:" + text.String()
	}
	switch {
	case len(labels) == 0:
		res.Steady = "no filesystem to check"
	case len(steady) == 0:
		res.Steady = "free space within the thresholds on " + strings.Join(labels, " ")
	default:
		res.Steady = strings.Join(steady, "; ")
	}
	return res
}

// maxState is the plugins' max_state: CRITICAL, then WARNING, then OK,
// then UNKNOWN (an OK filesystem outranks none evaluated).
func maxState(a, b Status) Status {
	for _, s := range []Status{Critical, Warning, OK, Unknown} {
		if a == s || b == s {
			return s
		}
	}
	return a
}

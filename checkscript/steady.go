package checkscript

import "math"

// The steady form of a result is what Consul stores as a check's output.
//
// The agent writes a check to the catalog at once when its status changes,
// and an output-only change once per check_update_interval (5 min by
// default). A probe whose line carries measurements that move on every run
// (free bytes, load averages, round-trip and response times, perfdata) thus
// costs one catalog write per check every few minutes on a node where
// nothing happens. The steady form keeps the state and what explains it (the
// status, which path or port, the thresholds crossed) and leaves the moving
// numbers out, so its text changes only when something worth a write does.
// The full line stays what `carbonio-health check` prints by hand or for
// Nagios, perfdata included.
//
// Each probe writes its own steady form (Result.Steady) beside its full
// summary, from the values it measured: nothing is parsed back from text.
// allprobes' TestSteadyRegistry runs every probe twice on inputs that
// differ only in measured numbers and wants one stored line.

// SteadyString formats the steady form: `LABEL STATUS - summary`, without
// perfdata and without the measurements that move while the state holds
// (Steady, or Summary when the probe set none: it holds no moving number).
func (r Result) SteadyString() string {
	s := Result{Label: r.Label, Status: r.Status, Summary: r.Summary, Colon: r.Colon}
	if r.Steady != "" {
		s.Summary = r.Steady
	}
	return s.String()
}

// Breach words a measured value against the thresholds it crossed, for a
// steady form: "over the warning threshold 100 ms", "under the critical
// threshold 5", "within the critical range @1:2". ok is false when the
// value crosses neither.
func (t Thresholds) Breach(v float64, unit string) (text string, ok bool) {
	for _, side := range []struct {
		r    *Range
		name string
	}{{t.Crit, "critical"}, {t.Warn, "warning"}} {
		if side.r == nil || !side.r.Alert(v) {
			continue
		}
		return side.r.words(v, side.name, unit), true
	}
	return "", false
}

// words says how v crosses r: "over the warning threshold 10 s", "at or
// below the critical threshold 10%" (check_disk's "@10%").
func (r Range) words(v float64, name, unit string) string {
	if unit != "" && unit != "%" {
		unit = " " + unit
	}
	switch {
	case r.Inside && r.Start == 0 && !math.IsInf(r.End, 1):
		return "at or below the " + name + " threshold " + FormatFloat(r.End) + unit
	case r.Inside:
		return "within the " + name + " range " + r.text
	case v > r.End:
		return "over the " + name + " threshold " + FormatFloat(r.End) + unit
	}
	return "under the " + name + " threshold " + FormatFloat(r.Start) + unit
}

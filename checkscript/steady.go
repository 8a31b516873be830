package checkscript

import (
	"regexp"
	"strconv"
	"strings"
)

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

// steadyRule says how one probe's summary becomes steady.
type steadyRule struct {
	// strip removes the moving measurements from the result's summary.
	strip func(r Result) string
	// breaches appends the perfdata thresholds crossed, which say why a
	// result is not OK once its numbers are gone.
	breaches bool
}

// steadyRules is keyed by the result's label; a label not listed only
// loses its perfdata.
var steadyRules = map[string]steadyRule{
	// "free space: /opt 75302MiB (80% inode=96%);": the paths when OK (a
	// busy filesystem crosses a 1 % step often), the percentages otherwise.
	"DISK": {strip: steadyDisk},
	// Three averages in two series, moving all the time: the status and the
	// thresholds say it (which average crosses which moves too often on a
	// loaded node, and is no change of state).
	"LOAD": {strip: steadyLoad},
	// "Packet loss = 0%, RTA = 0.31 ms": the loss stays.
	"PING": {strip: replacer(`, RTA = [0-9.]+ ms`, ""), breaches: true},
	// "0.002 seconds response time. x returns 1.2.3.4": the answer stays.
	"DNS": {strip: replacer(`^[0-9.]+ seconds? response time\. `, ""), breaches: true},
	// "0.000 second response time on 127.0.0.1 port 25".
	"TCP": {strip: replacer(`^[0-9.]+ seconds? response time on `, "connected to "), breaches: true},
}

func replacer(pattern, repl string) func(Result) string {
	re := regexp.MustCompile(pattern)
	return func(r Result) string { return re.ReplaceAllString(r.Summary, repl) }
}

// steadyLoad names the thresholds of the status: "load average over a
// critical threshold (3,2.5,2)".
func steadyLoad(r Result) string {
	var warn, crit []string
	for _, p := range r.Perfdata {
		if p.Warn != "" || p.Crit != "" {
			warn, crit = append(warn, trimNumber(p.Warn)), append(crit, trimNumber(p.Crit))
		}
	}
	if len(warn) == 0 {
		return r.Summary // no thresholds: an error text, steady already
	}
	switch r.Status {
	case OK:
		return "load average under the warning thresholds (" + strings.Join(warn, ",") + ")"
	case Warning:
		return "load average over a warning threshold (" + strings.Join(warn, ",") + ")"
	default:
		return "load average over a critical threshold (" + strings.Join(crit, ",") + ")"
	}
}

// diskFree matches one path of check_disk's line: "/opt 75302MiB (80% inode=96%);".
var diskFree = regexp.MustCompile(`(\S+) [0-9]+[KMGTP]?i?B (\([0-9]+% inode=[0-9]+%\));`)

func steadyDisk(r Result) string {
	if r.Status != OK {
		return diskFree.ReplaceAllString(r.Summary, "$1 $2;")
	}
	var paths []string
	for _, m := range diskFree.FindAllStringSubmatch(r.Summary, -1) {
		paths = append(paths, m[1])
	}
	if len(paths) == 0 {
		return r.Summary
	}
	return "free space within the thresholds on " + strings.Join(paths, " ")
}

// SteadyString formats the steady form: `LABEL STATUS - summary`, without
// perfdata and without the measurements that move while the state holds.
func (r Result) SteadyString() string {
	s := Result{Label: r.Label, Status: r.Status, Summary: r.Summary}
	rule, ok := steadyRules[r.Label]
	if !ok {
		return s.String()
	}
	if rule.strip != nil {
		s.Summary = rule.strip(r)
	}
	if rule.breaches {
		if b := breaches(r.Perfdata); len(b) > 0 {
			s.Summary += ": " + strings.Join(b, ", ")
		}
	}
	return s.String()
}

// breaches names each perfdata item whose value crosses its thresholds, as
// "load1 over critical 3".
func breaches(pd []Perfdata) []string {
	var out []string
	for _, p := range pd {
		if p.NoValue || (p.Warn == "" && p.Crit == "") {
			continue
		}
		t, err := ParseThresholds(p.Warn, p.Crit)
		if err != nil {
			continue
		}
		switch t.Evaluate(p.Value) {
		case Critical:
			out = append(out, p.Label+" over critical "+trimNumber(p.Crit)+p.UOM)
		case Warning:
			out = append(out, p.Label+" over warning "+trimNumber(p.Warn)+p.UOM)
		}
	}
	return out
}

// trimNumber prints "100.000000" (check_ping's threshold style) as "100".
func trimNumber(s string) string {
	if v, err := strconv.ParseFloat(s, 64); err == nil {
		return FormatFloat(v)
	}
	return s
}

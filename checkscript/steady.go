package checkscript

import (
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
	"PING": {strip: func(r Result) string { return cutEach(r.Summary, ", RTA = ", " ms", "") }, breaches: true},
	// "0.002 seconds response time. x returns 1.2.3.4": the answer stays.
	"DNS": {strip: func(r Result) string { return cutTime(r.Summary, "response time. ", "") }, breaches: true},
	// "0.000 second response time on 127.0.0.1 port 25".
	"TCP": {strip: func(r Result) string { return cutTime(r.Summary, "response time on ", "connected to ") }, breaches: true},
}

// The rules parse with strings, not regexp: carbonio-health-check, which
// the agent execs for every script check, links no regexp (make lint).

// cutEach replaces every "<before><number><after>" in s with repl, where
// number is digits and dots: ", RTA = 0.31 ms" goes.
func cutEach(s, before, after, repl string) string {
	var b strings.Builder
	for {
		i := strings.Index(s, before)
		if i < 0 {
			break
		}
		rest := s[i+len(before):]
		n := len(rest) - len(strings.TrimLeft(rest, "0123456789."))
		if n == 0 || !strings.HasPrefix(rest[n:], after) {
			b.WriteString(s[:i+len(before)])
			s = rest
			continue
		}
		b.WriteString(s[:i])
		b.WriteString(repl)
		s = rest[n+len(after):]
	}
	b.WriteString(s)
	return b.String()
}

// cutTime replaces a leading "<number> second(s) <tail>" of s with repl:
// "0.002 seconds response time. x returns …" keeps only the answer.
func cutTime(s, tail, repl string) string {
	num, rest, ok := strings.Cut(s, " ")
	if !ok || num == "" || strings.Trim(num, "0123456789.") != "" {
		return s
	}
	rest, ok = strings.CutPrefix(rest, "second")
	if !ok {
		return s
	}
	rest = strings.TrimPrefix(rest, "s")
	if rest, ok = strings.CutPrefix(rest, " "+tail); !ok {
		return s
	}
	return repl + rest
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

// diskPaths finds check_disk's "/opt 75302MiB (80% inode=96%);" items in
// the words of a summary: the index of each path word.
func diskPaths(words []string) []int {
	var at []int
	for i := 0; i+3 < len(words); i++ {
		if isSize(words[i+1]) && isPercent(strings.TrimPrefix(words[i+2], "(")) && words[i+2][0] == '(' &&
			strings.HasPrefix(words[i+3], "inode=") && strings.HasSuffix(words[i+3], ");") &&
			isPercent(strings.TrimSuffix(strings.TrimPrefix(words[i+3], "inode="), ");")) {
			at = append(at, i)
		}
	}
	return at
}

// isSize reports a check_disk size such as 75302MiB or 12B.
func isSize(w string) bool {
	n := len(w) - len(strings.TrimLeft(w, "0123456789"))
	if n == 0 {
		return false
	}
	switch w[n:] {
	case "B", "KB", "MB", "GB", "TB", "PB", "KiB", "MiB", "GiB", "TiB", "PiB":
		return true
	}
	return false
}

// isPercent reports "80%".
func isPercent(w string) bool {
	d, ok := strings.CutSuffix(w, "%")
	return ok && d != "" && strings.Trim(d, "0123456789") == ""
}

func steadyDisk(r Result) string {
	words := strings.Split(r.Summary, " ")
	at := diskPaths(words)
	if len(at) == 0 {
		return r.Summary
	}
	if r.Status != OK { // the sizes go, the percentages stay
		for k := len(at) - 1; k >= 0; k-- {
			i := at[k]
			words = append(words[:i+1], words[i+2:]...)
		}
		return strings.Join(words, " ")
	}
	paths := make([]string, len(at))
	for k, i := range at {
		paths[k] = words[i]
	}
	return "free space within the thresholds on " + strings.Join(paths, " ")
}

// SteadyString formats the steady form: `LABEL STATUS - summary`, without
// perfdata and without the measurements that move while the state holds.
func (r Result) SteadyString() string {
	s := Result{Label: r.Label, Status: r.Status, Summary: r.Summary}
	if r.Steady != "" {
		s.Summary = r.Steady
		return s.String()
	}
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

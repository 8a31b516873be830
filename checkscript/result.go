// Package checkscript holds every probe carbonio-health knows, written once and
// used two ways: in-process by the TTL updater, and as the Nagios-compatible
// command `carbonio-health check <probe> [flags]` that Consul script checks and
// any Nagios, Icinga or Zabbix agent can run.
//
// Output and exit codes follow the monitoring-plugins 2.3.x conventions: one
// line `LABEL STATUS - summary|perfdata`, exit 0 OK, 1 WARNING, 2 CRITICAL,
// 3 UNKNOWN.
package checkscript

import (
	"strings"
)

// Status is a check state with the Nagios plugin exit code as its value.
type Status int

// The four plugin states, valued as their exit codes.
const (
	OK       Status = 0
	Warning  Status = 1
	Critical Status = 2
	Unknown  Status = 3
)

// String returns the state as plugins print it: OK, WARNING, CRITICAL, UNKNOWN.
func (s Status) String() string {
	switch s {
	case OK:
		return "OK"
	case Warning:
		return "WARNING"
	case Critical:
		return "CRITICAL"
	default:
		return "UNKNOWN"
	}
}

// Worst returns the more severe of two states. Critical outranks Warning,
// which outranks Unknown, which outranks OK, as the plugins rank them when
// combining several results.
func Worst(a, b Status) Status {
	if Severity(b) > Severity(a) {
		return b
	}
	return a
}

func Severity(s Status) int {
	switch s {
	case Critical:
		return 3
	case Warning:
		return 2
	case Unknown:
		return 1
	default:
		return 0
	}
}

// Result is the outcome of one check evaluation.
type Result struct {
	// Label names the service in the output line, e.g. "DISK" or "LOAD".
	Label string
	// Status is the check's state.
	Status Status
	// Summary is the human text after "STATUS - ". It must stay stable
	// while the status is stable (no timestamps): Consul syncs output changes.
	Summary string
	// Steady is the summary as Consul stores it (SteadyString): Summary
	// without the numbers that move while the state holds, set by the probe
	// that wrote Summary, so nothing parses it back. Empty means Summary
	// holds no moving numbers and is stored as it is.
	Steady string
	// Perfdata is printed after "|" in the plugin guidelines' syntax.
	Perfdata []Perfdata
	// Colon prints "LABEL STATUS: summary", as check_dns prints a measured
	// answer, instead of the guidelines' "LABEL STATUS - summary".
	Colon bool
	// PerfLead prints '|' even without perfdata, and a space before each
	// item, as check_disk does (and check_ping without a reply).
	PerfLead bool
	// Pending says the probe has no figure yet (dirsize's first walk in
	// progress): the result says so, but it is not a measurement, so a
	// long-lived runner neither counts it towards flap damping nor waits a
	// whole interval before asking again.
	Pending bool
}

// String formats the result as one plugin output line:
// `LABEL STATUS - summary|perfdata`.
func (r Result) String() string {
	var b strings.Builder
	if r.Label != "" {
		b.WriteString(r.Label)
		b.WriteByte(' ')
	}
	b.WriteString(r.Status.String())
	if r.Summary != "" {
		if r.Colon {
			b.WriteString(": ")
		} else {
			b.WriteString(" - ")
		}
		b.WriteString(r.Summary)
	}
	if len(r.Perfdata) > 0 || r.PerfLead {
		b.WriteByte('|')
		for i, p := range r.Perfdata {
			if i > 0 || r.PerfLead {
				b.WriteByte(' ')
			}
			b.WriteString(p.String())
		}
	}
	return b.String()
}

// Unknownf is a shorthand for an UNKNOWN result, the state plugins use for
// bad arguments and internal failures.
func Unknownf(label, summary string) Result {
	return Result{Label: label, Status: Unknown, Summary: summary}
}

// FirstLine returns the first line of s (a banner, another tool's output), made safe for a plugin
// output line: no control characters and no '|', which starts perfdata.
func FirstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimLeft(s, "\r\n"), "\n")
	return strings.Map(func(r rune) rune {
		switch {
		case r == '|':
			return '/'
		case r < ' ' || r == 0x7f:
			return -1
		}
		return r
	}, strings.TrimRight(s, "\r"))
}

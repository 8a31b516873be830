package systemdprobe

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/zextras/carbonio-health/checkscript"
)

// The systemd probe's verdicts, from unit states already read: no I/O here.

// evaluateUnit maps a unit's state to a result: an expected ActiveState is
// OK, a transition towards running (activating, reloading, refreshing) is
// WARNING, anything else and a unit systemd does not know are CRITICAL. Not
// being able to ask systemd at all is UNKNOWN.
func evaluateUnit(unit string, st unitState, err error, expected []string) checkscript.Result {
	switch {
	case errors.Is(err, errUnitNotFound) || err == nil && st.Load == "not-found":
		return systemdResult(checkscript.Critical, fmt.Sprintf("%s not found", unit))
	case err != nil:
		return busFailure(unit, err)
	case st.Active == "":
		return checkscript.Unknownf("SYSTEMD", fmt.Sprintf("systemd reported no ActiveState for %s", unit))
	}
	return systemdResult(unitStatus(st, expected), describeUnit(unit, st, expected))
}

// busFailure is the UNKNOWN answer when systemd could not be asked.
func busFailure(unit string, err error) checkscript.Result {
	var hung *checkscript.HungError
	if errors.Is(err, context.DeadlineExceeded) || errors.Is(err, context.Canceled) || errors.As(err, &hung) {
		return checkscript.Unknownf("SYSTEMD", fmt.Sprintf("no answer from systemd over D-Bus about %s before the timeout", unit))
	}
	return checkscript.Unknownf("SYSTEMD", err.Error())
}

// unitStatus ranks one unit's ActiveState.
func unitStatus(st unitState, expected []string) checkscript.Status {
	switch {
	case st.Load == "not-found" || st.Active == "":
		return checkscript.Critical
	case slices.Contains(expected, st.Active):
		return checkscript.OK
	case st.Active == "activating" || st.Active == "reloading" || st.Active == "refreshing":
		return checkscript.Warning
	default:
		return checkscript.Critical
	}
}

// describeUnit says a unit's state as systemctl would: "x.service is failed
// (failed)", with its load state when it is not loaded.
func describeUnit(unit string, st unitState, expected []string) string {
	if st.Load == "not-found" {
		return unit + " not found"
	}
	s := fmt.Sprintf("%s is %s", unit, st.Active)
	if st.Sub != "" {
		s += " (" + st.Sub + ")"
	}
	if st.Load != "" && st.Load != "loaded" {
		s += ", load state " + st.Load
	}
	if unitStatus(st, expected) == checkscript.Critical && !slices.Equal(expected, []string{"active"}) {
		s += ", expected " + strings.Join(expected, " or ")
	}
	return s
}

// targetUnits returns the units a target pulls in (Wants and Requires,
// once each, sorted) without the excluded ones, and the excluded ones it
// does pull in.
func targetUnits(target unitState, exclude []string) (members, excluded []string) {
	all := append(slices.Clone(target.Wants), target.Requires...)
	slices.Sort(all)
	for _, u := range slices.Compact(all) {
		if slices.Contains(exclude, u) {
			excluded = append(excluded, u)
		} else {
			members = append(members, u)
		}
	}
	return members, excluded
}

// describeMember says a member's state, naming the wrapper it runs under.
func describeMember(m member, expected []string) string {
	s := describeUnit(m.Name, m.State, expected)
	if m.Via != "" {
		s += " (under " + m.Via + ")"
	}
	return s
}

// judgeMembers sorts members into the failed and the starting ones, each
// described.
func judgeMembers(members []member, expected []string) (failed, starting []string) {
	for _, m := range members {
		switch unitStatus(m.State, expected) {
		case checkscript.Critical:
			failed = append(failed, describeMember(m, expected))
		case checkscript.Warning:
			starting = append(starting, describeMember(m, expected))
		}
	}
	return failed, starting
}

// evaluateTarget judges a target by its units (a wrapper among them by the
// units it runs): one line naming every unit that failed or is still
// starting, and perfdata counting them. A target that is itself not active
// while all its units are is a WARNING.
func evaluateTarget(target string, st unitState, members []member, excluded, expected []string) checkscript.Result {
	failed, starting := judgeMembers(members, expected)
	n := len(members)
	active := n - len(failed) - len(starting)
	status := checkscript.OK
	var parts []string
	if len(failed) > 0 {
		status = checkscript.Critical
		parts = append(parts, fmt.Sprintf("%d of %d units failed: %s", len(failed), n, strings.Join(failed, ", ")))
	}
	if len(starting) > 0 {
		status = checkscript.Worst(status, checkscript.Warning)
		parts = append(parts, fmt.Sprintf("%d of %d units starting: %s", len(starting), n, strings.Join(starting, ", ")))
	}
	if status == checkscript.OK {
		parts = append(parts, fmt.Sprintf("%d of %d units active", active, n))
		if st.Active != "active" {
			status = checkscript.Warning
			parts = append(parts, fmt.Sprintf("but the target itself is %s", st.Active))
		}
	}
	summary := target + ": " + strings.Join(parts, "; ")
	if len(excluded) > 0 {
		summary += " (not checked: " + strings.Join(excluded, ", ") + ")"
	}
	count := func(label string, v int) checkscript.Perfdata {
		return checkscript.Perfdata{Label: label, Value: float64(v), Min: "0", Max: strconv.Itoa(n)}
	}
	// Steady stays empty: the line names units and their states (the counts
	// move only with them), so it is stored as it is, without perfdata.
	return checkscript.Result{Label: "SYSTEMD", Status: status, Summary: summary, Perfdata: []checkscript.Perfdata{
		count("active", active), count("starting", len(starting)), count("failed", len(failed)),
		{Label: "total", Value: float64(n)},
	}}
}

// evaluateWrapper judges a wrapper unit (active (exited), see wrapper.go)
// by the units it runs: "postfix.service is active (exited), but
// postfix@-.service is inactive (dead)"; when they run, "postfix.service is
// active (exited): postfix@-.service is active (running)".
func evaluateWrapper(unit string, st unitState, members []member, expected []string) checkscript.Result {
	failed, starting := judgeMembers(members, expected)
	head := describeUnit(unit, st, expected)
	switch {
	case len(failed) > 0:
		bad := append(failed, starting...)
		return systemdResult(checkscript.Critical, head+", but "+strings.Join(bad, ", "))
	case len(starting) > 0:
		return systemdResult(checkscript.Warning, head+", but "+strings.Join(starting, ", "))
	}
	var running []string
	for _, m := range members {
		running = append(running, describeMember(m, expected))
	}
	return systemdResult(checkscript.OK, head+": "+strings.Join(running, ", "))
}

func systemdResult(s checkscript.Status, summary string) checkscript.Result {
	return checkscript.Result{Label: "SYSTEMD", Status: s, Summary: summary}
}

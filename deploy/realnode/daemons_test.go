package realnode

import (
	"context"
	"errors"
	"fmt"
	"os/exec"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// daemon is one of the node's Debian daemons on Carbonio's ports and the
// checks that must see it die.
type daemon struct {
	// unit is the unit that runs it (what its target's check must name).
	unit string
	// stop are the units `systemctl stop` takes down (clamd's socket unit
	// too: it would start clamd again on the next connection).
	stop []string
	// checks are the check IDs that must go critical.
	checks []string
}

// id is a check ID of the node's declaration.
func id(role, service, check string) string {
	return "carbonio-health:" + role + ":" + service + ":" + check
}

// daemons are every daemon of the node. Together their checks cover every
// Carbonio service of the seed document that runs here (TestEveryServiceCovered).
var daemons = []daemon{
	// In this order no two daemons in a row share a role target: each is
	// stopped while the one before it is still coming back.
	{unit: "postfix@-.service", checks: []string{id("mta", "smtp", "tcp"), id("mta", "smtps", "tcp"), id("mta", "submission", "tcp"), id("mta", "units", "target")}},
	{unit: "dovecot.service", checks: []string{
		id("proxy", "imap", "tcp"), id("proxy", "imaps", "tcp"), id("proxy", "pop3", "tcp"), id("proxy", "pop3s", "tcp"),
		id("mailstore", "imap", "tcp"), id("mailstore", "imaps", "tcp"), id("mailstore", "pop3", "tcp"), id("mailstore", "pop3s", "tcp"),
		id("mailstore", "lmtp", "tcp"), id("mailstore", "units", "target")}},
	{unit: "carbonio-openldap.service", checks: []string{id("directory", "ldap", "tcp"), id("directory", "units", "target")}},
	{unit: "nginx.service", checks: []string{id("proxy", "http", "tcp"), id("proxy", "https", "tcp"), id("proxy", "units", "target")}},
	{unit: "postgresql@15-main.service", checks: []string{id("directory", "postgresql", "tcp"), id("directory", "units", "target")}},
	{unit: "mariadb.service", checks: []string{id("mailstore", "mariadb", "socket"), id("mailstore", "units", "target")}},
	{unit: "clamav-daemon.service", stop: []string{"clamav-daemon.socket", "clamav-daemon.service"},
		checks: []string{id("mta", "clamav", "tcp"), id("mta", "clamav", "socket"), id("mta", "units", "target")}},
	{unit: "patroni.service", checks: []string{id("all", "patroni", "http"), id("all", "patroni", "unit")}},
}

// stopUnits are the units to stop and start for d.
func (d daemon) stopUnits() []string {
	if len(d.stop) > 0 {
		return d.stop
	}
	return []string{d.unit}
}

// watch polls the node's agent every 50 ms until every check of ids has a
// status in want, and returns when each first had it (since start).
func (f *fixture) watch(ctx context.Context, ids []string, want []string, start time.Time) (map[string]time.Duration, error) {
	seen := map[string]time.Duration{}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	client := f.agent()
	for {
		checks, err := client.Agent().Checks()
		if err == nil {
			for _, id := range ids {
				if _, done := seen[id]; done {
					continue
				}
				if c := checks[id]; c != nil && slices.Contains(want, c.Status) {
					seen[id] = time.Since(start)
				}
			}
			if len(seen) == len(ids) {
				return seen, nil
			}
		}
		select {
		case <-ctx.Done():
			var late []string
			for _, id := range ids {
				if _, ok := seen[id]; !ok {
					st := "absent"
					if c := checks[id]; c != nil {
						st = c.Status + ": " + firstLine(c.Output)
					}
					late = append(late, id+" "+st)
				}
			}
			return seen, fmt.Errorf("not %v after %s: %s", want, time.Since(start).Round(time.Second), strings.Join(late, "; "))
		case <-time.After(50 * time.Millisecond):
		}
	}
}

// status runs `carbonio-health status` on the node with the read-only
// token and returns its exit code and line.
func (f *fixture) status(ctx context.Context, args ...string) (int, string) {
	argv := append([]string{"carbonio-health", "status", "-token-file", statusToken}, args...)
	out, err := f.node.Exec(ctx, argv...)
	code := 0
	if err != nil {
		code = -1
		var ee *exec.ExitError
		if errors.As(err, &ee) {
			code = ee.ExitCode()
		}
	}
	return code, strings.TrimSpace(out)
}

// assertStatusNames checks that the status line names one of ids first:
// `status` names the newest failure first and counts the rest, so a daemon
// that just died leads the line also on a node with other critical checks
// (DNS here).
func assertStatusNames(t *testing.T, line string, checks map[string]*api.AgentCheck, ids []string) {
	t.Helper()
	var names []string
	for _, id := range ids {
		if c := checks[id]; c != nil {
			names = append(names, c.Name)
		}
	}
	i := strings.Index(line, " checks on ")
	if i < 0 {
		t.Errorf("status line names no failing check: %s", line)
		return
	}
	entries := line[i:]
	entries = entries[strings.Index(entries, ": ")+2:]
	for _, n := range names {
		if strings.HasPrefix(entries, n+": ") {
			return
		}
	}
	t.Errorf("status does not name the newest failure (one of %v) first: %s", names, line)
}

// criticalNow lists the node's checks the agent holds as critical.
func (f *fixture) criticalNow() ([]string, error) {
	checks, err := f.agent().Agent().Checks()
	if err != nil {
		return nil, err
	}
	var out []string
	for id, c := range checks {
		if c.Status == api.HealthCritical {
			out = append(out, id)
		}
	}
	sort.Strings(out)
	return out, nil
}

// recovery is a daemon started again, its checks watched until they pass.
type recovery struct {
	d    daemon
	done chan struct{}
	// took is how long until every check of d passed; err why not.
	took time.Duration
	err  error
}

// startAgain starts d's units and watches its checks in the background.
func (f *fixture) startAgain(d daemon) *recovery {
	r := &recovery{d: d, done: make(chan struct{})}
	ctx := context.Background()
	start := time.Now()
	if _, err := f.node.Exec(ctx, append([]string{"systemctl", "start"}, d.stopUnits()...)...); err != nil {
		r.err = err
		close(r.done)
		return r
	}
	go func() {
		defer close(r.done)
		back, err := f.watch(ctx, d.checks, []string{api.HealthPassing}, start)
		for _, v := range back {
			r.took = max(r.took, v)
		}
		r.err = err
	}()
	return r
}

// startUnits starts units however they were left (stopped, failed, past
// their start limit); starting a running unit changes nothing. Tests defer
// it before they stop or kill anything, so that however they end (t.Fatal
// included) the node's daemons run again for the tests after them.
func (f *fixture) startUnits(units ...string) {
	ctx := context.Background()
	_, _ = f.node.Exec(ctx, append([]string{"systemctl", "reset-failed"}, units...)...)
	_, _ = f.node.Exec(ctx, append([]string{"systemctl", "start"}, units...)...)
}

// stopDaemon stops d and checks what its stop did: its checks critical
// (when each turned), the target naming the unit that died, no other check
// changed, `status` CRITICAL naming it, the plugins and our probes agreeing
// on it. However it ends (t.Fatal included), it then starts d again and
// sets *rec to its recovery, which the caller waits for (the next daemon
// may be stopped meanwhile).
func (f *fixture) stopDaemon(t *testing.T, d daemon, rec **recovery) {
	t.Helper()
	ctx := context.Background()
	for _, c := range d.checks {
		if !slices.Contains(f.checks, c) {
			t.Fatalf("the node declares no check %s", c)
		}
	}
	before, err := f.criticalNow()
	if err != nil {
		t.Fatal(err)
	}
	defer func() { *rec = f.startAgain(d) }() // however this test ends, the daemon runs again
	start := time.Now()
	if _, err := f.node.Exec(ctx, append([]string{"systemctl", "stop"}, d.stopUnits()...)...); err != nil {
		t.Fatal(err)
	}
	seen, err := f.watch(ctx, d.checks, []string{api.HealthCritical}, start)
	if err != nil {
		t.Error(err)
	}
	var figures []string
	for _, c := range d.checks {
		figures = append(figures, fmt.Sprintf("%s %s", strings.TrimPrefix(c, "carbonio-health:"), seen[c].Round(10*time.Millisecond)))
	}
	t.Logf("stopped %s: critical after %s", d.unit, strings.Join(figures, ", "))

	// The target's check names the unit that died, not the wrapper.
	checks, _ := f.agent().Agent().Checks()
	for _, c := range d.checks {
		if strings.HasSuffix(c, ":units:target") || strings.HasSuffix(c, ":patroni:unit") {
			if out := checks[c].Output; !strings.Contains(out, d.unit) {
				t.Errorf("%s does not name %s: %s", c, d.unit, out)
			} else {
				t.Logf("%s: %s", c, firstLine(out))
			}
		}
	}
	// No other check changed.
	after, _ := f.criticalNow()
	for _, c := range after {
		if !slices.Contains(before, c) && !slices.Contains(d.checks, c) {
			t.Errorf("%s went critical too", c)
		}
	}
	code, line := f.status(ctx)
	t.Logf("status: %d %s", code, line)
	if code != 2 {
		t.Errorf("status exit %d, want 2 (CRITICAL)", code)
	}
	assertStatusNames(t, line, checks, d.checks)
	f.stoppedCases(t, d.unit)
}

// transition is a check's status change seen by timeline.
type transition struct {
	at           time.Duration
	check, state string
	output       string
}

// timeline polls the node's agent every 50 ms for d and returns every
// status change of the checks ids (the first reading included).
func (f *fixture) timeline(ctx context.Context, ids []string, d time.Duration) []transition {
	client := f.agent()
	last := map[string]string{}
	var out []transition
	start := time.Now()
	for time.Since(start) < d {
		if checks, err := client.Agent().Checks(); err == nil {
			for _, id := range ids {
				st := "absent"
				var output string
				if c := checks[id]; c != nil {
					st, output = c.Status, firstLine(c.Output)
				}
				if last[id] != st {
					last[id] = st
					out = append(out, transition{time.Since(start), id, st, output})
				}
			}
		}
		select {
		case <-ctx.Done():
			return out
		case <-time.After(50 * time.Millisecond):
		}
	}
	return out
}

// unitProp reads one property of a unit (systemctl show --value).
func (f *fixture) unitProp(ctx context.Context, unit, prop string) string {
	out, _ := f.node.Exec(ctx, "systemctl", "show", "--value", "-p", prop, unit)
	return strings.TrimSpace(out)
}

// killMain kills d's main process with SIGKILL while its unit (Restart=)
// restarts it, and reports every status change of its checks for the time
// the restart takes plus a TCP interval.
func (f *fixture) killMain(t *testing.T, d daemon, watchFor time.Duration) []transition {
	t.Helper()
	ctx := context.Background()
	pid := f.unitProp(ctx, d.unit, "MainPID")
	restarts := f.unitProp(ctx, d.unit, "NRestarts")
	if pid == "" || pid == "0" {
		t.Fatalf("%s has no main process", d.unit)
	}
	defer f.startUnits(d.unit) // not restarted by its unit: started, for the tests after this one
	if _, err := f.node.Exec(ctx, "kill", "-KILL", pid); err != nil {
		t.Fatal(err)
	}
	events := f.timeline(ctx, d.checks, watchFor)
	for _, e := range events {
		t.Logf("  +%s %s %s %s", e.at.Round(10*time.Millisecond), strings.TrimPrefix(e.check, "carbonio-health:"), e.state, e.output)
	}
	now := f.unitProp(ctx, d.unit, "NRestarts")
	t.Logf("%s: main process %s killed; NRestarts %s -> %s, main process now %s", d.unit, pid, restarts, now, f.unitProp(ctx, d.unit, "MainPID"))
	if now == restarts {
		t.Errorf("%s was not restarted by its unit", d.unit)
		f.startUnits(d.unit)
	}
	if _, err := f.waitHealthy(ctx, "after the restart of "+d.unit); err != nil {
		t.Error(err)
	}
	return events
}

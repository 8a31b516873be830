package realnode

import (
	"context"
	"encoding/json"
	"fmt"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

// nodeHCL is /etc/carbonio-health/node.hcl on the test node: the package's
// node.hcl.example adapted as an operator adapts it, to the roles and
// features this node has, leaving out what it does not run.
const nodeHCL = `# This node: Debian's daemons on Carbonio's ports (deploy/realnode).
node {
  roles    = ["mta", "proxy", "mailstore", "directory"]
  features = ["antivirus"]
}

# Not run on this node: Carbonio's milter and Amavisd (MTA), the mailbox's
# own HTTP ports 7071, 8080, 8730 and 8736 (dovecot stands in for its IMAP,
# POP3 and LMTP ports), and a Consul server (its agent is a client).
override "mta" "milter" { enabled = false }
override "mta" "amavis" { enabled = false }
override "mailstore" "admin" { enabled = false }
override "mailstore" "http" { enabled = false }
override "mailstore" "port-8730" { enabled = false }
override "mailstore" "port-8736" { enabled = false }
override "directory" "consul-server" { enabled = false }

# The load average in a container is the host's, a machine shared by many.
override "all" "load" {
  check "load" {
    args     = { w = "100,100,100", c = "200,200,200" }
    interval = "10s"
  }
}

# The agent starts every check it runs as critical until its first run,
# which comes within the check's interval: after a start, a restart of the
# agent or of the node, the catalog's 30-60 s would be what the tests wait
# for (DNS's 60 s: up to a minute, at a random point of it, each time). The
# node-wide script checks every 10 s, as the TCP checks.
override "all" "users" {
  check "users" { interval = "10s" }
}
override "all" "dns" {
  check "dns" { interval = "10s" }
}
override "all" "units" {
  check "service-discover" { interval = "10s" }
}

# The units every 5 s (the catalog's 30 s would make each stop test wait).
override "mta" "units" {
  check "target" { interval = "5s" }
}
override "proxy" "units" {
  check "target" { interval = "5s" }
}
override "mailstore" "units" {
  check "target" { interval = "5s" }
}
override "directory" "units" {
  check "target" { interval = "5s" }
}
override "all" "patroni" {
  check "unit" { interval = "5s" }
}
`

// Checks that cannot pass on this node, and why: it has no network beyond
// its link to the mesh server, so no name server. (Ping passes: it pings
// the Consul server over that link, and there is no default gateway to
// ping.)
var expectedCritical = map[string]string{
	"carbonio-health:all:dns:dns": "DNS CRITICAL - No response from DNS 127.0.0.1",
}

// statusToken is the read-only token of `carbonio-health status`.
const statusToken = "/etc/carbonio-health/status.token"

var installOnce sync.Once

// installed installs the package on the shared node as an operator does,
// once (TestPackageInstallsAsAUser asserts each step), and returns the
// fixture with the daemon running and its checks in place.
func installed(t *testing.T) *fixture {
	t.Helper()
	f := shared(t)
	var err error
	installOnce.Do(func() { err = f.install(context.Background(), t) })
	if err != nil {
		t.Fatalf("installing the package: %v", err)
	}
	if !f.installed {
		t.Fatal("the package is not installed (an earlier test failed to install it)")
	}
	return f
}

// install runs the operator's steps: dpkg -i, the node file, setup, start.
// It logs each step's output and how long the checks took to pass.
func (f *fixture) install(ctx context.Context, t *testing.T) error {
	n := f.node
	out, err := n.Exec(ctx, "dpkg", "-i", "/mnt/pkg/"+filepath.Base(f.deb))
	f.steps = append(f.steps, step{"dpkg -i", out})
	if err != nil {
		return err
	}
	if _, err := n.Sh(ctx, "cat >/etc/carbonio-health/node.hcl <<'EOF'\n"+nodeHCL+"EOF"); err != nil {
		return err
	}
	out, err = n.Exec(ctx, "carbonio-health", "validate")
	f.steps = append(f.steps, step{"carbonio-health validate", out})
	if err != nil {
		return err
	}
	out, err = n.Sh(ctx, "service-discover bootstrap-token | carbonio-health setup -owner carbonio-health")
	f.steps = append(f.steps, step{"service-discover bootstrap-token | carbonio-health setup -owner carbonio-health", out})
	if err != nil {
		return err
	}
	// The read-only token monitoring reads with (status, Nagios, Zabbix).
	out, err = n.Sh(ctx, "service-discover bootstrap-token | carbonio-health setup -read-only -out "+statusToken)
	f.steps = append(f.steps, step{"service-discover bootstrap-token | carbonio-health setup -read-only -out " + statusToken, out})
	if err != nil {
		return err
	}
	start := time.Now()
	out, err = n.Exec(ctx, "systemctl", "start", "carbonio-health")
	f.steps = append(f.steps, step{"systemctl start carbonio-health", out})
	if err != nil {
		return err
	}
	f.installed = true
	if err := f.loadPlan(ctx); err != nil {
		return err
	}
	_, err = f.waitHealthy(ctx, "every check after the start")
	f.startToHealthy, f.installLast = time.Since(start), f.lastToPass
	return err
}

// step is one operator step and what it printed.
type step struct{ cmd, out string }

// loadPlan reads what the daemon declares (`carbonio-health plan -json` on
// the node): the check IDs every later assertion is about.
func (f *fixture) loadPlan(ctx context.Context) error {
	out, err := f.node.Exec(ctx, "carbonio-health", "plan", "-json")
	if err != nil {
		return err
	}
	var plan struct {
		Services []struct {
			ID     string `json:"id"`
			Name   string `json:"name"`
			Checks []struct {
				ID   string `json:"id"`
				Kind string `json:"kind"`
			} `json:"checks"`
		} `json:"services"`
	}
	if err := json.Unmarshal([]byte(out), &plan); err != nil {
		return fmt.Errorf("plan -json: %w", err)
	}
	f.services, f.checks = nil, nil
	for _, s := range plan.Services {
		f.services = append(f.services, s.ID)
		for _, c := range s.Checks {
			f.checks = append(f.checks, c.ID)
		}
	}
	// The daemon's heartbeat is its own.
	f.services = append(f.services, "carbonio-health:daemon", "carbonio-health")
	f.checks = append(f.checks, "carbonio-health:daemon:alive")
	sort.Strings(f.services)
	sort.Strings(f.checks)
	return nil
}

// agent is a management-token client of the node's own agent.
func (f *fixture) agent() *api.Client { return f.node.AgentClient(f.mesh.cluster.ManagementToken) }

// health says what is wrong with the node's checks as the agent holds
// them: a declared check missing, one not passing (but expectedCritical,
// which must be critical with its reason), one of ours too many.
func (f *fixture) health() error {
	checks, err := f.agent().Agent().Checks()
	if err != nil {
		return err
	}
	var bad []string
	for _, id := range f.checks {
		c := checks[id]
		want, mustFail := expectedCritical[id]
		switch {
		case c == nil:
			bad = append(bad, id+" missing")
		case mustFail && (c.Status != api.HealthCritical || !strings.HasPrefix(c.Output, want)):
			bad = append(bad, fmt.Sprintf("%s %s (want %s): %s", id, c.Status, want, firstLine(c.Output)))
		case !mustFail && c.Status != api.HealthPassing:
			bad = append(bad, fmt.Sprintf("%s %s: %s", id, c.Status, firstLine(c.Output)))
		}
	}
	for id := range checks {
		if strings.HasPrefix(id, "carbonio-health") && !slices.Contains(f.checks, id) {
			bad = append(bad, id+" registered but not declared")
		}
	}
	if len(bad) > 0 {
		sort.Strings(bad)
		return fmt.Errorf("%d of %d checks not as expected:\n  %s", len(bad), len(f.checks), strings.Join(bad, "\n  "))
	}
	return nil
}

// waitHealthy waits until health() finds nothing wrong and returns how
// long that took.
func (f *fixture) waitHealthy(ctx context.Context, what string) (time.Duration, error) {
	start := time.Now()
	ctx, cancel := context.WithTimeout(ctx, 3*time.Minute)
	defer cancel()
	var last error
	for {
		err := f.health()
		if err == nil {
			if last != nil && time.Since(start) > 10*time.Second {
				f.lastToPass = last.Error()
			}
			return time.Since(start), nil
		}
		last = err
		select {
		case <-ctx.Done():
			log, _ := f.node.Exec(context.Background(), "journalctl", "-u", "carbonio-health", "-u", "carbonio-health-fragment", "--no-pager", "-n", "30")
			return time.Since(start), fmt.Errorf("%s: %w\njournal:\n%s", what, last, log)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func firstLine(s string) string {
	s, _, _ = strings.Cut(strings.TrimSpace(s), "\n")
	return s
}

// catalogMatches says how the server's catalog differs from the node's
// declaration: each declared service and check exactly once, nothing else
// of ours (no duplicate under another ID, no stale check), every failing
// check with the status and output the agent has, serfHealth passing.
func (f *fixture) catalogMatches() error { return f.catalogDiff(true) }

// registrationsMatch is catalogMatches without the outputs: for a node
// whose daemon is stopped or removed, where a failing check's output may
// change without its status (the agent's script check then fails to start
// the removed binary), which the agent syncs only every
// check_update_interval.
func (f *fixture) registrationsMatch() error { return f.catalogDiff(false) }

// catalogDiff is catalogMatches, comparing the failing checks' outputs
// with the agent's only when outputs is set.
func (f *fixture) catalogDiff(outputs bool) error {
	admin := f.mesh.Admin()
	node, _, err := admin.Catalog().Node(NodeName, nil)
	if err != nil || node == nil {
		return fmt.Errorf("catalog node %s: %v", NodeName, err)
	}
	var have []string
	for id := range node.Services {
		if strings.HasPrefix(id, "carbonio-health") {
			have = append(have, id)
		}
	}
	sort.Strings(have)
	checks, _, err := admin.Health().Node(NodeName, nil)
	if err != nil {
		return err
	}
	local, err := f.agent().Agent().Checks()
	if err != nil {
		return err
	}
	var haveChecks, stale []string
	serf := ""
	for _, c := range checks {
		if c.CheckID == "serfHealth" {
			serf = c.Status
			continue
		}
		if strings.HasPrefix(c.CheckID, "carbonio-health") {
			haveChecks = append(haveChecks, c.CheckID)
		}
		// A failing check shows its reason in the catalog (the UI, other
		// nodes), not an empty or an old output.
		if a := local[c.CheckID]; outputs && a != nil && a.Status != api.HealthPassing && (c.Status != a.Status || c.Output != a.Output) {
			stale = append(stale, fmt.Sprintf("%s %s %q (the agent: %s %q)", c.CheckID, c.Status, firstLine(c.Output), a.Status, firstLine(a.Output)))
		}
	}
	sort.Strings(haveChecks)
	var bad []string
	if len(stale) > 0 {
		sort.Strings(stale)
		bad = append(bad, "failing checks not as the agent has them: "+strings.Join(stale, ", "))
	}
	if !slices.Equal(have, f.services) {
		bad = append(bad, fmt.Sprintf("services %d, declared %d: extra %v, missing %v", len(have), len(f.services), minus(have, f.services), minus(f.services, have)))
	}
	if !slices.Equal(haveChecks, f.checks) {
		bad = append(bad, fmt.Sprintf("checks %d, declared %d: extra %v, missing %v", len(haveChecks), len(f.checks), minus(haveChecks, f.checks), minus(f.checks, haveChecks)))
	}
	if serf != api.HealthPassing {
		bad = append(bad, "serfHealth "+serf)
	}
	if len(bad) > 0 {
		return fmt.Errorf("catalog: %s", strings.Join(bad, "; "))
	}
	return nil
}

// minus lists what a has and b lacks.
func minus(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// waitSettled waits until the agent's checks are as expected and the
// catalog matches the declaration, and returns how long that took.
func (f *fixture) waitSettled(ctx context.Context, what string) (time.Duration, error) {
	start := time.Now()
	if _, err := f.waitHealthy(ctx, what); err != nil {
		return time.Since(start), err
	}
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	for {
		err := f.catalogMatches()
		if err == nil {
			return time.Since(start), nil
		}
		select {
		case <-ctx.Done():
			return time.Since(start), fmt.Errorf("%s: %w", what, err)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

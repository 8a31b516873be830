package main

import (
	"context"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// ttlMonitor samples every client's own agent while a fault goes on: each
// daemon's TTL check must stay passing there (the daemon keeps feeding it).
type ttlMonitor struct {
	stop   chan struct{}
	done   chan struct{}
	mu     sync.Mutex
	bad    []string
	n      int
	unread int
}

func (f *clusterFixture) monitorTTL() *ttlMonitor {
	m := &ttlMonitor{stop: make(chan struct{}), done: make(chan struct{})}
	go func() {
		defer close(m.done)
		for {
			for _, d := range f.Daemons {
				id := d.CheckIDs()[1]
				checks, err := d.Node.Client(f.ManagementToken).Agent().Checks()
				m.mu.Lock()
				m.n++
				switch {
				case err != nil:
					m.bad = append(m.bad, fmt.Sprintf("%s: %v", d.Node.Name, err))
				case checks[id] == nil:
					// The agent filters its answer by the reader's token; a
					// read whose token it could not resolve during the
					// election lists nothing: not a verdict on the check.
					m.unread++
				case checks[id].Status != api.HealthPassing:
					m.bad = append(m.bad, fmt.Sprintf("%s %s: %s %s in its agent", time.Now().Format("15:04:05.000"), id, checks[id].Status, checks[id].Output))
				}
				m.mu.Unlock()
			}
			select {
			case <-m.stop:
				return
			case <-time.After(250 * time.Millisecond):
			}
		}
	}()
	return m
}

// Stop ends the sampling and returns what went wrong and how many samples.
func (m *ttlMonitor) Stop() ([]string, int) {
	close(m.stop)
	<-m.done
	return m.bad, m.n
}

// logMarks counts, per daemon, the lines containing s logged since mark.
func (f *clusterFixture) logMarks() []int {
	var marks []int
	for _, d := range f.Daemons {
		marks = append(marks, len(d.Logs.Lines()))
	}
	return marks
}

func (f *clusterFixture) countSince(marks []int, s string) []int {
	var out []int
	for i, d := range f.Daemons {
		out = append(out, len(d.Logs.Since(marks[i], s)))
	}
	return out
}

// newLeader waits for a leader other than old.
func (f *clusterFixture) newLeader(t *testing.T, old *consultest.Node) *consultest.Node {
	t.Helper()
	var l *consultest.Node
	consultest.Eventually(t, "a new leader", func() bool {
		var err error
		l, err = f.Leader()
		return err == nil && l != old
	})
	return l
}

// noDuplicates checks that every node holds each declared check once.
func (f *clusterFixture) noDuplicates(t *testing.T) {
	t.Helper()
	checks, _, err := f.Admin().Health().State(api.HealthAny, nil)
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]int{}
	for _, c := range checks {
		seen[c.Node+" "+c.CheckID]++
	}
	for k, n := range seen {
		if n != 1 {
			t.Errorf("%s listed %d times", k, n)
		}
	}
}

// TestClusterLeaderKilled: the leader server killed (SIGKILL). TTL updates
// keep flowing on every node; after the new election the catalog has every
// check once, passing, with the agents' current output.
func TestClusterLeaderKilled(t *testing.T) {
	f := sharedCluster(t)
	defer f.restore(t)
	old, err := f.WaitLeader(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	marks := f.logMarks()
	mon := f.monitorTTL()
	killed := time.Now()
	old.Kill()
	f.newLeader(t, old)
	elected := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := f.waitCatalogTrue(ctx, old); err != nil {
		t.Fatal(err)
	}
	converged := time.Now()
	time.Sleep(3 * time.Second) // one more TTL period under the new leader
	bad, samples := mon.Stop()
	if mon.unread > 0 {
		t.Logf("%d of %d samples could not be read (the reader's token unresolved meanwhile)", mon.unread, samples)
	}
	if len(bad) > 0 {
		t.Errorf("TTL checks not fed during the election (%d of %d samples): %v", len(bad), samples, bad)
	}
	if failed := f.countSince(marks, "TTL update failed"); fmt.Sprint(failed) != "[0 0 0]" {
		t.Errorf("TTL update failures per daemon: %v", failed)
	}
	f.noDuplicates(t)
	f.catalogMatchesAgents(t)
	t.Logf("leader %s killed: new leader after %v, catalog right %v after the election; %d TTL samples on the clients' agents, all passing",
		old.Name, elected.Sub(killed).Round(time.Millisecond), converged.Sub(elected).Round(time.Millisecond), samples)
}

// TestClusterQuorumLost: two of three servers down for 30 s, then back. The
// daemons keep running and log one line each way; a check that changed
// during the outage is right in the catalog afterwards.
func TestClusterQuorumLost(t *testing.T) {
	f := sharedCluster(t)
	defer f.restore(t)
	marks := f.logMarks()
	down := f.Servers[:2]
	for _, s := range down {
		s.Kill()
	}
	lost := time.Now()
	// A change during the outage: a socket goes away on one node.
	d := f.Daemons[1]
	if err := os.Remove(d.Sock); err != nil {
		t.Fatal(err)
	}
	// Sampled through the outage: when each daemon logged the loss (its
	// watch's bounded wait is the heartbeat, see leaderWatch).
	seen := make([]time.Duration, len(f.Daemons))
	for time.Since(lost) < 30*time.Second {
		for i, n := range f.countSince(marks, "consul cluster has no leader") {
			if n > 0 && seen[i] == 0 {
				seen[i] = time.Since(lost).Round(100 * time.Millisecond)
			}
		}
		time.Sleep(100 * time.Millisecond)
	}
	t.Logf("each daemon logged the lost leader %v after the kill", seen)
	for _, dd := range f.Daemons {
		select {
		case err := <-dd.done:
			t.Fatalf("daemon on %s ended during the outage: %v", dd.Node.Name, err)
		default:
		}
	}
	for _, s := range down {
		if err := s.Start(); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := f.WaitLeader(t.Context()); err != nil {
		t.Fatal(err)
	}
	elected := time.Now()
	want := d.CheckIDs()[1]
	consultest.Eventually(t, want+" critical in the catalog after the outage", func() bool {
		all, err := f.catalogChecks()
		return err == nil && all[d.Node.Name][want] != nil && all[d.Node.Name][want].Status == api.HealthCritical
	})
	right := time.Now()
	consultest.Eventually(t, "every daemon to log the leader back", func() bool {
		return !slices.Contains(f.countSince(marks, "consul cluster has a leader again"), 0)
	})
	noLeader := f.countSince(marks, "consul cluster has no leader")
	again := f.countSince(marks, "consul cluster has a leader again")
	if fmt.Sprint(noLeader) != "[1 1 1]" || fmt.Sprint(again) != "[1 1 1]" {
		t.Errorf("log lines per daemon: 'no leader' %v, 'leader again' %v; want one each way", noLeader, again)
	}
	t.Logf("quorum lost %v; after the restart a leader in %v; the check changed during the outage right in the catalog %v after the election",
		elected.Sub(lost).Round(time.Millisecond), elected.Sub(lost).Round(time.Millisecond)-30*time.Second, right.Sub(elected).Round(time.Millisecond))
	if _, err := reopenSocket(d); err != nil {
		t.Fatal(err)
	}
}

// settled waits until the catalog's checks hold still for a blocking
// query's wait (2 s): writes left over from the previous fault, such as an
// agent's resync after a quorum outage, which can still be on its way after
// restore saw the catalog right, land before a snapshot compared by
// ModifyIndex.
func (f *clusterFixture) settled(t *testing.T) {
	t.Helper()
	var index uint64
	consultest.Eventually(t, "the catalog to hold still", func() bool {
		q := &api.QueryOptions{WaitIndex: index, WaitTime: 2 * time.Second}
		_, meta, err := f.Admin().Health().State(api.HealthAny, q)
		if err != nil {
			index = 0
			return false
		}
		still := index != 0 && meta.LastIndex == index
		index = meta.LastIndex
		return still
	})
}

// TestClusterClientIsolated: a client's agent frozen (SIGSTOP: no gossip,
// no answers) until the servers mark it failed, then resumed. `status`
// reports the node as unreachable meanwhile, its services come back true,
// and no check of another node changes.
func TestClusterClientIsolated(t *testing.T) {
	f := sharedCluster(t)
	defer f.restore(t)
	d := f.Daemons[1]
	n := d.Node
	f.settled(t)
	before, err := f.catalogChecks()
	if err != nil {
		t.Fatal(err)
	}
	if err := n.Pause(); err != nil {
		t.Fatal(err)
	}
	paused := time.Now()
	consultest.Eventually(t, n.Name+" serfHealth critical", func() bool {
		all, err := f.catalogChecks()
		return err == nil && all[n.Name]["serfHealth"] != nil && all[n.Name]["serfHealth"].Status == api.HealthCritical
	})
	failed := time.Now()
	code, line := f.statusAt(t, f.Servers[0], "-node", n.Name)
	if code != 2 || !strings.Contains(line, "node unreachable") {
		t.Errorf("status -node %s: %d %s", n.Name, code, line)
	}
	code, line = f.statusAt(t, f.Servers[0], "-node", "*")
	if code != 2 || !strings.Contains(line, n.Name+" Serf Health Status: node unreachable") {
		t.Errorf("status -node '*': %d %s", code, line)
	}
	if err := n.Resume(); err != nil {
		t.Fatal(err)
	}
	resumed := time.Now()
	ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
	defer cancel()
	if err := f.waitCatalogTrue(ctx); err != nil {
		t.Fatal(err)
	}
	back := time.Now()
	after, err := f.catalogChecks()
	if err != nil {
		t.Fatal(err)
	}
	for node, checks := range before {
		if node == n.Name {
			continue
		}
		for id, c := range checks {
			a := after[node][id]
			if a == nil || a.Status != c.Status || a.ModifyIndex != c.ModifyIndex {
				t.Errorf("%s %s changed while %s was isolated: %+v -> %+v", node, id, n.Name, c, a)
			}
		}
	}
	t.Logf("%s frozen: serfHealth critical after %v; resumed after %v; every check true in the catalog %v after the resume",
		n.Name, failed.Sub(paused).Round(time.Millisecond), resumed.Sub(paused).Round(time.Millisecond), back.Sub(resumed).Round(time.Millisecond))
}

// TestClusterDaemonTokenRefused: the daemon's token deleted, or its policy
// emptied. One log line names what is missing; the daemon neither exits nor
// floods the agent (backoff); `status` with that token answers UNKNOWN with
// the reason; once the token works again the daemon recovers by itself.
func TestClusterDaemonTokenRefused(t *testing.T) {
	f := sharedCluster(t)
	defer f.restore(t)
	d := f.Daemons[2]
	policy := policyName(d.Node.Name)
	rules, err := clusterDaemonRules(d.Node.Name, d.Role)
	if err != nil {
		t.Fatal(err)
	}
	acl := f.Admin().ACL()
	tests := []struct {
		name    string
		break_  func() error
		repair  func() error
		missing string
	}{
		{"policy emptied", func() error {
			_, err := f.SetPolicy(policy, "# emptied\n")
			return err
		}, func() error {
			_, err := f.SetPolicy(policy, rules)
			return err
		}, `missing="`}, // the first call refused names it: service:write, agent:write…
		{"token deleted", func() error {
			_, err := acl.TokenDelete(d.Token.AccessorID, nil)
			return err
		}, func() error {
			_, _, err := acl.TokenCreate(&api.ACLToken{AccessorID: d.Token.AccessorID, SecretID: d.Token.SecretID,
				Description: d.Token.Description, Policies: d.Token.Policies}, nil)
			return err
		}, `ACL not found`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			mark := len(d.Logs.Lines())
			since := func(s string) int { return len(d.Logs.Since(mark, s)) }
			reqs := func() int {
				return strings.Count(d.Node.Log(), "agent.http: Request finished: method=PUT url=/v1/agent/check/update")
			}
			if err := tt.break_(); err != nil {
				t.Fatal(err)
			}
			broken := time.Now()
			consultest.Eventually(t, "the refused-token line", func() bool { return since("consul refuses the daemon's ACL token") > 0 })
			t.Logf("refused after %v", time.Since(broken).Round(time.Millisecond))
			put0 := reqs()
			time.Sleep(15 * time.Second)
			put := reqs() - put0
			// What matters is that the refusal line names what is missing
			// and that the daemon does not take the token for working
			// meanwhile; how many other lines (the watch's DEBUG lines
			// quote the agent's "ACL not found" too) is incidental.
			refusals := d.Logs.Since(mark, "consul refuses the daemon's ACL token")
			if len(refusals) == 0 || !strings.Contains(refusals[0], tt.missing) {
				t.Errorf("no refusal line naming %s:\n%s", tt.missing, strings.Join(d.Logs.Lines()[mark:], "\n"))
			}
			if n := since("consul accepts the daemon's ACL token again"); n != 0 {
				t.Errorf("the daemon took the refused token for working %d times:\n%s", n, strings.Join(d.Logs.Lines()[mark:], "\n"))
			}
			// Fed normally, the TTL check is pushed every 1.5 s (10 in 15 s).
			if put > 6 {
				t.Errorf("%d TTL updates tried in 15 s with a refused token: no backoff", put)
			}
			select {
			case err := <-d.done:
				t.Fatalf("daemon ended: %v", err)
			default:
			}
			tf := t.TempDir() + "/daemon.token"
			if err := os.WriteFile(tf, []byte(d.Token.SecretID), 0o600); err != nil {
				t.Fatal(err)
			}
			code, line := f.statusWithToken(t, d.Node, tf, "-node", d.Node.Name)
			if code != 3 {
				t.Errorf("status with the refused token: %d %s", code, line)
			}
			t.Logf("status with the daemon's token: %s", line)
			// Readers of the catalog: the agent cannot write the daemon's
			// services with the refused token, so they keep their last
			// states there; the heartbeat, which the agent writes with its
			// own token, expires and says so.
			consultest.Eventually(t, "status -node "+d.Node.Name+" with the read-only token on another node to answer UNKNOWN", func() bool {
				code, line = f.statusAt(t, f.Servers[0], "-node", d.Node.Name)
				return code == 3 && strings.Contains(line, "daemon down or its token refused")
			})
			t.Logf("%v after the change, status with the read-only token on %s: %s", time.Since(broken).Round(time.Second), f.Servers[0].Name, line)
			if code, all := f.statusAt(t, f.Servers[0], "-node", "*"); code != 3 || !strings.Contains(all, "1 unknown") {
				t.Errorf("status -node '*': %d %s", code, all)
			}
			cat, _ := f.catalogChecks()
			t.Logf("meanwhile the catalog has %s: %s (stale), %s: %s", d.CheckIDs()[1], cat[d.Node.Name][d.CheckIDs()[1]].Status,
				registrar.HeartbeatCheckID, cat[d.Node.Name][registrar.HeartbeatCheckID].Status)

			if err := tt.repair(); err != nil {
				t.Fatal(err)
			}
			repaired := time.Now()
			consultest.Eventually(t, "the daemon to recover", func() bool { return since("consul accepts the daemon's ACL token again") > 0 })
			ctx, cancel := context.WithTimeout(t.Context(), time.Minute)
			defer cancel()
			if err := f.waitCatalogTrue(ctx); err != nil {
				t.Fatal(err)
			}
			consultest.Eventually(t, "status -node "+d.Node.Name+" with the read-only token to answer OK again", func() bool {
				code, line = f.statusAt(t, f.Servers[0], "-node", d.Node.Name)
				return code == 0
			})
			select {
			case err := <-d.done:
				t.Fatalf("daemon ended: %v", err)
			default:
			}
			t.Logf("%s: %d TTL updates tried in 15 s while refused; recovered %v after the repair (backoff capped at 30 s)",
				tt.name, put, time.Since(repaired).Round(time.Millisecond))
		})
	}
}

// catalogMatchesAgents checks that no check is stuck: the catalog holds
// each daemon check with the status and output its own agent has.
func (f *clusterFixture) catalogMatchesAgents(t *testing.T) {
	t.Helper()
	all, err := f.catalogChecks()
	if err != nil {
		t.Fatal(err)
	}
	for _, d := range f.Daemons {
		local, err := d.Node.Client(f.ManagementToken).Agent().Checks()
		if err != nil {
			t.Fatal(err)
		}
		for _, id := range d.CheckIDs() {
			c, l := all[d.Node.Name][id], local[id]
			if c == nil || l == nil || c.Status != l.Status || c.Output != l.Output {
				t.Errorf("%s %s: catalog %+v, agent %+v", d.Node.Name, id, c, l)
			}
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// statusAt runs `carbonio-health status` in-process against a node's agent
// with the read-only token (deploy/consul/acl-status-policy.hcl).
func (f *clusterFixture) statusAt(t *testing.T, n *consultest.Node, args ...string) (int, string) {
	t.Helper()
	tf := filepath.Join(t.TempDir(), "status.token")
	if err := os.WriteFile(tf, []byte(f.StatusToken), 0o600); err != nil {
		t.Fatal(err)
	}
	return f.statusWithToken(t, n, tf, args...)
}

// statusWithToken runs `carbonio-health status` with the token in file tf.
func (f *clusterFixture) statusWithToken(t *testing.T, n *consultest.Node, tf string, args ...string) (int, string) {
	t.Helper()
	var out bytes.Buffer
	code := dispatch(context.Background(), append([]string{"status", "-http-addr", n.Addr, "-token-file", tf}, args...), &out, &out)
	return code, strings.TrimSpace(out.String())
}

// TestClusterReadEveryNode: `status -node '*'` (Nagios line and JSON) and a
// real `consul watch -type checks`, both on a node other than the ones
// checked and both with the read-only token only, see every node's checks.
func TestClusterReadEveryNode(t *testing.T) {
	f := sharedCluster(t)
	reader := f.Servers[1]
	want := len(f.Daemons[0].CheckIDs()) * len(f.Daemons) // 3 declared + the heartbeat, each

	code, line := f.statusAt(t, reader, "-node", "*")
	if code != 0 || !strings.Contains(line, fmt.Sprintf("HEALTH OK - %d checks passing on every node", want)) {
		t.Errorf("status -node '*': %d %s", code, line)
	}
	code, out := f.statusAt(t, reader, "-node", "*", "-format", "json")
	var js statusJSON
	if err := json.Unmarshal([]byte(out), &js); err != nil {
		t.Fatalf("status json: %v\n%s", err, out)
	}
	nodes := map[string]int{}
	for _, c := range js.Checks {
		nodes[c.Node]++
	}
	if code != 0 || js.Counts[api.HealthPassing] != want || len(nodes) != len(f.Daemons) {
		t.Errorf("status json: code %d, counts %v, nodes %v", code, js.Counts, nodes)
	}

	// consul watch runs its handler with the checks as JSON on stdin, at
	// start and on every change.
	dir := t.TempDir()
	handler := filepath.Join(dir, "handler.sh")
	script := "#!/bin/sh\ncat > " + dir + "/w.tmp && mv " + dir + "/w.tmp " + dir + "/checks.json\n"
	if err := os.WriteFile(handler, []byte(script), 0o755); err != nil {
		t.Fatal(err)
	}
	watcher := f.Clients[2]
	cmd := exec.Command(consultest.Binary(t), "watch", "-type", "checks", "-http-addr", watcher.Addr, handler)
	cmd.Env = append(os.Environ(), "CONSUL_HTTP_TOKEN="+f.StatusToken)
	werr, err := os.Create(filepath.Join(dir, "watch.err"))
	if err != nil {
		t.Fatal(err)
	}
	defer werr.Close()
	cmd.Stderr = werr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })
	seen := func() map[string]map[string]string {
		b, err := os.ReadFile(filepath.Join(dir, "checks.json"))
		if err != nil {
			return nil
		}
		var checks []api.HealthCheck
		if json.Unmarshal(b, &checks) != nil {
			return nil
		}
		out := map[string]map[string]string{}
		for _, c := range checks {
			if out[c.Node] == nil {
				out[c.Node] = map[string]string{}
			}
			out[c.Node][c.CheckID] = c.Status
		}
		return out
	}
	everyCheck := func(status string, changed *clusterDaemon) bool {
		got := seen()
		for _, d := range f.Daemons {
			for _, id := range d.CheckIDs() {
				st := api.HealthPassing
				if d == changed && strings.HasSuffix(id, ":sock:present") {
					st = status
				}
				if got[d.Node.Name][id] != st {
					return false
				}
			}
		}
		return true
	}
	consultest.Eventually(t, "consul watch on "+watcher.Name+" to see every node's checks", func() bool { return everyCheck(api.HealthPassing, nil) })

	// A change on another node reaches the watch, and the status line.
	d := f.Daemons[0]
	if err := os.Remove(d.Sock); err != nil {
		t.Fatal(err)
	}
	defer func() {
		if _, err := reopenSocket(d); err != nil {
			t.Fatal(err)
		}
		consultest.Eventually(t, "the socket check passing again", func() bool { return everyCheck(api.HealthPassing, nil) })
	}()
	consultest.Eventually(t, "consul watch to see "+d.Node.Name+"'s socket check critical", func() bool { return everyCheck(api.HealthCritical, d) })
	code, line = f.statusAt(t, reader, "-node", "*")
	if code != 2 || !strings.Contains(line, serviceName(d.Role, "sock")) {
		t.Errorf("status -node '*' after the socket went: %d %s", code, line)
	}
	if b, _ := os.ReadFile(werr.Name()); strings.Contains(string(b), "403") {
		t.Errorf("consul watch was refused: %s", b)
	}
}

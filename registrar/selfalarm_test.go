package registrar

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// The daemon's own state is an alarm: whenever the agent answers but does
// not hold what is declared, the heartbeat turns warning and names why, the
// log never says "in sync" meanwhile, and the daemon retries as soon as the
// cause may be gone. Each fault here is real: a real agent, a neighbour's
// real broken file, a real refusal.

const extraScriptID = "carbonio-health:t:extra"

// withExtraScript is nodeDecl with one more script service, delivered
// through the fragment (a change that needs an agent reload).
func withExtraScript(port int, sock string) string {
	return strings.Replace(nodeDecl(port, sock), "\n}\nnode {", `
  service "extra" {
    check "sh" {
      type     = "script"
      command  = ["/bin/sh", "-c", "echo EXTRA OK; exit 0"]
      interval = "1s"
    }
  }
}
node {`, 1)
}

// selfAlarmDaemon starts a daemon with the heartbeat on a node whose agent
// allows local scripts only, through its config folder, and waits for the
// heartbeat to pass.
func selfAlarmDaemon(t *testing.T, n *nodeFixture, decl string) (*testWriter, string, chan struct{}) {
	t.Helper()
	load, path := declDir(t, decl)
	logs := &testWriter{t: t}
	reload := make(chan struct{}, 1)
	startDaemon(t, &Daemon{Client: n.client, Log: loggerTo(t, logs), Load: load, Reload: reload,
		AgentConfigDir: n.agent.ConfigDir, Options: Options{Self: "/bin/true", Heartbeat: true}})
	waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	return logs, path, reload
}

// waitCheck waits until the agent holds check id with status and an output
// containing want, and returns when it saw it.
func waitCheck(t *testing.T, c *api.Client, id, status, want string) time.Time {
	t.Helper()
	consultest.Eventually(t, fmt.Sprintf("%s %s with %q", id, status, want), func() bool {
		st, out := checkStatus(t, c, id)
		return st == status && strings.Contains(out, want)
	})
	return time.Now()
}

// linesSince returns the log lines written after mark that contain s.
func linesSince(w *testWriter, mark int, s string) []string {
	var out []string
	for _, l := range w.snapshot()[mark:] {
		if strings.Contains(l, s) {
			out = append(out, l)
		}
	}
	return out
}

// TestSelfAlarmNeighbourBrokenFile: another package leaves an unparsable
// file in the agent's config folder, so the agent refuses every reload and
// a service that needs one stays missing. The heartbeat warns naming the
// refusal and the missing service; once the file is fixed, the daemon
// reloads at once (it watches the folder), not at its next retry.
func TestSelfAlarmNeighbourBrokenFile(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	logs, path, reload := selfAlarmDaemon(t, n, nodeDecl(n.port, n.sock))
	broken := filepath.Join(n.agent.ConfigDir, "neighbour.json")
	if err := os.WriteFile(broken, []byte(`{"services": [`), 0o644); err != nil {
		t.Fatal(err)
	}
	mark := len(logs.snapshot())
	if err := os.WriteFile(path, []byte(withExtraScript(n.port, n.sock)), 0o644); err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	reload <- struct{}{}
	// Waited for naming the new service: the broken file alone (its
	// event) may already have made the daemon reload the agent and warn,
	// before the new declaration was read.
	seen := waitCheck(t, n.client, HeartbeatCheckID, api.HealthWarning, "1 declared service not in the agent: "+extraScriptID)
	_, out := checkStatus(t, n.client, HeartbeatCheckID)
	if !strings.Contains(out, "the agent refuses to reload its configuration") || !strings.Contains(out, "neighbour.json") || !strings.Contains(out, "1 declared service not in the agent: "+extraScriptID) {
		t.Errorf("heartbeat output does not name the file and the missing service: %s", out)
	}
	if _, ok := owned(t, n.client)[extraScriptID]; ok {
		t.Fatal("the agent holds the new service although it refused the reload")
	}
	// Stays so while the file is broken; the log never says "in sync".
	time.Sleep(3 * time.Second)
	if st, _ := checkStatus(t, n.client, HeartbeatCheckID); st != api.HealthWarning {
		t.Errorf("heartbeat %s while the file is still broken", st)
	}
	if l := linesSince(logs, mark, "in sync with the consul agent"); len(l) > 0 {
		t.Errorf("logged in sync while a service was missing: %v", l)
	}
	if len(linesSince(logs, mark, "the heartbeat check says so until it does")) != 1 {
		t.Errorf("want one warning line for the refusal:\n%s", strings.Join(logs.snapshot()[mark:], ""))
	}

	if err := os.WriteFile(broken, []byte(`{"services": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	cleared := waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	if _, ok := owned(t, n.client)[extraScriptID]; !ok {
		t.Error("the new service is not in the agent after the fix")
	}
	consultest.Eventually(t, "the in-sync line", func() bool { return len(linesSince(logs, mark, "in sync with the consul agent")) == 1 })
	t.Logf("neighbour's broken file: heartbeat WARNING %v after the reload was asked; passing %v after the file was fixed: %s",
		seen.Sub(asked).Round(time.Millisecond), cleared.Sub(fixed).Round(time.Millisecond), out)
}

// TestSelfAlarmBrokenFileAtStart: the folder is already broken when the
// daemon starts, so its fragment, heartbeat included, cannot reach the
// agent. The heartbeat is registered through the API meanwhile, warning;
// the fragment takes it back once the agent reloads.
func TestSelfAlarmBrokenFileAtStart(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	broken := filepath.Join(n.agent.ConfigDir, "neighbour.hcl")
	if err := os.WriteFile(broken, []byte("services = [ {\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	load, _ := declDir(t, nodeDecl(n.port, n.sock))
	logs := &testWriter{t: t}
	start := time.Now()
	startDaemon(t, &Daemon{Client: n.client, Log: loggerTo(t, logs), Load: load,
		AgentConfigDir: n.agent.ConfigDir, Options: Options{Self: "/bin/true", Heartbeat: true}})
	seen := waitCheck(t, n.client, HeartbeatCheckID, api.HealthWarning, "the agent refuses to reload its configuration")
	_, out := checkStatus(t, n.client, HeartbeatCheckID)
	if !strings.Contains(out, scriptID) {
		t.Errorf("heartbeat does not name the missing script service: %s", out)
	}
	if len(linesSince(logs, 0, "in sync with the consul agent")) > 0 {
		t.Error("logged in sync while the fragment could not reach the agent")
	}
	if err := os.Remove(broken); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	cleared := waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	waitCheck(t, n.client, shChk, api.HealthPassing, "SCRIPT OK")
	t.Logf("broken file at start: heartbeat (through the API) WARNING %v after the start; passing %v after the file went: %s",
		seen.Sub(start).Round(time.Millisecond), cleared.Sub(fixed).Round(time.Millisecond), out)
}

// TestSelfAlarmFragmentUnwritable: the fragment's path is taken by a
// folder, so the daemon cannot write it. The heartbeat warns with the
// error; the folder removed, the fragment is written at once.
func TestSelfAlarmFragmentUnwritable(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	logs, path, reload := selfAlarmDaemon(t, n, nodeDecl(n.port, n.sock))
	frag := filepath.Join(n.agent.ConfigDir, FragmentName)
	if err := os.Remove(frag); err != nil {
		t.Fatal(err)
	}
	if err := os.Mkdir(frag, 0o755); err != nil {
		t.Fatal(err)
	}
	mark := len(logs.snapshot())
	if err := os.WriteFile(path, []byte(withExtraScript(n.port, n.sock)), 0o644); err != nil {
		t.Fatal(err)
	}
	asked := time.Now()
	reload <- struct{}{}
	// Waited for naming the new service: the folder alone (its event) may
	// already have made the daemon try the fragment and warn, before the
	// new declaration was read (seen under load in make test).
	seen := waitCheck(t, n.client, HeartbeatCheckID, api.HealthWarning, extraScriptID)
	_, out := checkStatus(t, n.client, HeartbeatCheckID)
	if !strings.Contains(out, "cannot write the agent config fragment") || !strings.Contains(out, "is a directory") {
		t.Errorf("heartbeat output: %s", out)
	}
	if l := linesSince(logs, mark, "in sync with the consul agent"); len(l) > 0 {
		t.Errorf("logged in sync while the fragment could not be written: %v", l)
	}
	if err := os.Remove(frag); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	cleared := waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	waitCheck(t, n.client, extraScriptID+":sh", api.HealthPassing, "EXTRA OK")
	t.Logf("fragment unwritable: heartbeat WARNING %v after the reload was asked; passing %v after the path was freed: %s",
		seen.Sub(asked).Round(time.Millisecond), cleared.Sub(fixed).Round(time.Millisecond), out)
}

// TestSelfAlarmRegistrationRefused: the agent refuses one declared service
// (a meta value longer than Consul's 512 characters): the others are
// registered all the same, the heartbeat names the refused one and the
// agent's reason, and a corrected declaration clears it.
func TestSelfAlarmRegistrationRefused(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, true)
	long := strings.Replace(ttlOnlyDecl(n.port, n.sock), `  service "web" {`, `  service "web" {
    meta = { note = "`+strings.Repeat("x", 600)+`" }`, 1)
	load, path := declDir(t, long)
	logs := &testWriter{t: t}
	reload := make(chan struct{}, 1)
	start := time.Now()
	startDaemon(t, &Daemon{Client: n.client, Log: loggerTo(t, logs), Load: load, Reload: reload,
		Options: Options{Self: "/bin/true", Heartbeat: true}})
	seen := waitCheck(t, n.client, HeartbeatCheckID, api.HealthWarning, "the agent refuses service "+webID)
	_, out := checkStatus(t, n.client, HeartbeatCheckID)
	if !strings.Contains(out, "Invalid Service Meta") {
		t.Errorf("heartbeat does not give the agent's reason: %s", out)
	}
	waitCheck(t, n.client, sockChk, api.HealthPassing, "is present") // the rest is registered
	if len(linesSince(logs, 0, "in sync with the consul agent")) > 0 {
		t.Error("logged in sync while a service was refused")
	}
	if err := os.WriteFile(path, []byte(ttlOnlyDecl(n.port, n.sock)), 0o644); err != nil {
		t.Fatal(err)
	}
	fixed := time.Now()
	reload <- struct{}{}
	cleared := waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	if _, ok := owned(t, n.client)[webID]; !ok {
		t.Error("the corrected service is not registered")
	}
	t.Logf("registration refused: heartbeat WARNING %v after the start; passing %v after the corrected declaration: %s",
		seen.Sub(start).Round(time.Millisecond), cleared.Sub(fixed).Round(time.Millisecond), out)
}

// TestSelfAlarmCheckReplaced: someone registers another kind of check
// under the ID of a TTL check the daemon feeds, so the agent refuses its
// TTL updates ("does not have associated TTL"). The daemon registers its
// service again and feeds it.
func TestSelfAlarmCheckReplaced(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, true)
	load, _ := n.declare(t, false)
	d := &Daemon{Client: n.client, Log: testLogger(t), Load: load, Options: Options{Self: "/bin/true", Heartbeat: true}}
	startDaemon(t, d)
	waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
	if err := n.client.Agent().CheckRegister(&api.AgentCheckRegistration{ID: sockChk, Name: "someone else's", ServiceID: sockID,
		AgentServiceCheck: api.AgentServiceCheck{TCP: fmt.Sprintf("127.0.0.1:%d", n.port), Interval: "1h"}}); err != nil {
		t.Fatal(err)
	}
	replaced := time.Now()
	consultest.Eventually(t, "the TTL check back and fed", func() bool {
		checks, err := n.client.Agent().Checks()
		c := checks[sockChk]
		return err == nil && c != nil && c.Type == "ttl" && c.Status == api.HealthPassing
	})
	t.Logf("TTL check replaced by a TCP check of the same ID: ours back and passing %v later", time.Since(replaced).Round(time.Millisecond))
}

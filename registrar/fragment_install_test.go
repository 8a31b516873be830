package registrar

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// installTestPolicy is what install-fragment allows on a packaged node.
var installTestPolicy = InstallPolicy{Self: "/usr/bin/carbonio-health", Light: "/usr/bin/carbonio-health-check"}

// builtinFragment renders the fragment the daemon writes for a node with
// every role of the built-in catalog, its heartbeat and metrics endpoint
// included, plus nodeDecl's operator command.
func builtinFragment(t *testing.T) ([]byte, InstallPolicy) {
	t.Helper()
	dir := t.TempDir()
	src := `node {
  roles    = ["mta", "proxy", "mailstore", "directory", "replica"]
  features = ["antivirus", "dkim", "active-replica"]
}
override "all" "load" {
  check "plugin" {
    type    = "script"
    command = ["/usr/lib/nagios/plugins/check_load", "-w", "5,4,3", "-c", "10,8,6"]
  }
}
`
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := hcl.Load(hcl.Options{ConfigDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	st := Desired(plan, Options{Self: installTestPolicy.Self, Light: installTestPolicy.Light, Heartbeat: true,
		Exporter: &Exporter{Address: "127.0.0.1", Port: 9171}})
	var all []ServiceState
	all = append(all, st.Services...)
	p := installTestPolicy
	p.Commands = DeclaredCommands(plan)
	return renderFragment(all), p
}

// TestInstallPolicyRoundTrip: what the daemon writes passes unchanged, byte
// for byte (the daemon waits for exactly its own bytes to be installed).
func TestInstallPolicyRoundTrip(t *testing.T) {
	staged, p := builtinFragment(t)
	got, err := p.Check(staged)
	if err != nil {
		t.Fatalf("the daemon's own fragment refused: %v", err)
	}
	if string(got) != string(staged) {
		t.Errorf("installed form differs from the staged one:\n%s\nvs\n%s", got, staged)
	}
	if len(p.Commands) != 1 {
		t.Errorf("declared commands = %v", p.Commands)
	}
}

// TestInstallPolicyRefuses: anything the daemon does not write is refused,
// with the reason.
func TestInstallPolicyRefuses(t *testing.T) {
	svc := func(extra string) string {
		return `{"services": [{"id": "carbonio-health:t:x", "name": "x", "meta": {"managed-by": "carbonio-health"}` + extra + `}]}`
	}
	check := func(c string) string { return svc(`, "checks": [` + c + `]`) }
	tests := []struct{ name, staged, want string }{
		{"agent setting", `{"services": [], "enable_script_checks": true}`, `unknown field "enable_script_checks"`},
		{"acl block", `{"acl": {"default_policy": "allow"}}`, `unknown field "acl"`},
		{"no services", `{"services": []}`, "no services"},
		{"trailing data", svc("") + ` {"acl": {}}`, "data after the JSON object"},
		{"unknown service field", svc(`, "connect": {"native": true}`), `unknown field "connect"`},
		{"foreign service ID", strings.Replace(svc(""), "carbonio-health:t:x", "carbonio-mta", 1), "the ID is not"},
		{"not owned", strings.Replace(svc(""), `"managed-by": "carbonio-health"`, `"managed-by": "me"`, 1), "meta managed-by"},
		{"twice", `{"services": [` + strings.TrimSuffix(strings.TrimPrefix(svc(""), `{"services": [`), `]}`) + `, ` + strings.TrimSuffix(strings.TrimPrefix(svc(""), `{"services": [`), `]}`) + `]}`, "declared twice"},
		{"foreign check ID", check(`{"id": "mine", "ttl": "30s"}`), "the ID is not carbonio-health:"},
		{"shell", check(`{"id": "carbonio-health:t:x:a", "args": ["/bin/sh", "-c", "id"], "interval": "10s"}`), `runs "/bin/sh"`},
		{"run, not check", check(`{"id": "carbonio-health:t:x:a", "args": ["/usr/bin/carbonio-health", "setup"], "interval": "10s"}`), `runs "/usr/bin/carbonio-health"`},
		{"undeclared plugin", check(`{"id": "carbonio-health:t:x:a", "args": ["/usr/lib/nagios/plugins/check_load", "-w", "1"], "interval": "10s"}`), "nor a command declared"},
		{"file URL", check(`{"id": "carbonio-health:t:x:a", "http": "file:///etc/shadow", "interval": "10s"}`), "not an http or https URL"},
		{"two kinds", check(`{"id": "carbonio-health:t:x:a", "ttl": "30s", "tcp": "127.0.0.1:25"}`), "not exactly one"},
		{"docker check", check(`{"id": "carbonio-health:t:x:a", "docker_container_id": "x", "args": ["/usr/bin/carbonio-health-check", "disk"]}`), `unknown field "docker_container_id"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := installTestPolicy.Check([]byte(tt.staged))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("Check: %v, want an error containing %q", err, tt.want)
			}
		})
	}
	ok := check(`{"id": "carbonio-health:t:x:a", "args": ["/usr/bin/carbonio-health", "check", "-steady", "dns", "-H", "x"], "interval": "10s"}`)
	if _, err := installTestPolicy.Check([]byte(ok)); err != nil {
		t.Errorf("a check through carbonio-health check refused: %v", err)
	}
}

// TestInstallFragment: install, no-op, refusal keeping the last good file,
// removal when nothing is staged.
func TestInstallFragment(t *testing.T) {
	staged, p := builtinFragment(t)
	stageDir, agentDir := t.TempDir(), t.TempDir()
	installed := filepath.Join(agentDir, FragmentName)
	install := func() (string, error) { return InstallFragment(stageDir, agentDir, p) }

	if did, err := install(); err != nil || did != "nothing staged, nothing installed" {
		t.Fatalf("empty stage: %q, %v", did, err)
	}
	if err := os.WriteFile(filepath.Join(stageDir, FragmentName), staged, 0o644); err != nil {
		t.Fatal(err)
	}
	if did, err := install(); err != nil || !strings.HasPrefix(did, "installed ") {
		t.Fatalf("install: %q, %v", did, err)
	}
	if b, _ := os.ReadFile(installed); string(b) != string(staged) {
		t.Fatal("installed file differs from the staged one")
	}
	if did, err := install(); err != nil || !strings.HasSuffix(did, "is up to date") {
		t.Fatalf("again: %q, %v", did, err)
	}
	bad := strings.Replace(string(staged), `"/usr/bin/carbonio-health-check"`, `"/bin/sh"`, 1)
	if err := os.WriteFile(filepath.Join(stageDir, FragmentName), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := install(); err == nil || !strings.Contains(err.Error(), "stays as it was") {
		t.Fatalf("tampered fragment: %v, want a refusal", err)
	}
	if b, _ := os.ReadFile(installed); string(b) != string(staged) {
		t.Fatal("a refused fragment changed the installed one")
	}
	// A link to a file only root may read is not followed.
	if err := os.Remove(filepath.Join(stageDir, FragmentName)); err != nil {
		t.Fatal(err)
	}
	if err := os.Symlink("/etc/shadow", filepath.Join(stageDir, FragmentName)); err != nil {
		t.Fatal(err)
	}
	if _, err := install(); err == nil || !strings.Contains(err.Error(), "too many levels of symbolic links") {
		t.Fatalf("staged link: %v, want it refused", err)
	}
	if b, _ := os.ReadFile(installed); string(b) != string(staged) {
		t.Fatal("a refused link changed the installed fragment")
	}
	if err := os.Remove(filepath.Join(stageDir, FragmentName)); err != nil {
		t.Fatal(err)
	}
	if did, err := install(); err != nil || !strings.HasPrefix(did, "nothing staged: removed ") {
		t.Fatalf("unstaged: %q, %v", did, err)
	}
	if _, err := os.Stat(installed); !os.IsNotExist(err) {
		t.Errorf("installed fragment left: %v", err)
	}
}

// TestStagedFragmentWithoutInstaller: nobody installs what was staged: the
// write fails naming the installer's unit and journal, not silently.
func TestStagedFragmentWithoutInstaller(t *testing.T) {
	s := stagedFragment{Stage: t.TempDir(), Installed: filepath.Join(t.TempDir(), FragmentName), Wait: 1500 * time.Millisecond}
	_, err := s.write(context.Background(), []byte("{}\n"))
	if !errors.Is(err, errFragmentNotInstalled) || !strings.Contains(err.Error(), "journalctl -u carbonio-health-fragment.service") {
		t.Fatalf("write: %v", err)
	}
}

// TestDaemonStagedFragment: a daemon with -fragment-stage and a real agent
// that allows only local script checks: the installer (the real function,
// run whenever the staged file changes, as the path unit runs it) puts the
// fragment into the agent's config dir; the script check runs; the daemon
// never writes there itself. A tampered staged file is refused and the
// installed one stays.
func TestDaemonStagedFragment(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	agent, client := n.agent, n.client
	load, _ := n.declare(t, true)
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	stageDir := t.TempDir()
	refused := runInstaller(t, stageDir, agent.ConfigDir, InstallPolicy{Commands: DeclaredCommands(plan)})
	startDaemon(t, &Daemon{Client: client, Log: testLogger(t), Load: load, AgentConfigDir: agent.ConfigDir, FragmentStage: stageDir})
	consultest.Eventually(t, "the script check passing", func() bool {
		st, _ := checkStatus(t, client, shChk)
		return st == api.HealthPassing
	})
	installed, err := os.ReadFile(filepath.Join(agent.ConfigDir, FragmentName))
	if err != nil {
		t.Fatal(err)
	}
	staged, _ := os.ReadFile(filepath.Join(stageDir, FragmentName))
	if string(installed) != string(staged) {
		t.Error("installed fragment differs from the staged one")
	}

	// Someone with the daemon's user tampers with the staged file.
	bad := strings.Replace(string(staged), `"/bin/sh"`, `"/bin/bash"`, 1)
	if err := os.WriteFile(filepath.Join(stageDir, FragmentName), []byte(bad), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case err := <-refused:
		if !strings.Contains(err.Error(), `runs "/bin/bash"`) {
			t.Errorf("refusal: %v", err)
		}
	case <-time.After(30 * time.Second):
		t.Fatal("the tampered fragment was not refused")
	}
	if b, _ := os.ReadFile(filepath.Join(agent.ConfigDir, FragmentName)); string(b) != string(installed) {
		t.Error("a refused fragment replaced the installed one")
	}
}

// runInstaller runs InstallFragment whenever the staged file in stageDir
// changes or is absent, as carbonio-health-fragment.path and .service do,
// until the test ends; its refusals come on the channel.
func runInstaller(t *testing.T, stageDir, agentDir string, policy InstallPolicy) <-chan error {
	refused := make(chan error, 16)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	t.Cleanup(func() { cancel(); <-done })
	go func() {
		defer close(done)
		var last time.Time
		for ctx.Err() == nil {
			st, err := os.Stat(filepath.Join(stageDir, FragmentName))
			if (err == nil && st.ModTime() != last) || os.IsNotExist(err) {
				if err == nil {
					last = st.ModTime()
				}
				if _, err := InstallFragment(stageDir, agentDir, policy); err != nil {
					select {
					case refused <- err:
					default:
					}
				}
			}
			time.Sleep(20 * time.Millisecond)
		}
	}()
	return refused
}

// TestSelfAlarmFragmentNotInstalled: the daemon stages its fragment and
// nothing installs it (carbonio-health-fragment.path stopped or masked):
// the heartbeat, registered through the API meanwhile, warns naming the
// installer's unit and its journal; once the installer runs, the fragment
// is installed, the script check runs and the heartbeat passes.
func TestSelfAlarmFragmentNotInstalled(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	load, _ := n.declare(t, true)
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	stageDir := t.TempDir()
	start := time.Now()
	startDaemon(t, &Daemon{Client: n.client, Log: testLogger(t), Load: load, AgentConfigDir: n.agent.ConfigDir,
		FragmentStage: stageDir, Options: Options{Self: "/bin/true", Heartbeat: true}})
	seen := waitCheck(t, n.client, HeartbeatCheckID, api.HealthWarning, "journalctl -u carbonio-health-fragment.service")
	if _, err := os.Stat(filepath.Join(n.agent.ConfigDir, FragmentName)); !os.IsNotExist(err) {
		t.Errorf("the daemon wrote into the agent's config dir itself: %v", err)
	}
	_, out := checkStatus(t, n.client, HeartbeatCheckID)
	installing := time.Now()
	runInstaller(t, stageDir, n.agent.ConfigDir, InstallPolicy{Commands: DeclaredCommands(plan)})
	cleared := waitCheck(t, n.client, HeartbeatCheckID, api.HealthPassing, "fed")
	waitCheck(t, n.client, shChk, api.HealthPassing, "")
	t.Logf("no installer: heartbeat WARNING %v after the start; passing %v after the installer ran: %s",
		seen.Sub(start).Round(time.Millisecond), cleared.Sub(installing).Round(time.Millisecond), out)
}

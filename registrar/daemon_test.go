package registrar

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

const (
	webID    = "carbonio-health:t:web"
	sockID   = "carbonio-health:t:sock"
	scriptID = "carbonio-health:t:script"
	sockChk  = "carbonio-health:t:sock:present"
	shChk    = "carbonio-health:t:script:sh"
)

// TestDaemonScriptChecks runs the same declaration against an agent of
// each script-check configuration: the daemon picks the path the agent
// allows, or fails at start naming the setting.
func TestDaemonScriptChecks(t *testing.T) {
	tests := []struct {
		name     string
		scripts  consultest.ScriptChecks
		useDir   bool
		fragment bool   // the script service arrives through the config dir
		errWant  string // Run fails at start with this in its message
	}{
		{"local only, through the config dir", consultest.ScriptChecksLocal, true, true, ""},
		{"remote, through the API", consultest.ScriptChecksRemote, false, false, ""},
		{"local only, no config dir", consultest.ScriptChecksLocal, false, false, "-agent-config-dir"},
		{"none allowed", consultest.ScriptChecksNone, true, false, "enable_local_script_checks = true"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNodeFixture(t, consultest.Options{ScriptChecks: tt.scripts}, false)
			agent, client := n.agent, n.client
			load, _ := n.declare(t, true)
			d := &Daemon{Client: client, Log: testLogger(t), Load: load}
			if tt.useDir {
				d.AgentConfigDir = agent.ConfigDir
			}
			if tt.errWant != "" {
				err := d.Run(context.Background())
				if err == nil || !strings.Contains(err.Error(), tt.errWant) {
					t.Fatalf("Run: %v, want an error naming %q", err, tt.errWant)
				}
				if len(owned(t, client)) != 0 {
					t.Error("a failed start registered services")
				}
				return
			}
			startDaemon(t, d)
			consultest.Eventually(t, "the script check passing", func() bool {
				st, _ := checkStatus(t, client, shChk)
				return st == api.HealthPassing
			})
			_, err := os.Stat(filepath.Join(agent.ConfigDir, FragmentName))
			if got := err == nil; got != tt.fragment {
				t.Errorf("fragment file present = %v, want %v", got, tt.fragment)
			}
			if got := owned(t, client); len(got) != 3 {
				t.Errorf("owned services %v", got)
			}
		})
	}
}

// TestDaemonTTLChecks: the socket probe feeds its TTL check, a removed
// socket turns it critical, and a killed daemon lets it expire.
func TestDaemonTTLChecks(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, true)
	client, sock, l := n.client, n.sock, n.socket
	load, _ := n.declare(t, false)
	d := startDaemon(t, &Daemon{Client: client, Log: testLogger(t), Load: load})

	steps := []struct {
		name   string
		act    func()
		status string
		output string
	}{
		{"socket present", func() {}, api.HealthPassing, "is present"},
		{"socket removed", func() { l.Close(); os.Remove(sock) }, api.HealthCritical, "no such file"},
		{"socket back", func() { consultest.Listen(t, "unix", sock) }, api.HealthPassing, "is present"},
		{"daemon killed: the TTL expires", func() { d.Stop(t) }, api.HealthCritical, "TTL expired"},
	}
	for _, s := range steps {
		s.act()
		consultest.Eventually(t, s.name, func() bool {
			st, out := checkStatus(t, client, sockChk)
			return st == s.status && strings.Contains(strings.ToLower(out), strings.ToLower(s.output))
		})
	}
	// Stopping kept the registrations (the expiry is the alarm).
	if len(owned(t, client)) != 2 {
		t.Errorf("registrations did not survive the stop: %v", owned(t, client))
	}
}

// TestDaemonDeregisterOnExit removes exactly what it owns.
func TestDaemonDeregisterOnExit(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, false)
	agent, client := n.agent, n.client
	if err := client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "other", Name: "carbonio-t-web"}); err != nil {
		t.Fatal(err)
	}
	load, _ := n.declare(t, true)
	d := startDaemon(t, &Daemon{Client: client, Log: testLogger(t), Load: load, AgentConfigDir: agent.ConfigDir, DeregisterOnExit: true})
	if len(owned(t, client)) != 3 {
		t.Fatalf("owned before exit: %v", owned(t, client))
	}
	if err := d.Stop(t); err != nil {
		t.Fatal(err)
	}
	if got := owned(t, client); len(got) != 0 {
		t.Errorf("still registered after -deregister-on-exit: %v", got)
	}
	if _, err := os.Stat(filepath.Join(agent.ConfigDir, FragmentName)); !os.IsNotExist(err) {
		t.Errorf("fragment left behind: %v", err)
	}
	if all, _ := client.Agent().Services(); all["other"] == nil {
		t.Error("a foreign service was removed")
	}
}

// TestDaemonRegistersViaConfig: -register-via-config puts every service in
// the fragment; TTL checks defined there are still fed over the API.
func TestDaemonRegistersViaConfig(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal}, true)
	agent, client := n.agent, n.client
	load, _ := n.declare(t, true)
	startDaemon(t, &Daemon{Client: client, Log: testLogger(t), Load: load, AgentConfigDir: agent.ConfigDir, AllViaConfig: true})
	consultest.Eventually(t, "the TTL check passing", func() bool {
		st, _ := checkStatus(t, client, sockChk)
		return st == api.HealthPassing
	})
	b, err := os.ReadFile(filepath.Join(agent.ConfigDir, FragmentName))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{webID, sockID, scriptID} {
		if !strings.Contains(string(b), `"id": "`+id+`"`) {
			t.Errorf("%s is not in the fragment", id)
		}
	}
	if len(owned(t, client)) != 3 {
		t.Errorf("owned services %v", owned(t, client))
	}
}

// TestDaemonStartErrors: what fails before any agent is asked.
func TestDaemonStartErrors(t *testing.T) {
	tests := []struct {
		name string
		d    *Daemon
		want string
	}{
		{"via config without the dir", &Daemon{AllViaConfig: true}, "-agent-config-dir"},
		{"invalid declaration", &Daemon{Load: func() (*hcl.Plan, error) {
			return hcl.LoadSources(hcl.Options{NoBuiltin: true}, []hcl.Source{{Name: "node.hcl", Src: []byte("node { roles = [\"nope\"] }")}})
		}}, "node.hcl:1:"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.d.Log = testLogger(t)
			err := tt.d.Run(context.Background())
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Run: %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

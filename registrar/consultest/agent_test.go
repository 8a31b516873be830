package consultest

import (
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
)

func TestAgentLifecycle(t *testing.T) {
	start := time.Now()
	a := Start(t, Options{})
	t.Logf("ready in %v", time.Since(start).Round(time.Millisecond))
	c := a.Client(t, "")
	reg := &api.AgentServiceRegistration{ID: "x", Name: "x", Check: &api.AgentServiceCheck{CheckID: "x:ttl", TTL: "30s"}}
	if err := c.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	has := func() bool {
		s, _ := c.Agent().Services()
		_, ok := s["x"]
		return ok
	}
	steps := []struct {
		name string
		act  func()
		want bool
	}{
		{"registered", func() {}, true},
		{"restart keeps it", func() { a.Stop(t); a.Start(t) }, true},
		{"wiped data dir loses it", func() { a.Stop(t); a.WipeDataDir(t); a.Start(t) }, false},
	}
	for _, s := range steps {
		s.act()
		if got := has(); got != s.want {
			t.Errorf("%s: service present = %v", s.name, got)
		}
	}
}

func TestAgentScriptSettings(t *testing.T) {
	tests := []struct {
		name          string
		scripts       ScriptChecks
		local, remote bool
	}{
		{"none", ScriptChecksNone, false, false},
		{"local", ScriptChecksLocal, true, false},
		{"remote", ScriptChecksRemote, true, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a := Start(t, Options{ScriptChecks: tt.scripts})
			self, err := a.Client(t, "").Agent().Self()
			if err != nil {
				t.Fatal(err)
			}
			dc := self["DebugConfig"]
			if dc["EnableLocalScriptChecks"] != tt.local || dc["EnableRemoteScriptChecks"] != tt.remote {
				t.Errorf("DebugConfig local=%v remote=%v", dc["EnableLocalScriptChecks"], dc["EnableRemoteScriptChecks"])
			}
			reg := &api.AgentServiceRegistration{ID: "s", Name: "s", Check: &api.AgentServiceCheck{Args: []string{"true"}, Interval: "10s"}}
			err = a.Client(t, "").Agent().ServiceRegister(reg)
			if (err == nil) != tt.remote {
				t.Errorf("API script check accepted = %v", err == nil)
			}
		})
	}
}

func TestAgentACL(t *testing.T) {
	a := Start(t, Options{ACL: true})
	reg := &api.AgentServiceRegistration{ID: "x", Name: "x"}
	if err := a.Client(t, "").Agent().ServiceRegister(reg); err == nil {
		t.Error("anonymous registration accepted under default deny")
	}
	if err := a.Client(t, a.ManagementToken).Agent().ServiceRegister(reg); err != nil {
		t.Errorf("management token refused: %v", err)
	}
}

package registrar

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestDesiredHeartbeat: the heartbeat is one owned service with one TTL
// check fed in-process, sent through the config fragment, and only there
// when asked for.
func TestDesiredHeartbeat(t *testing.T) {
	n := &nodeFixture{port: 1, sock: "/run/s.sock"}
	load, _ := n.declare(t, false)
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	find := func(st State) *ServiceState {
		for i := range st.Services {
			if st.Services[i].ID() == HeartbeatServiceID {
				return &st.Services[i]
			}
		}
		return nil
	}
	if hb := find(Desired(plan, Options{})); hb != nil {
		t.Fatalf("heartbeat without Options.Heartbeat: %+v", hb)
	}
	hb := find(Desired(plan, Options{Heartbeat: true}))
	if hb == nil {
		t.Fatal("no heartbeat with Options.Heartbeat")
	}
	reg := hb.Registration
	if !hb.ViaFile || hb.HasScript || reg.Name != HeartbeatServiceName || reg.Meta[MetaManagedBy] != ManagedBy ||
		len(reg.Checks) != 1 || reg.Checks[0].CheckID != HeartbeatCheckID || reg.Checks[0].TTL != "30s" || reg.Checks[0].Notes == "" {
		t.Errorf("heartbeat service: %+v, checks %+v", hb, reg.Checks)
	}
	if len(hb.TTL) != 1 || hb.TTL[0].Probe != heartbeatProbe || hb.TTL[0].TTL != heartbeatTTL {
		t.Errorf("heartbeat TTL checks: %+v", hb.TTL)
	}
	if again := find(Desired(plan, Options{Heartbeat: true})); again.Hash != hb.Hash {
		t.Errorf("hash not stable: %s, %s", again.Hash, hb.Hash)
	}
}

// TestHeartbeatDelivery: with the agent's config dir the heartbeat goes
// into the fragment (the agent then writes it with its own token), without
// it over the API; either way the daemon feeds it and it passes, and
// deregistering removes it with the fragment.
func TestHeartbeatDelivery(t *testing.T) {
	tests := []struct {
		name     string
		viaFile  bool
		scripts  consultest.ScriptChecks
		fragment bool
	}{
		{"agent config dir given", true, consultest.ScriptChecksLocal, true},
		{"no agent config dir", false, consultest.ScriptChecksNone, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := newNodeFixture(t, consultest.Options{ScriptChecks: tt.scripts}, true)
			load, _ := n.declare(t, false)
			d := &Daemon{Client: n.client, Load: load, Options: Options{Heartbeat: true}}
			if tt.viaFile {
				d.AgentConfigDir = n.agent.ConfigDir
			}
			r := startDaemon(t, d)
			frag, _ := os.ReadFile(filepath.Join(n.agent.ConfigDir, FragmentName))
			if got := strings.Contains(string(frag), HeartbeatCheckID); got != tt.fragment {
				t.Errorf("heartbeat in the fragment: %v, want %v:\n%s", got, tt.fragment, frag)
			}
			consultest.Eventually(t, "the heartbeat passing in the agent", func() bool {
				st, _ := checkStatus(t, n.client, HeartbeatCheckID)
				return st == api.HealthPassing
			})
			if err := r.Stop(t); err != nil {
				t.Fatal(err)
			}
			if _, err := DeregisterAll(t.Context(), n.client, testLogger(t), d.AgentConfigDir); err != nil {
				t.Fatal(err)
			}
			if s := owned(t, n.client)[HeartbeatServiceID]; s != nil {
				t.Errorf("heartbeat left after deregistering: %+v", s)
			}
			if _, err := os.Stat(filepath.Join(n.agent.ConfigDir, FragmentName)); err == nil {
				t.Error("fragment left after deregistering")
			}
		})
	}
}

package registrar

import (
	"testing"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestCatalogNotesReachTheAgent registers the whole built-in catalog in a
// real agent (script checks through the config dir, the others through the
// API) and reads every check back: each carries its notes, the text the
// Consul UI shows under the check.
func TestCatalogNotesReachTheAgent(t *testing.T) {
	plan := builtinEverything(t)
	want := map[string]string{} // check ID → notes
	for _, s := range plan.Services {
		for _, c := range s.Checks {
			want[c.ID] = c.Notes
		}
	}
	// Every if_present folder counts as present: every check is registered.
	for i := range plan.Services {
		plan.Services[i].IfPresent = ""
	}
	agent := consultest.Start(t, consultest.Options{ScriptChecks: consultest.ScriptChecksLocal})
	client := agent.Client(t, agent.ManagementToken)
	startDaemon(t, &Daemon{
		Client: client, Log: testLogger(t), AgentConfigDir: agent.ConfigDir,
		Load:    func() (*hcl.Plan, error) { return plan, nil },
		Options: Options{Self: "/bin/true"},
	})
	consultest.Eventually(t, "every catalog check in the agent", func() bool {
		checks, err := client.Agent().ChecksWithFilterOpts("", nil)
		if err != nil {
			return false
		}
		n := 0
		for id := range want {
			if _, ok := checks[id]; ok {
				n++
			}
		}
		return n == len(want)
	})
	checks, err := client.Agent().ChecksWithFilterOpts("", nil)
	if err != nil {
		t.Fatal(err)
	}
	for id, notes := range want {
		if notes == "" {
			t.Errorf("%s: the catalog gives no notes", id)
		}
		if got := checks[id].Notes; got != notes {
			t.Errorf("%s: the agent holds notes %q, want %q", id, got, notes)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestStatusReadsTheLocalAgent: an output-only change reaches the catalog
// only after check_update_interval (5 min by default), so `status` for the
// agent's own node must read the agent: the new output shows at once, and
// the JSON says where each check was read. Every node ("*") is the catalog's.
func TestStatusReadsTheLocalAgent(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{})
	client := agent.Client(t, "")
	const checkID = "carbonio-health:t:dns:dns"
	reg := &api.AgentServiceRegistration{ID: "carbonio-health:t:dns", Name: "carbonio-t-dns",
		Meta:  map[string]string{registrar.MetaManagedBy: registrar.ManagedBy}, // ours: status reads only ours
		Check: &api.AgentServiceCheck{CheckID: checkID, Name: "dns", TTL: "10m"}}
	if err := client.Agent().ServiceRegister(reg); err != nil {
		t.Fatal(err)
	}
	// A status change is synced at once: the catalog holds the first output.
	if err := client.Agent().UpdateTTL(checkID, "DNS OK - first", api.HealthPassing); err != nil {
		t.Fatal(err)
	}
	catalogOutput := func() string {
		checks, _, err := client.Health().Node(agent.NodeName, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, c := range checks {
			if c.CheckID == checkID {
				return c.Output
			}
		}
		return ""
	}
	consultest.Eventually(t, "the first output in the catalog", func() bool { return catalogOutput() == "DNS OK - first" })
	// Same status, new output: the agent defers the catalog write.
	if err := client.Agent().UpdateTTL(checkID, "DNS OK - second", api.HealthPassing); err != nil {
		t.Fatal(err)
	}

	read := func(args ...string) statusJSON {
		t.Helper()
		var out bytes.Buffer
		args = append([]string{"status", "-http-addr", agent.Addr, "-format", "json"}, args...)
		if code := dispatch(context.Background(), args, &out, &out); code != 0 {
			t.Fatalf("status %v: exit %d: %s", args, code, out.String())
		}
		var r statusJSON
		if err := json.Unmarshal(out.Bytes(), &r); err != nil {
			t.Fatalf("%v: %s", err, out.String())
		}
		return r
	}
	find := func(r statusJSON, id string) statusCheckJSON {
		t.Helper()
		for _, c := range r.Checks {
			if c.CheckID == id {
				return c
			}
		}
		t.Fatalf("no check %s in %+v", id, r.Checks)
		return statusCheckJSON{}
	}
	tests := []struct {
		name       string
		args       []string
		source     string
		output     string
		serfSource string
	}{
		{"this node", nil, sourceAgent, "DNS OK - second", sourceCatalog},
		{"this node by name", []string{"-node", agent.NodeName}, sourceAgent, "DNS OK - second", sourceCatalog},
		{"this node, one service", []string{"-service", "carbonio-t-dns"}, sourceAgent, "DNS OK - second", ""},
		{"every node", []string{"-node", "*"}, sourceCatalog, "DNS OK - first", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := read(tt.args...)
			c := find(r, checkID)
			if r.Source != tt.source || c.Source != tt.source || c.Output != tt.output {
				t.Errorf("source %q, check source %q, output %q; want %q, %q", r.Source, c.Source, c.Output, tt.source, tt.output)
			}
			if tt.serfSource != "" {
				if serf := find(r, "serfHealth"); serf.Source != tt.serfSource || serf.Status != api.HealthPassing {
					t.Errorf("serfHealth %+v, want source %q, passing", serf, tt.serfSource)
				}
			}
		})
	}
	if got := catalogOutput(); got != "DNS OK - first" {
		t.Logf("the catalog already had the new output (%q): the agent synced early", got)
	}
}

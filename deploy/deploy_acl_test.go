package deploy_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/consul/sdk/testutil/retry"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// tokenWith creates a token holding only the policy in file.
func tokenWith(t *testing.T, admin *api.Client, name, file string) string {
	return consultest.PolicyToken(t, admin, name, file)
}

// TestACLPolicies creates the shipped policies through the ACL API of a
// default-deny agent, named as the daemon policy's example node, and
// exercises what each token may and may not do.
func TestACLPolicies(t *testing.T) {
	rules, err := os.ReadFile("consul/acl-policy.hcl")
	if err != nil {
		t.Fatal(err)
	}
	node := regexp.MustCompile(`(?m)^agent "([^"]+)"`).FindSubmatch(rules)
	if node == nil {
		t.Fatal("consul/acl-policy.hcl names no agent")
	}
	agent := consultest.Start(t, consultest.Options{ACL: true, NodeName: string(node[1])})
	admin := agent.Client(t, agent.ManagementToken)
	daemon := agent.Client(t, tokenWith(t, admin, "carbonio-health", "consul/acl-policy.hcl"))
	status := agent.Client(t, tokenWith(t, admin, "carbonio-health-status", "consul/acl-status-policy.hcl"))
	own := &api.AgentServiceRegistration{ID: "carbonio-health:mta:smtp", Name: "carbonio-mta-smtp",
		Check: &api.AgentServiceCheck{CheckID: "carbonio-health:mta:smtp:ttl", TTL: "30s"}}
	foreign := &api.AgentServiceRegistration{ID: "foreign-x", Name: "foreign-x"}
	// Carbonio's own services are named carbonio-<component> too: out of reach.
	carbonio := &api.AgentServiceRegistration{ID: "carbonio-mta-sidecar-proxy", Name: "carbonio-mta-sidecar-proxy"}
	tests := []struct {
		name    string
		call    func() error
		allowed bool
	}{
		{"daemon registers a carbonio- service", func() error { return daemon.Agent().ServiceRegister(own) }, true},
		{"daemon updates its TTL", func() error {
			return daemon.Agent().UpdateTTL("carbonio-health:mta:smtp:ttl", "ok", api.HealthPassing)
		}, true},
		{"daemon reads agent self", func() error { _, err := daemon.Agent().Self(); return err }, true},
		{"daemon reloads the agent", func() error { return daemon.Agent().Reload() }, true},
		{"daemon lists services", func() error { _, err := daemon.Agent().Services(); return err }, true},
		{"daemon watches its node", func() error {
			// Other services of the node (the server's own "consul") stay
			// hidden; the node must not.
			out, _, err := daemon.Catalog().NodeServiceList(agent.NodeName, nil)
			if err == nil && (out == nil || out.Node == nil) {
				return os.ErrPermission
			}
			return err
		}, true},
		{"daemon registers a foreign service", func() error { return daemon.Agent().ServiceRegister(foreign) }, false},
		{"daemon registers a Carbonio sidecar", func() error { return daemon.Agent().ServiceRegister(carbonio) }, false},
		{"daemon registers a service of an undeclared role", func() error {
			return daemon.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "carbonio-health:mailstore:imap", Name: "carbonio-mailstore-imap"})
		}, false},
		{"daemon writes the KV store", func() error {
			_, err := daemon.KV().Put(&api.KVPair{Key: "x", Value: []byte("y")}, nil)
			return err
		}, false},
		{"status reads health", func() error {
			checks, _, err := status.Health().State(api.HealthAny, nil)
			if err == nil && len(checks) == 0 {
				return os.ErrNotExist
			}
			return err
		}, true},
		{"status reads its node name", func() error { _, err := status.Agent().NodeName(); return err }, true},
		{"status registers", func() error { return status.Agent().ServiceRegister(own) }, false},
		{"status deregisters", func() error { return status.Agent().ServiceDeregister(own.ID) }, false},
	}
	for _, tt := range tests {
		err := tt.call()
		if (err == nil) != tt.allowed {
			t.Errorf("%s: error %v, want allowed=%v", tt.name, err, tt.allowed)
		}
	}
}

// TestAlertHandlerUnderConsulWatch runs the real `consul watch` with the
// shipped handler: an owned critical check is reported, a foreign one not.
func TestAlertHandlerUnderConsulWatch(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{})
	c := agent.Client(t, "")
	for _, reg := range []*api.AgentServiceRegistration{
		{ID: "carbonio-health:mta:clamav", Name: "carbonio-mta-clamav",
			Check: &api.AgentServiceCheck{CheckID: "carbonio-health:mta:clamav:socket", TTL: "30s", Status: api.HealthPassing}},
		{ID: "foreign-db", Name: "foreign-db", Check: &api.AgentServiceCheck{CheckID: "foreign-db:ttl", TTL: "30s", Status: api.HealthPassing}},
	} {
		if err := c.Agent().ServiceRegister(reg); err != nil {
			t.Fatal(err)
		}
	}
	// Passing → critical: a status change, which the agent syncs to the
	// catalog at once (output-only changes sync lazily).
	out := `SOCKET CRITICAL - /run/carbonio/clamd.socket is not present: "No such file"`
	for _, id := range []string{"carbonio-health:mta:clamav:socket", "foreign-db:ttl"} {
		if err := c.Agent().UpdateTTL(id, out, api.HealthCritical); err != nil {
			t.Fatal(err)
		}
	}
	logFile := filepath.Join(t.TempDir(), "alerts.log")
	handler, err := filepath.Abs("consul/alert-handler.sh")
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	watch := exec.CommandContext(ctx, consultest.Binary(t), "watch", "-http-addr", agent.Addr,
		"-type", "checks", "-state", "critical", handler)
	watch.Env = append(os.Environ(), "ALERT_LOG="+logFile)
	var stderr strings.Builder
	watch.Stderr = &stderr
	if err := watch.Start(); err != nil {
		t.Fatal(err)
	}
	defer func() { cancel(); _ = watch.Wait() }()
	var got string
	retry.RunWith(consultest.Wait(), t, func(r *retry.R) {
		b, _ := os.ReadFile(logFile)
		if got = string(b); !strings.Contains(got, "carbonio-health:mta:clamav:socket") {
			r.Fatalf("no alert for the clamav socket yet in the handler log:\n%s", got)
		}
	})
	want := `CRITICAL node=` + agent.NodeName + ` service=carbonio-mta-clamav check=carbonio-health:mta:clamav:socket: SOCKET CRITICAL - /run/carbonio/clamd.socket is not present: \"No such file\"`
	if !strings.Contains(got, want) {
		t.Fatalf("handler log:\n%s\nwant a line:\n%s\nwatch stderr:\n%s", got, want, stderr.String())
	}
	if strings.Contains(got, "foreign-db") {
		t.Errorf("a foreign check was reported:\n%s", got)
	}
}

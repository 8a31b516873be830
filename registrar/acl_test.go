package registrar

import (
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// policyFile is the least-privilege policy shipped for the daemon's token:
// what `setup` creates for its example node (agent "<node>" write).
const policyFile = "../deploy/consul/acl-policy.hcl"

// TestDaemonWithLeastPrivilegeToken runs the daemon on an agent with ACLs
// enabled (default deny), named as the shipped policy's example node, and a
// token holding only that policy as it is: it registers everything (script
// checks through the config fragment) under names the example declares,
// feeds its TTL checks, cannot see or touch a foreign service, and never
// logs its token.
func TestDaemonWithLeastPrivilegeToken(t *testing.T) {
	rules, err := os.ReadFile(policyFile)
	if err != nil {
		t.Fatal(err)
	}
	node := regexp.MustCompile(`(?m)^agent "([^"]+)"`).FindSubmatch(rules)
	if node == nil {
		t.Fatalf("%s names no agent", policyFile)
	}
	n := newNodeFixture(t, consultest.Options{ACL: true, ScriptChecks: consultest.ScriptChecksLocal, NodeName: string(node[1])}, true)
	agent, admin := n.agent, n.client
	policy, _, err := admin.ACL().PolicyCreate(&api.ACLPolicy{Name: "carbonio-health", Rules: string(rules)}, nil)
	if err != nil {
		t.Fatalf("create policy from %s: %v", policyFile, err)
	}
	token, _, err := admin.ACL().TokenCreate(&api.ACLToken{Policies: []*api.ACLTokenPolicyLink{{ID: policy.ID}}}, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := admin.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "foreign-x", Name: "foreign-x", Meta: map[string]string{MetaManagedBy: ManagedBy}}); err != nil {
		t.Fatal(err)
	}

	client := agent.Client(t, token.SecretID)
	// The example node's names (carbonio-mta-…), the fixture's IDs.
	decl := nodeDecl(n.port, n.sock)
	for key, name := range map[string]string{"web": "carbonio-mta-smtp", "sock": "carbonio-mta-clamav", "script": "carbonio-mta-units"} {
		decl = strings.Replace(decl, fmt.Sprintf("service %q {", key), fmt.Sprintf("service %q {\n    name = %q", key, name), 1)
	}
	load, _ := declDir(t, decl)
	logs := &testWriter{t: t}
	d := startDaemon(t, &Daemon{Client: client, Log: loggerTo(t, logs), Load: load, AgentConfigDir: agent.ConfigDir})
	consultest.Eventually(t, "TTL and script checks passing under the policy", func() bool {
		ttl, _ := checkStatus(t, admin, sockChk)
		sh, _ := checkStatus(t, admin, shChk)
		return ttl == api.HealthPassing && sh == api.HealthPassing
	})
	if err := d.Stop(t); err != nil {
		t.Fatal(err)
	}
	// A foreign service is invisible to the token: deregister leaves it,
	// even though it carries our meta.
	out, err := DeregisterAll(t.Context(), client, testLogger(t), agent.ConfigDir)
	if err != nil {
		t.Fatalf("deregister under the policy: %v", err)
	}
	// Counted truly: the fragment's script service left with the reload.
	if want := []string{scriptID, sockID, webID}; !slices.Equal(out.Deregistered, want) {
		t.Errorf("deregistered %v, want %v", out.Deregistered, want)
	}
	all, err := admin.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := all["foreign-x"]; !ok {
		t.Error("the foreign service was removed")
	}
	if len(all) != 1 {
		t.Errorf("left after deregister: %v", all)
	}
	for _, l := range logs.snapshot() {
		if strings.Contains(l, token.SecretID) {
			t.Fatalf("token in the logs: %s", l)
		}
	}
}

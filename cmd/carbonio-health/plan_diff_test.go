package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

const diffDecl = `
role "t" {
  service "a" {
    port = 1025
    check "tcp" {}
  }
  service "b" {
    port = 1026
    check "tcp" {}
  }
}
node { roles = ["t"] }
`

// TestPlanDiff registers a declaration with the daemon's reconciler, then
// edits it and asks `plan -diff` what run would do.
func TestPlanDiff(t *testing.T) {
	// The built-in catalog comes along (as on a node): its script checks
	// need an agent that takes them over the API.
	agent := consultest.Start(t, consultest.Options{ScriptChecks: consultest.ScriptChecksRemote})
	client := agent.Client(t, "")
	dir := t.TempDir()
	path := filepath.Join(dir, "node.hcl")
	write := func(src string) {
		if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	write(diffDecl)
	plan, err := hcl.Load(hcl.Options{ConfigDirs: []string{dir}})
	if err != nil {
		t.Fatal(err)
	}
	self, err := os.Executable() // what plan -diff assumes by default (with the heartbeat, as run)
	if err != nil {
		t.Fatal(err)
	}
	r := &registrar.Reconciler{Client: client, Log: hclog.NewNullLogger()}
	if _, err := r.Reconcile(context.Background(), registrar.Desired(plan, registrar.Options{Self: self, Heartbeat: true})); err != nil {
		t.Fatal(err)
	}
	// Someone else's service holding an ID the next declaration wants.
	if err := client.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: "carbonio-health:t:d", Name: "theirs"}); err != nil {
		t.Fatal(err)
	}
	steps := []struct {
		name  string
		decl  string
		code  int
		lines []string
	}{
		{"unchanged", diffDecl, 0, []string{"in sync, 0 to add, 0 to change, 0 to remove"}},
		{"edited", strings.NewReplacer(`port = 1026`, `port = 1027`, `service "a"`, `service "c"`).Replace(diffDecl), 2, []string{
			"+ carbonio-health:t:c", "~ carbonio-health:t:b", "- carbonio-health:t:a",
		}},
		{"conflict", strings.Replace(diffDecl, `service "a"`, `service "d"`, 1), 2, []string{
			"! carbonio-health:t:d", "- carbonio-health:t:a",
		}},
	}
	for _, s := range steps {
		write(s.decl)
		var out bytes.Buffer
		code := dispatch(context.Background(), []string{"plan", "-config-dir", dir, "-diff", "-http-addr", agent.Addr}, &out, &out)
		for _, l := range s.lines {
			if !strings.Contains(out.String(), l) {
				t.Errorf("%s: output lacks %q:\n%s", s.name, l, out.String())
			}
		}
		if code != s.code {
			t.Errorf("%s: exit %d, want %d", s.name, code, s.code)
		}
	}
}

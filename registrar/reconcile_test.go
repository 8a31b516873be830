package registrar

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// nodeDecl declares a TCP check on port, a TTL socket check on sock (fast
// interval so tests move quickly) and a script check running /bin/sh.
func nodeDecl(port int, sock string) string {
	return strings.Replace(ttlOnlyDecl(port, sock), "\n}\nnode {", `
  service "script" {
    check "sh" {
      type     = "script"
      command  = ["/bin/sh", "-c", "echo SCRIPT OK; exit 0"]
      interval = "1s"
    }
  }
}
node {`, 1)
}

// ttlOnlyDecl is nodeDecl without the script check, for agents that allow
// no scripts.
func ttlOnlyDecl(port int, sock string) string {
	return fmt.Sprintf(`
role "t" {
  service "web" {
    port = %d
    check "tcp" { interval = "1s" }
  }
  service "sock" {
    check "present" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = %q }
      interval = "1s"
      ttl      = "3s"
    }
  }
}
node { roles = ["t"] }
`, port, sock)
}

func TestReconcileSteadyStateWritesNothing(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{ScriptChecks: consultest.ScriptChecksRemote}, false)
	client := n.client
	load, _ := n.declare(t, true)
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	st := Desired(plan, Options{Self: "/bin/true"})
	r := &Reconciler{Client: client, Log: testLogger(t), Mode: ScriptAPI}
	ctx := context.Background()

	out, err := r.Reconcile(ctx, st)
	if err != nil || len(out.Registered) != 3 {
		t.Fatalf("first pass: %+v, %v", out, err)
	}
	// Wait for the agent to sync to the catalog, then take its index.
	var index uint64
	consultest.Eventually(t, "services in the catalog", func() bool {
		svcs, meta, err := client.Catalog().Services(nil)
		index = meta.LastIndex
		return err == nil && len(svcs) >= 4 // consul + ours
	})
	for i := 0; i < 5; i++ {
		out, err := r.Reconcile(ctx, st)
		if err != nil || out.Writes() != 0 {
			t.Fatalf("pass %d with nothing changed wrote: %+v, %v", i+2, out, err)
		}
	}
	// A blocking query on the index: it answers at once if the passes caused
	// any catalog sync, else after 2 s with the same index.
	_, meta, err := client.Catalog().Services(&api.QueryOptions{WaitIndex: index, WaitTime: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	// The catalog index moves only with writes; TTL and TCP check results
	// can move it, so compare the services index, which the passes alone
	// would move.
	_, svcMeta, _ := client.Catalog().Service("carbonio-t-web", "", nil)
	if svcMeta == nil {
		t.Fatal("no catalog answer")
	}
	t.Logf("catalog services index %d → %d", index, meta.LastIndex)
	if meta.LastIndex != index {
		t.Errorf("catalog services index moved from %d to %d with nothing changed", index, meta.LastIndex)
	}
}

func TestReconcileOnlyTouchesWhatItOwns(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	client := n.client
	foreign := []*api.AgentServiceRegistration{
		// Same name as ours, someone else's ID.
		{ID: "other:web", Name: "carbonio-t-web", Port: 1},
		// Our ID prefix, but not our meta: not ours.
		{ID: "carbonio-health:t:old", Name: "carbonio-t-old"},
		// Our exact ID, someone else's: a conflict, left alone.
		{ID: "carbonio-health:t:sock", Name: "carbonio-t-sock", Meta: map[string]string{"owner": "ops"}},
	}
	for _, f := range foreign {
		if err := client.Agent().ServiceRegister(f); err != nil {
			t.Fatal(err)
		}
	}
	load, _ := n.declare(t, false)
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	r := &Reconciler{Client: client, Log: testLogger(t), Mode: ScriptAPI}
	out, err := r.Reconcile(context.Background(), Desired(plan, Options{}))
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Registered) != 1 || out.Registered[0] != "carbonio-health:t:web" || len(out.Conflicts) != 1 || len(out.Deregistered) != 0 {
		t.Fatalf("outcome %+v", out)
	}
	if _, err := DeregisterAll(context.Background(), client, testLogger(t), ""); err != nil {
		t.Fatal(err)
	}
	all, err := client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range foreign {
		s, ok := all[f.ID]
		if !ok || Owned(s) {
			t.Errorf("foreign service %s was touched: %+v", f.ID, s)
		}
	}
	if _, ok := all["carbonio-health:t:web"]; ok {
		t.Error("deregister left an owned service")
	}
}

func TestReconcileAppliesOnlyTheDiff(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	client, port, sock := n.client, n.port, n.sock
	r := &Reconciler{Client: client, Log: testLogger(t), Mode: ScriptAPI}
	ctx := context.Background()
	steps := []struct {
		name         string
		decl         string
		registered   int
		deregistered int
	}{
		{"initial", ttlOnlyDecl(port, sock), 2, 0},
		{"unchanged", ttlOnlyDecl(port, sock), 0, 0},
		{"one interval changed", strings.Replace(ttlOnlyDecl(port, sock), `interval = "1s"`, `interval = "2s"`, 1), 1, 0},
		{"changed back", ttlOnlyDecl(port, sock), 1, 0},
	}
	for _, s := range steps {
		load, _ := declDir(t, s.decl)
		plan, err := load()
		if err != nil {
			t.Fatalf("%s: %v", s.name, err)
		}
		out, err := r.Reconcile(ctx, Desired(plan, Options{}))
		if err != nil || len(out.Registered) != s.registered || len(out.Deregistered) != s.deregistered {
			t.Errorf("%s: outcome %+v, %v; want %d registered, %d deregistered", s.name, out, err, s.registered, s.deregistered)
		}
	}
	// Dropping the sock service from the declaration deregisters it only.
	load, _ := declDir(t, fmt.Sprintf(`
role "t" {
  service "web" {
    port = %d
    check "tcp" { interval = "1s" }
  }
}
node { roles = ["t"] }
`, port))
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	out, err := r.Reconcile(ctx, Desired(plan, Options{}))
	if err != nil || len(out.Deregistered) != 1 || out.Deregistered[0] != "carbonio-health:t:sock" || len(out.Registered) != 0 {
		t.Errorf("after removing sock: %+v, %v", out, err)
	}
}

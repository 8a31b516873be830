package registrar

import (
	"strings"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/hcl"
)

// testNode declares one service of each check kind on top of nothing, so the
// expectations below do not move with the built-in catalog.
const testNode = `
role "t" {
  service "smtp" {
    port = 25
    tags = ["smtp"]
    meta = { protocol = "smtp" }
    check "tcp" { interval = "10s" }
  }
  service "sock" {
    check "present" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = "/run/x.sock" }
      interval = "5s"
    }
  }
  service "load" {
    check "load" {
      type  = "script"
      probe = "load"
      args  = { w = "1,1,1", c = "2,2,2" }
    }
  }
}
node { roles = ["t"] }
`

func loadTestPlan(t *testing.T, src string) *hcl.Plan {
	t.Helper()
	plan, err := hcl.LoadSources(hcl.Options{NoBuiltin: true}, []hcl.Source{{Name: "node.hcl", Src: []byte(src)}})
	if err != nil {
		t.Fatalf("load: %v", err)
	}
	return plan
}

func TestDesired(t *testing.T) {
	plan := loadTestPlan(t, testNode)
	st := Desired(plan, Options{Self: "/usr/bin/carbonio-health"})
	byName := map[string]ServiceState{}
	for _, s := range st.Services {
		byName[s.Registration.Name] = s
		if s.Registration.Meta[MetaManagedBy] != ManagedBy || s.Registration.Meta[MetaHash] != s.Hash || s.Hash == "" {
			t.Errorf("%s: ownership meta %v, hash %q", s.ID(), s.Registration.Meta, s.Hash)
		}
	}
	tests := []struct {
		name   string
		script bool
		ttl    int
		check  func(t *testing.T, s ServiceState)
	}{
		{"carbonio-t-smtp", false, 0, func(t *testing.T, s ServiceState) {
			c := s.Registration.Checks[0]
			if c.TCP != "127.0.0.1:25" || c.Interval != "10s" || s.Registration.Port != 25 || s.Registration.Meta["protocol"] != "smtp" {
				t.Errorf("tcp check %+v, port %d, meta %v", c, s.Registration.Port, s.Registration.Meta)
			}
		}},
		{"carbonio-t-sock", false, 1, func(t *testing.T, s ServiceState) {
			c := s.Registration.Checks[0]
			if c.TTL != "15s" || s.TTL[0].Interval != 5*time.Second || s.TTL[0].Probe != "socket" {
				t.Errorf("ttl check %+v / %+v", c, s.TTL[0])
			}
		}},
		{"carbonio-t-load", true, 0, func(t *testing.T, s ServiceState) {
			c := s.Registration.Checks[0]
			args := strings.Join(c.Args, " ")
			// The agent stores the steady form: no perfdata, no moving numbers.
			if !strings.HasPrefix(args, "/usr/bin/carbonio-health check -steady load ") || !strings.HasSuffix(args, " -t 10") {
				t.Errorf("script args %q", args)
			}
			// The agent's timeout leaves the probe its own -t first.
			if c.Timeout != "12s" {
				t.Errorf("script timeout %q, want 12s", c.Timeout)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s, ok := byName[tt.name]
			if !ok {
				t.Fatalf("no service %s in %v", tt.name, st.Services)
			}
			if s.HasScript != tt.script || len(s.TTL) != tt.ttl {
				t.Errorf("HasScript %v, %d TTL checks", s.HasScript, len(s.TTL))
			}
			tt.check(t, s)
		})
	}
	if !st.HasScript() || len(st.TTLChecks()) != 1 {
		t.Errorf("state: HasScript %v, TTL checks %d", st.HasScript(), len(st.TTLChecks()))
	}
}

// TestDesiredIsPure: same input, same hashes; a changed value changes only
// its own service's hash.
func TestDesiredIsPure(t *testing.T) {
	a := Desired(loadTestPlan(t, testNode), Options{Self: "/x"})
	b := Desired(loadTestPlan(t, testNode), Options{Self: "/x"})
	changed := Desired(loadTestPlan(t, strings.Replace(testNode, `interval = "10s"`, `interval = "20s"`, 1)), Options{Self: "/x"})
	for i := range a.Services {
		if a.Services[i].Hash != b.Services[i].Hash {
			t.Errorf("%s: hash differs between two identical runs", a.Services[i].ID())
		}
		same := a.Services[i].Hash == changed.Services[i].Hash
		if wantSame := a.Services[i].Registration.Name != "carbonio-t-smtp"; same != wantSame {
			t.Errorf("%s: hash unchanged=%v after changing the smtp interval", a.Services[i].ID(), same)
		}
	}
}

// TestDesiredBuiltinCatalog: the whole catalog becomes registrations that
// the fragment renderer accepts, every check of a known kind.
func TestDesiredBuiltinCatalog(t *testing.T) {
	plan := builtinEverything(t)
	st := Desired(plan, Options{Self: "/usr/bin/carbonio-health"})
	checks := 0
	for _, s := range st.Services {
		for _, c := range s.Registration.Checks {
			checks++
			kinds := 0
			for _, set := range []bool{c.TCP != "", c.HTTP != "", len(c.Args) > 0, c.TTL != ""} {
				if set {
					kinds++
				}
			}
			if kinds != 1 {
				t.Errorf("%s: check is not exactly one kind: %+v", c.CheckID, c)
			}
		}
	}
	if len(st.Services) < 40 || checks < 45 {
		t.Errorf("%d services, %d checks: the full catalog is larger", len(st.Services), checks)
	}
	if b := renderFragment(st.Services); !strings.Contains(string(b), `"args": [`) {
		t.Errorf("fragment lacks script args:\n%s", b)
	}
}

// builtinEverything is the built-in catalog's plan with every role, feature
// and folder.
func builtinEverything(t *testing.T) *hcl.Plan {
	t.Helper()
	plan, err := hcl.LoadSources(hcl.Options{PathExists: func(string) bool { return true }}, append(mustBuiltin(t),
		hcl.Source{Name: "node.hcl", Src: []byte(`node {
  roles    = ["mta", "proxy", "mailstore", "directory", "replica"]
  features = ["antivirus", "dkim", "active-replica"]
}`)}))
	if err != nil {
		t.Fatal(err)
	}
	return plan
}

func mustBuiltin(t *testing.T) []hcl.Source {
	t.Helper()
	b, err := hcl.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	return b
}

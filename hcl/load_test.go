package hcl

import (
	"strings"
	"testing"
	"time"
)

// base is a small catalog in the language, used by the tests that do not
// need the built-in one.
const base = `
feature "antivirus" {}

role "mta" {
  service "smtp" {
    port = 25
    tags = ["smtp"]
    check "tcp" { interval = "10s" }
  }
  service "clamav" {
    port    = 3310
    feature = "antivirus"
    check "tcp" {}
    check "socket" {
      type  = "ttl"
      probe = "socket"
      args  = { p = "/run/clamd.sock" }
      interval = "5s"
    }
  }
}

role "all" {
  service "cache" {
    if_present = "/opt/cache"
    check "sock" {
      type  = "ttl"
      probe = "socket"
      args  = { p = "/opt/cache/s" }
    }
  }
}
`

func load(t *testing.T, node string, exists ...string) (*Plan, error) {
	t.Helper()
	opts := Options{NoBuiltin: true, PathExists: func(p string) bool {
		for _, e := range exists {
			if e == p {
				return true
			}
		}
		return false
	}}
	return LoadSources(opts, []Source{{Name: "base.hcl", Src: []byte(base)}, {Name: "node.hcl", Src: []byte(node)}})
}

func TestLoadDiagnostics(t *testing.T) {
	tests := []struct {
		name string
		node string
		want []string // substrings of the rendered error, incl. file:line:col
	}{
		{"attribute typo", "role \"x\" {\n  service \"a\" {\n    prot = 25\n  }\n}\n",
			[]string{"node.hcl:3:5", "Unsupported argument", `Did you mean "port"?`, "prot = 25"}},
		{"port out of range", "override \"mta\" \"smtp\" {\n  port = 70000\n}\n",
			[]string{"node.hcl:2:10", "Port out of range", "70000 is not between 1 and 65535"}},
		{"port of the wrong type", "override \"mta\" \"smtp\" {\n  port = \"smtp\"\n}\n",
			[]string{"node.hcl:2:11", "a number is required"}},
		{"duplicate service", "role \"x\" {\n  service \"a\" {}\n  service \"a\" {}\n}\n",
			[]string{"node.hcl:3:3", `Duplicate service "x.a"`, "already declared at node.hcl:2:3"}},
		{"duplicate role", "role \"mta\" {}\n",
			[]string{"node.hcl:1:1", `Duplicate role "mta"`, "base.hcl:4:1"}},
		{"duplicate service name", "role \"x\" {\n  service \"a\" {\n    name = \"carbonio-mta-smtp\"\n  }\n}\n",
			[]string{"Duplicate service name", `"carbonio-mta-smtp" is already used`}},
		{"unknown role", "node {\n  roles = [\"mta\", \"mtaa\"]\n}\n",
			[]string{"node.hcl:2:19", `Unknown role`, `No role "mtaa"`}},
		{"unknown feature", "node {\n  features = [\"dkim\"]\n}\n",
			[]string{"node.hcl:2:15", "Unknown feature", `"antivirus"`}},
		{"unknown service feature", "role \"x\" {\n  service \"a\" {\n    feature = \"av\"\n  }\n}\n",
			[]string{"node.hcl:3:15", "Unknown feature"}},
		{"two node blocks", "node {}\nnode {}\n", []string{"node.hcl:2:1", "Duplicate node block"}},
		{"unknown probe", "role \"x\" {\n  service \"a\" {\n    check \"c\" {\n      type = \"ttl\"\n      probe = \"sokcet\"\n    }\n  }\n}\n",
			[]string{"node.hcl:5:15", "Unknown probe", `No probe "sokcet". Did you mean "socket"?`}},
		{"bad probe args", "override \"mta\" \"clamav\" {\n  check \"socket\" {\n    args = { p = null }\n  }\n}\n",
			[]string{"node.hcl:3:12", "Invalid probe arguments", "-p PATH is required"}},
		{"unknown probe flag", "override \"mta\" \"clamav\" {\n  check \"socket\" {\n    args = { q = 1 }\n  }\n}\n",
			[]string{"Invalid probe arguments", "invalid option -- 'q'"}},
		{"interval that does not parse", "override \"mta\" \"smtp\" {\n  check \"tcp\" {\n    interval = \"10 seconds\"\n  }\n}\n",
			[]string{"node.hcl:3:16", "Invalid duration", `"10 seconds"`}},
		{"missing check type", "role \"x\" {\n  service \"a\" {\n    port = 1\n    check \"c\" {}\n  }\n}\n",
			[]string{"node.hcl:4:5", "Missing check type"}},
		{"unknown check type", "role \"x\" {\n  service \"a\" {\n    check \"c\" { type = \"icmp\" }\n  }\n}\n",
			[]string{"node.hcl:3:24", "Unknown check type"}},
		{"tcp check without a port", "role \"x\" {\n  service \"a\" {\n    check \"tcp\" {}\n  }\n}\n",
			[]string{"node.hcl:3:5", "Check needs a port"}},
		{"attribute of another kind", "override \"mta\" \"smtp\" {\n  check \"tcp\" { probe = \"socket\" }\n}\n",
			[]string{"node.hcl:2:17", "probe is only for"}},
		{"ttl not longer than interval", "override \"mta\" \"clamav\" {\n  check \"socket\" { ttl = \"5s\" }\n}\n",
			[]string{"node.hcl:2:26", "TTL too short"}},
		{"override of an unknown service", "override \"mta\" \"smpt\" {}\n",
			[]string{"node.hcl:1:1", "Override of an undeclared service", `"smtp"`}},
		{"invalid service name", "role \"x\" {\n  service \"a\" {\n    name = \"Bad Name\"\n  }\n}\n",
			[]string{"node.hcl:3:12", "Invalid service name"}},
		{"syntax error", "role \"x\" {\n  service \"a\" {\n", []string{"node.hcl:", "Unclosed configuration block"}},
		{"unknown block", "roles \"x\" {}\n", []string{"node.hcl:1:1", "Unsupported block type"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := load(t, tt.node)
			wantDiagnostics(t, plan, err, tt.want)
		})
	}
}

func TestLoadConditions(t *testing.T) {
	tests := []struct {
		name     string
		node     string
		exists   []string
		services []string
		skipped  map[string]string
	}{
		{"nothing enabled", "", nil, nil, map[string]string{
			"carbonio-health:all:cache":  "/opt/cache is not present on this node",
			"carbonio-health:mta:smtp":   `role "mta" is not enabled on this node`,
			"carbonio-health:mta:clamav": `role "mta" is not enabled on this node`,
		}},
		{"role without feature", `node { roles = ["mta"] }`, nil,
			[]string{"carbonio-health:mta:smtp"},
			map[string]string{"carbonio-health:mta:clamav": `feature "antivirus" is not enabled on this node`}},
		{"role with feature and folder", `node {
  roles = ["mta"]
  features = ["antivirus"]
}`, []string{"/opt/cache"},
			[]string{"carbonio-health:all:cache", "carbonio-health:mta:clamav", "carbonio-health:mta:smtp"}, nil},
		{"disabled by override", `node { roles = ["mta"] }
override "mta" "smtp" { enabled = false }`, nil, nil,
			map[string]string{"carbonio-health:mta:smtp": "disabled by enabled = false at node.hcl:2:25"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := load(t, tt.node, tt.exists...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, s := range plan.Services {
				got = append(got, s.ID)
			}
			if strings.Join(got, " ") != strings.Join(tt.services, " ") {
				t.Errorf("services = %v, want %v", got, tt.services)
			}
			reasons := map[string]string{}
			for _, s := range plan.Skipped {
				reasons[s.ID] = s.Reason
			}
			for id, want := range tt.skipped {
				if reasons[id] != want {
					t.Errorf("skipped[%s] = %q, want %q", id, reasons[id], want)
				}
			}
		})
	}
}

func TestLoadOverrides(t *testing.T) {
	node := `
node {
  roles    = ["mta"]
  features = ["antivirus"]
  address  = "10.0.0.5"
}
override "mta" "smtp" {
  port = 2525
  tags = ["smtp", "custom"]
  meta = { owner = "mail-team" }
  check "tcp" { timeout = "2s" }
  check "banner" {
    type  = "script"
    probe = "socket"
    args  = { p = "/x", C = true }
  }
  check "own-timeout" {
    type  = "script"
    probe = "socket"
    args  = { p = "/x", t = 3 }
  }
}
override "mta" "clamav" {
  check "socket" {
    args     = { p = "/var/run/clamd.ctl" }
    interval = "20s"
  }
  check "tcp" { enabled = false }
}
`
	plan, err := load(t, node)
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]Service{}
	for _, s := range plan.Services {
		byID[s.ID] = s
	}
	smtp := byID["carbonio-health:mta:smtp"]
	if smtp.Port != 2525 || smtp.Address != "10.0.0.5" || smtp.Meta["owner"] != "mail-team" {
		t.Errorf("smtp = %+v", smtp)
	}
	if got := strings.Join(smtp.Tags, ","); got != "mta,smtp,custom" {
		t.Errorf("smtp tags = %s", got)
	}
	if len(smtp.Checks) != 3 {
		t.Fatalf("smtp checks = %+v", smtp.Checks)
	}
	banner, own, tcp := smtp.Checks[0], smtp.Checks[1], smtp.Checks[2]
	if got := strings.Join(own.Args, " "); got != "-p /x -t 3" {
		t.Errorf("a declared -t must be kept alone: %q", got)
	}
	if tcp.TCP != "10.0.0.5:2525" || tcp.Timeout != 2*time.Second || tcp.Interval != 10*time.Second {
		t.Errorf("tcp check = %+v", tcp)
	}
	if got := strings.Join(banner.ScriptArgs("/usr/bin/carbonio-health"), " "); got != "/usr/bin/carbonio-health check socket -C -p /x -t 10" {
		t.Errorf("banner command = %q", got)
	}
	clam := byID["carbonio-health:mta:clamav"]
	if len(clam.Checks) != 1 {
		t.Fatalf("clamav checks = %+v", clam.Checks)
	}
	sock := clam.Checks[0]
	if sock.Kind != KindTTL || strings.Join(sock.Args, " ") != "-p /var/run/clamd.ctl -t 10" ||
		sock.Interval != 20*time.Second || sock.TTL != 60*time.Second {
		t.Errorf("socket check = %+v", sock)
	}
	if clam.Condition != `feature "antivirus"` {
		t.Errorf("clamav condition = %q", clam.Condition)
	}
}

func TestLoadIDsAreStable(t *testing.T) {
	a, err := load(t, `node { roles = ["mta"] }`)
	if err != nil {
		t.Fatal(err)
	}
	b, err := load(t, `node { roles = ["mta"] }
override "mta" "smtp" { port = 2525 }`)
	if err != nil {
		t.Fatal(err)
	}
	if a.Services[0].ID != b.Services[0].ID || a.Services[0].Checks[0].ID != b.Services[0].Checks[0].ID {
		t.Errorf("IDs moved with a port change: %s / %s", a.Services[0].ID, b.Services[0].ID)
	}
	if a.Services[0].Checks[0].ID != "carbonio-health:mta:smtp:tcp" {
		t.Errorf("check ID = %s", a.Services[0].Checks[0].ID)
	}
}

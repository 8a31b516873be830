package hcl

import (
	"strings"
	"testing"
)

// TestBuiltinCatalogTrustsCarbonio checks the endpoints Carbonio registers
// itself are checked the way Carbonio checks them (CARBONIO.md), and that
// the Consul API check is the leader probe, not an http check that passes
// on an empty leader.
func TestBuiltinCatalogTrustsCarbonio(t *testing.T) {
	plan := loadBuiltin(t, everything, func(string) bool { return true })
	checks := map[string]Check{} // service name → its only check, or its http check
	for _, s := range plan.Services {
		for _, c := range s.Checks {
			if len(s.Checks) == 1 || c.Kind == KindHTTP {
				checks[s.Name] = c
			}
		}
	}
	tests := []struct {
		service string
		kind    CheckKind
		target  string // the URL, or the probe's command line
		skipTLS bool
	}{
		{"carbonio-mailstore-http", KindHTTP, "http://127.0.0.1:8080/service/health/ready", false},
		{"carbonio-mailstore-admin", KindHTTP, "https://127.0.0.1:7071/service/health/ready", true},
		{"carbonio-replica-nginx-lookup", KindHTTP, "https://127.0.0.1:7072/service/extension/nginx-lookup", true},
		{"carbonio-all-patroni", KindHTTP, "http://127.0.0.1:8008/health", false},
		{"carbonio-directory-consul-http", KindScript, "x check leader -H 127.0.0.1:8500 -t 5", false},
	}
	for _, tt := range tests {
		t.Run(tt.service, func(t *testing.T) {
			c, ok := checks[tt.service]
			if !ok {
				t.Fatalf("no single-check or http-checked service %s", tt.service)
			}
			target := c.HTTP
			if c.Kind == KindScript {
				target = strings.Join(c.ScriptArgs("x"), " ")
			}
			if c.Kind != tt.kind || target != tt.target || c.TLSSkipVerify != tt.skipTLS {
				t.Errorf("check = %s %q skip-verify %v, want %s %q %v", c.Kind, target, c.TLSSkipVerify, tt.kind, tt.target, tt.skipTLS)
			}
		})
	}
	for _, s := range plan.Services {
		if s.Port == 7072 && (s.Role != "replica" || !strings.Contains(s.Description, "nginx lookup")) {
			t.Errorf("7072 is %s in role %s, described %q: keep it where the document lists it and say what listens", s.Name, s.Role, s.Description)
		}
	}
}

func TestLoadHTTPProtocol(t *testing.T) {
	decl := func(check string) string {
		return "role \"x\" {\n  service \"a\" {\n    port = 7071\n    check \"http\" {\n" + check + "\n    }\n  }\n}\nnode { roles = [\"x\"] }\n"
	}
	tests := []struct {
		name  string
		check string
		url   string   // when valid
		want  []string // error substrings when not
	}{
		{"default", `      http = "/ready"`, "http://127.0.0.1:7071/ready", nil},
		{"https", "      protocol = \"https\"\n      http = \"ready\"", "https://127.0.0.1:7071/ready", nil},
		{"unknown protocol", `      protocol = "ftp"`, "", []string{"node.hcl:5:18", "Unknown protocol", `"ftp"`}},
		{"protocol with a URL", "      protocol = \"https\"\n      http = \"http://h:1/\"", "",
			[]string{"node.hcl:5:7", "Conflicting attributes", "names its own scheme"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := loadWith("", decl(tt.check))
			if tt.want != nil {
				wantDiagnostics(t, plan, err, tt.want)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, s := range plan.Services {
				if s.Role == "x" && s.Checks[0].HTTP != tt.url {
					t.Errorf("url = %q, want %q", s.Checks[0].HTTP, tt.url)
				}
			}
		})
	}
}

// TestBuiltinPingTargets: by default the ping probe finds its targets when
// it runs; a node file replaces them with its own list.
func TestBuiltinPingTargets(t *testing.T) {
	tests := []struct {
		name, node, want string
	}{
		{"default", "", "-c 500,60% --gateway -p 5 --peers -w 100,20% -t 15"},
		{"replaced", `override "all" "ping" {
  check "ping" { args = { peers = false, gateway = false, H = ["10.0.0.1", "10.0.0.2"] } }
}`, "-H 10.0.0.1 -H 10.0.0.2 -c 500,60% -p 5 -w 100,20% -t 15"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan := loadBuiltin(t, tt.node, func(string) bool { return false })
			for _, s := range plan.Services {
				if s.Name == "carbonio-all-ping" {
					if got := strings.Join(s.Checks[0].Args, " "); got != tt.want {
						t.Errorf("args %q, want %q", got, tt.want)
					}
					return
				}
			}
			t.Fatal("no ping service")
		})
	}
}

// TestPatroniWhereverItRuns: Patroni is checked on any node that has its
// configuration, whatever its roles, and is required on the replica role.
func TestPatroniWhereverItRuns(t *testing.T) {
	const conf = "/etc/patroni/config.yml"
	tests := []struct {
		node    string
		present bool
		want    string // the patroni service's condition; "" = not registered
	}{
		{`node { roles = ["directory"] }`, true, "present"},
		{`node { roles = ["mta"] }`, true, "present"},
		{`node { roles = ["mta"] }`, false, ""},
		{`node {
  roles    = ["replica"]
  features = ["active-replica"]
}`, false, "required"},
	}
	for _, tt := range tests {
		plan := loadBuiltin(t, tt.node, func(p string) bool { return tt.present && p == conf })
		var got string
		for _, s := range plan.Services {
			if s.Name != "carbonio-all-patroni" {
				continue
			}
			// Required: registered unconditionally, its condition says why.
			got = "present"
			if s.IfPresent == "" {
				got = "required"
			}
			var kinds []string
			for _, c := range s.Checks {
				kinds = append(kinds, string(c.Kind)+" "+c.HTTP+strings.Join(c.Args, " "))
			}
			if strings.Join(kinds, ", ") != "http http://127.0.0.1:8008/health, script -u patroni.service -t 10" {
				t.Errorf("%s: checks %v", tt.node, kinds)
			}
		}
		if got != tt.want {
			t.Errorf("%s with %s present=%v: patroni %q, want %q", tt.node, conf, tt.present, got, tt.want)
		}
	}
}

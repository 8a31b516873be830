package hcl

import (
	"errors"
	"strings"
	"testing"
)

// TestLoadRejectsWrongValues covers the values a real node file gets wrong
// that Consul or the daemon would otherwise accept silently: each is
// rejected with file:line:col, the offending text, and why.
func TestLoadRejectsWrongValues(t *testing.T) {
	tests := []struct {
		name  string
		roles string // an extra file read before node.hcl, as roles.hcl
		node  string
		want  []string // substrings of the rendered error
	}{
		{"interval below a second on a ttl check", "",
			"override \"mta\" \"clamav\" {\n  check \"socket\" { interval = \"1ms\" }\n}\n",
			[]string{"node.hcl:2:31", "Interval too short", `interval = "1ms"`, "at least 1s"}},
		{"interval below a second on a tcp check", "",
			"override \"mta\" \"smtp\" {\n  check \"tcp\" { interval = \"999ms\" }\n}\n",
			[]string{"node.hcl:2:28", "Interval too short", `"999ms"`}},
		{"interval below a second in an unused role", "",
			"role \"x\" {\n  service \"a\" {\n    port = 1\n    check \"tcp\" { interval = \"500ms\" }\n  }\n}\n",
			[]string{"node.hcl:4:30", "Interval too short"}},
		{"ttl shorter than the interval", "",
			"override \"mta\" \"clamav\" {\n  check \"socket\" {\n    interval = \"1m\"\n    ttl      = \"30s\"\n  }\n}\n",
			[]string{"node.hcl:4:16", "TTL too short", `ttl      = "30s"`, "ttl (30s, set at node.hcl:4:16) must be longer than interval (1m0s, set at node.hcl:3:16)"}},
		{"ttl equal to the interval", "",
			"override \"mta\" \"clamav\" {\n  check \"socket\" { ttl = \"5s\" }\n}\n",
			[]string{"node.hcl:2:26", "TTL too short"}},
		{"interval raised above a declared ttl", fixedTTL,
			"override \"x\" \"fixed\" {\n  check \"sock\" { interval = \"2m\" }\n}\n",
			[]string{"node.hcl:2:29", "TTL too short", `interval = "2m"`, "ttl (1m30s, set at roles.hcl:6:18) must be longer than interval (2m0s, set at node.hcl:2:29)"}},
		{"role description of the wrong type, role unused", "",
			"role \"x\" {\n  description = [\"x\"]\n}\n",
			[]string{"node.hcl:2:17", "Unsuitable value type", `description = ["x"]`, "string required"}},
		{"feature description of the wrong type", "",
			"feature \"f\" {\n  description = { a = 1 }\n}\n",
			[]string{"node.hcl:2:17", "Unsuitable value type", "string required"}},
		{"service of an unused role", "",
			"role \"x\" {\n  service \"a\" {\n    port = \"http\"\n  }\n}\n",
			[]string{"node.hcl:3:13", "a number is required", `port = "http"`}},
		{"check of an unused role", "",
			"role \"x\" {\n  service \"a\" {\n    check \"c\" {\n      type  = \"ttl\"\n      probe = \"disk\"\n      args  = { p = \"/x\" }\n    }\n  }\n}\n",
			[]string{"node.hcl:6:15", "Invalid probe arguments", "Must set a threshold value before using -p"}},
		{"success_before_passing of zero", "",
			"override \"mta\" \"clamav\" {\n  check \"socket\" { success_before_passing = 0 }\n}\n",
			[]string{"node.hcl:2:45", "Invalid count", "success_before_passing = 0", "whole number of consecutive results from 1 (at once) to 100"}},
		{"failures_before_critical not whole", "",
			"override \"mta\" \"clamav\" {\n  check \"socket\" { failures_before_critical = 2.5 }\n}\n",
			[]string{"node.hcl:2:47", "Invalid count", "failures_before_critical = 2.5"}},
		{"failures_before_critical too large", "",
			"override \"mta\" \"smtp\" {\n  check \"tcp\" { failures_before_critical = 1000 }\n}\n",
			[]string{"node.hcl:2:44", "Invalid count", "1000"}},
		{"success_before_passing of the wrong type", "",
			"override \"mta\" \"clamav\" {\n  check \"socket\" { success_before_passing = \"two\" }\n}\n",
			[]string{"node.hcl:2:46", "a number is required"}},
		{"override of a service of an unused role", "",
			"role \"x\" {\n  service \"a\" {}\n}\noverride \"x\" \"a\" {\n  tags = \"t\"\n}\n",
			[]string{"node.hcl:5:11", "list of string required"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			plan, err := loadWith(tt.roles, tt.node)
			wantDiagnostics(t, plan, err, tt.want)
		})
	}
}

// TestLoadAcceptsEdgeValues: the smallest values Consul accepts load.
func TestLoadAcceptsEdgeValues(t *testing.T) {
	tests := []struct {
		name  string
		roles string
		node  string
	}{
		{"interval of exactly one second", "", "override \"mta\" \"smtp\" {\n  check \"tcp\" { interval = \"1s\" }\n}\n"},
		{"ttl just above the interval", "", "override \"mta\" \"clamav\" {\n  check \"socket\" { ttl = \"6s\" }\n}\n"},
		{"interval raised with the ttl", fixedTTL, "override \"x\" \"fixed\" {\n  check \"sock\" {\n    interval = \"2m\"\n    ttl = \"5m\"\n  }\n}\n"},
		{"role and feature descriptions", "", "role \"x\" { description = \"X\" }\nfeature \"f\" { description = \"F\" }\n"},
		{"damping counts of one", "", "override \"mta\" \"clamav\" {\n  check \"socket\" {\n    success_before_passing   = 1\n    failures_before_critical = 1\n  }\n}\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadWith(tt.roles, tt.node); err != nil {
				t.Fatal(err)
			}
		})
	}
}

// fixedTTL declares a TTL check with an explicit ttl, in its own file.
const fixedTTL = `role "x" {
  service "fixed" {
    check "sock" {
      type     = "ttl"
      probe    = "socket"
      ttl      = "90s"
      args     = { p = "/run/fixed.sock" }
      interval = "30s"
    }
  }
}
`

// loadWith loads base, then roles (when not empty) as roles.hcl, then node
// as node.hcl; no path is present.
func loadWith(roles, node string) (*Plan, error) {
	srcs := []Source{{Name: "base.hcl", Src: []byte(base)}}
	if roles != "" {
		srcs = append(srcs, Source{Name: "roles.hcl", Src: []byte(roles)})
	}
	srcs = append(srcs, Source{Name: "node.hcl", Src: []byte(node)})
	return LoadSources(Options{NoBuiltin: true, PathExists: func(string) bool { return false }}, srcs)
}

// wantDiagnostics asserts that a load failed with a *DiagnosticsError, no
// plan, and a message holding every one of want.
func wantDiagnostics(t *testing.T, plan *Plan, err error, want []string) {
	t.Helper()
	if err == nil {
		t.Fatalf("loaded without error: %+v", plan)
	}
	var de *DiagnosticsError
	if !errors.As(err, &de) {
		t.Fatalf("error is %T, want *DiagnosticsError: %v", err, err)
	}
	if plan != nil {
		t.Errorf("a plan came back with the error")
	}
	for _, w := range want {
		if !strings.Contains(err.Error(), w) {
			t.Errorf("error does not contain %q:\n%s", w, err)
		}
	}
}

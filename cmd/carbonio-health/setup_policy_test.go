package main

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"

	"github.com/zextras/carbonio-health/hcl"
)

func TestWidening(t *testing.T) {
	wide := `service_prefix "carbonio-" { policy = "write" }
agent_prefix "" { policy = "write" }`
	exact := `agent "n1" { policy = "write" }
node "n1" { policy = "read" }
service "carbonio-mta-smtp" { policy = "write" }`
	tests := []struct {
		name, old, next string
		want            []string
	}{
		{"the shipped prefix policy covers the exact rules", wide, exact, []string{`node "n1" read`}},
		{"same rules", exact, exact, nil},
		{"a new service", exact, exact + "\n" + `service "carbonio-mta-smtps" { policy = "write" }`, []string{`service "carbonio-mta-smtps" write`}},
		{"read to write", `service "x" { policy = "read" }`, `service "x" { policy = "write" }`, []string{`service "x" write`}},
		{"an exact deny beats a prefix", `service_prefix "" { policy = "write" }
service "x" { policy = "deny" }`, `service "x" { policy = "read" }`, []string{`service "x" read`}},
		{"a longer prefix is narrower", `service_prefix "carbonio-" { policy = "write" }`, `service_prefix "carbonio-mta" { policy = "write" }`, nil},
		{"a shorter prefix is wider", `service_prefix "carbonio-mta" { policy = "write" }`, `service_prefix "carbonio-" { policy = "write" }`, []string{`service_prefix "carbonio-" write`}},
		{"fewer rules never widen", exact, `node "n1" { policy = "read" }`, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			old, err := parseRules(tt.old)
			if err != nil {
				t.Fatal(err)
			}
			next, err := parseRules(tt.next)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range widening(old, next) {
				got = append(got, r.short())
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("widening = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestStatusRulesAreTheShippedOnes: setup -read-only creates what
// deploy/consul/acl-status-policy.hcl documents.
func TestStatusRulesAreTheShippedOnes(t *testing.T) {
	src, err := os.ReadFile("../../deploy/consul/acl-status-policy.hcl")
	if err != nil {
		t.Fatal(err)
	}
	shipped, err := parseRules(string(src))
	if err != nil {
		t.Fatal(err)
	}
	generated, err := parseRules(renderRules("x", statusRules()))
	if err != nil {
		t.Fatal(err)
	}
	key := func(rs []aclRule) string {
		var s []string
		for _, r := range rs {
			s = append(s, r.short())
		}
		sort.Strings(s)
		return strings.Join(s, "; ")
	}
	if key(shipped) != key(generated) {
		t.Errorf("setup -read-only: %s\nshipped: %s", key(generated), key(shipped))
	}
}

func TestPolicyName(t *testing.T) {
	if got := policyName("agent-mail.example.com"); got != "carbonio-health-agent-mail-example-com-policy" {
		t.Errorf("policyName = %q", got)
	}
}

func TestReadToken(t *testing.T) {
	tests := []struct {
		in, want string
		ok       bool
	}{
		{"3f1c-…-9a\n", "3f1c-…-9a", true},
		{"  tok  \nsecond line\n", "tok", true},
		{"tok", "tok", true},
		{"", "", false},
		{"\n", "", false},
	}
	for _, tt := range tests {
		got, err := readToken(strings.NewReader(tt.in))
		if got != tt.want || (err == nil) != tt.ok {
			t.Errorf("readToken(%q) = %q, %v", tt.in, got, err)
		}
	}
}

// TestWriteTokenFile: 0600 always, rewritten only when the content or the
// mode differ.
func TestWriteTokenFile(t *testing.T) {
	path := t.TempDir() + "/sub/token"
	steps := []struct {
		name    string
		before  func()
		secret  string
		changed bool
	}{
		{"new", func() {}, "a", true},
		{"same", func() {}, "a", false},
		{"mode widened by hand", func() { os.Chmod(path, 0o644) }, "a", true},
		{"new secret", func() {}, "b", true},
	}
	for _, s := range steps {
		s.before()
		changed, err := writeTokenFile(path, s.secret, -1, -1)
		if err != nil || changed != s.changed {
			t.Fatalf("%s: changed %v, %v", s.name, changed, err)
		}
		st, _ := os.Stat(path)
		if got, _ := readTokenFile(path); got != s.secret || st.Mode().Perm() != 0o600 {
			t.Errorf("%s: %q, mode %v", s.name, got, st.Mode())
		}
	}
}

// The example node of the shipped daemon policy: deploy/package/node.hcl.example
// on a Carbonio node named as Carbonio names its agents (agent-<fqdn with
// dashes>) for mail-1.example.com.
const (
	exampleNode     = "agent-mail-1-example-com"
	exampleNodeFile = "../../deploy/package/node.hcl.example"
)

// examplePolicy is what `setup` creates for the example node: its rules
// rendered as setup renders them.
func examplePolicy(t testing.TB) string {
	t.Helper()
	src, err := os.ReadFile(exampleNodeFile)
	if err != nil {
		t.Fatal(err)
	}
	builtin, err := hcl.Builtin()
	if err != nil {
		t.Fatal(err)
	}
	plan, err := hcl.LoadSources(hcl.Options{}, append(builtin, hcl.Source{Name: "node.hcl", Src: src}))
	if err != nil {
		t.Fatal(err)
	}
	var b strings.Builder
	for _, r := range daemonRules(plan, exampleNode) {
		b.WriteString(r.String())
	}
	return b.String()
}

// TestShippedDaemonPolicy: deploy/consul/acl-policy.hcl is, rule for rule
// and in setup's own rendering, the policy `setup` creates for the example
// node; only its leading comment is the file's own. (-update rewrites the
// rules and keeps the comment.)
func TestShippedDaemonPolicy(t *testing.T) {
	src, err := os.ReadFile(daemonPolicyFile)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.SplitAfter(string(src), "\n")
	n := 0
	for n < len(lines) && (strings.HasPrefix(lines[n], "#") || strings.TrimSpace(lines[n]) == "") {
		n++
	}
	head, rules := strings.Join(lines[:n], ""), strings.Join(lines[n:], "")
	want := examplePolicy(t)
	if *update {
		if err := os.WriteFile(daemonPolicyFile, []byte(head+want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if rules != want {
		t.Errorf("%s is not what setup creates for %s (%s); run go test ./cmd/carbonio-health -run TestShippedDaemonPolicy -update\nhave:\n%s\nwant:\n%s",
			daemonPolicyFile, exampleNode, exampleNodeFile, rules, want)
	}
	parsed, err := parseRules(rules)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range parsed {
		if strings.HasSuffix(r.Kind, "_prefix") || (r.Kind == "agent" || r.Kind == "node") && r.Name != exampleNode {
			t.Errorf("%s: rule %s is wider than the node's own", daemonPolicyFile, r.short())
		}
	}
}

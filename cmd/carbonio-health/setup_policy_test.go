package main

import (
	"os"
	"reflect"
	"sort"
	"strings"
	"testing"
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

package main

import (
	"fmt"
	"regexp"
	"sort"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/hashicorp/hcl/v2/hclsyntax"
	"github.com/zclconf/go-cty/cty"

	declhcl "github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// The pure half of `setup`: which ACL rules a token needs, and whether a new
// set of rules grants anything an existing policy did not. No I/O here.

// aclRule is one rule of a Consul ACL policy: `kind "name" { policy = access }`.
type aclRule struct {
	Kind   string // agent, node, service, …, or their _prefix forms
	Name   string
	Access string // deny, read, list, write
}

// String renders the rule in the policy language.
func (r aclRule) String() string {
	return fmt.Sprintf("%s %q {\n  policy = %q\n}\n", r.Kind, r.Name, r.Access)
}

// short is the rule on one line, for diffs.
func (r aclRule) short() string { return fmt.Sprintf("%s %q %s", r.Kind, r.Name, r.Access) }

// accessRank orders accesses; a higher rank grants more.
var accessRank = map[string]int{"deny": 0, "read": 1, "list": 2, "write": 3}

// daemonRules are the least-privilege rules of the daemon's token on node:
// write on each service the node's roles declare (registered now, or later
// when a folder or feature condition comes true), read on its own node (the
// blocking watch), and write on its own agent: /v1/agent/self tells which
// script checks it allows, and /v1/agent/reload makes it read the daemon's
// config fragment, which always holds the heartbeat and, on Carbonio, the
// script checks. The daemon's own two services are always in: its heartbeat
// (registrar.HeartbeatServiceName) and its metrics endpoint
// (registrar.ExporterName, registered when run with -metrics-addr, as the
// shipped unit does). Nothing by prefix: Carbonio's own services are named
// carbonio-<component> too (carbonio-mta, carbonio-mta-sidecar-proxy), so no
// prefix of ours leaves them out.
func daemonRules(plan *declhcl.Plan, node string) []aclRule {
	roles := map[string]bool{}
	for _, r := range plan.Node.Roles {
		roles[r] = true
	}
	names := map[string]bool{registrar.HeartbeatServiceName: true, registrar.ExporterName: true}
	for _, s := range plan.Services {
		names[s.Name] = true
	}
	for _, s := range plan.Skipped {
		if roles[s.Role] {
			names[s.Name] = true
		}
	}
	rules := []aclRule{{"agent", node, "write"}, {"node", node, "read"}}
	for _, n := range sortedSet(names) {
		rules = append(rules, aclRule{"service", n, "write"})
	}
	return rules
}

// statusRules are deploy/consul/acl-status-policy.hcl's: read every node's
// and service's health, and the agent's own name.
func statusRules() []aclRule {
	return []aclRule{{"node_prefix", "", "read"}, {"service_prefix", "", "read"}, {"agent_prefix", "", "read"}}
}

// renderRules writes rules as a policy, with a comment heading it.
func renderRules(comment string, rules []aclRule) string {
	var b strings.Builder
	for _, l := range strings.Split(comment, "\n") {
		b.WriteString("# " + l + "\n")
	}
	for _, r := range rules {
		b.WriteString(r.String())
	}
	return b.String()
}

// parseRules reads the block rules of a policy in HCL. Top-level attributes
// (operator = "read", …) become rules named "". Anything else it cannot
// read is an error: the caller then treats the policy as unknown.
func parseRules(src string) ([]aclRule, error) {
	f, diags := hclsyntax.ParseConfig([]byte(src), "policy.hcl", hcl.InitialPos)
	if diags.HasErrors() {
		return nil, diags
	}
	body := f.Body.(*hclsyntax.Body)
	var rules []aclRule
	for name, a := range body.Attributes {
		v, err := stringValue(a.Expr)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
		rules = append(rules, aclRule{name, "", v})
	}
	for _, blk := range body.Blocks {
		if len(blk.Labels) != 1 {
			return nil, fmt.Errorf("%s block with %d labels", blk.Type, len(blk.Labels))
		}
		a, ok := blk.Body.Attributes["policy"]
		if !ok {
			return nil, fmt.Errorf("%s %q has no policy", blk.Type, blk.Labels[0])
		}
		v, err := stringValue(a.Expr)
		if err != nil {
			return nil, fmt.Errorf("%s %q: %w", blk.Type, blk.Labels[0], err)
		}
		rules = append(rules, aclRule{blk.Type, blk.Labels[0], v})
	}
	return rules, nil
}

func stringValue(e hclsyntax.Expression) (string, error) {
	v, diags := e.Value(nil)
	if diags.HasErrors() || v.Type() != cty.String || v.IsNull() {
		return "", fmt.Errorf("not a string")
	}
	return v.AsString(), nil
}

// granted is what rules grant on kind/name, as Consul decides it: an exact
// rule wins, else the longest matching prefix rule, else nothing (deny).
func granted(rules []aclRule, kind, name string) string {
	best, bestLen := "deny", -1
	for _, r := range rules {
		switch {
		case r.Kind == kind && r.Name == name:
			return r.Access
		case r.Kind == kind+"_prefix" && strings.HasPrefix(name, r.Name) && len(r.Name) > bestLen:
			best, bestLen = r.Access, len(r.Name)
		}
	}
	return best
}

// widening returns the rules of next that grant more than old does.
func widening(old, next []aclRule) []aclRule {
	var out []aclRule
	for _, r := range next {
		kind := strings.TrimSuffix(r.Kind, "_prefix")
		if r.Kind != kind {
			// A prefix rule widens unless the same or a shorter prefix
			// already granted as much.
			if accessRank[granted(prefixOnly(old), kind, r.Name)] < accessRank[r.Access] {
				out = append(out, r)
			}
			continue
		}
		if accessRank[granted(old, kind, r.Name)] < accessRank[r.Access] {
			out = append(out, r)
		}
	}
	return out
}

func prefixOnly(rules []aclRule) []aclRule {
	var out []aclRule
	for _, r := range rules {
		if strings.HasSuffix(r.Kind, "_prefix") {
			out = append(out, r)
		}
	}
	return out
}

// ruleDiff lists the rules removed (-) and added (+), one per line.
func ruleDiff(old, next []aclRule) []string {
	in := func(rs []aclRule, r aclRule) bool {
		for _, x := range rs {
			if x == r {
				return true
			}
		}
		return false
	}
	var out []string
	for _, r := range old {
		if !in(next, r) {
			out = append(out, "- "+r.short())
		}
	}
	for _, r := range next {
		if !in(old, r) {
			out = append(out, "+ "+r.short())
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i][2:] < out[j][2:] })
	return out
}

// invalidPolicyChars are those Consul refuses in a policy name.
var invalidPolicyChars = regexp.MustCompile(`[^A-Za-z0-9_-]`)

// policyName is the daemon policy's name for node, in Carbonio's
// <service>-policy style, made of the characters Consul accepts.
func policyName(node string) string {
	return "carbonio-health-" + invalidPolicyChars.ReplaceAllString(node, "-") + "-policy"
}

func sortedSet(m map[string]bool) []string {
	out := make([]string, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Strings(out)
	return out
}

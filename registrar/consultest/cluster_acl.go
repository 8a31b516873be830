package consultest

import (
	"context"
	"fmt"
	"time"

	"github.com/hashicorp/consul/api"
)

// AgentPolicyRules is the policy of a Carbonio agent's own token, named
// after its node.
func AgentPolicyRules(node string) string {
	return fmt.Sprintf(`node %q {
  policy = "write"
}
node_prefix "" {
  policy = "read"
}
service_prefix "" {
  policy = "write"
}
`, node)
}

// CreateAgentTokens creates, through the leader, one policy per node
// (AgentPolicyRules) and a token with the node's preset AgentToken secret.
// The first writes after an election can fail while the leader sets up the
// ACL system: they are retried until ctx ends. After a lone server's data
// dir is wiped, it creates the tokens again with the same secrets.
func (c *Cluster) CreateAgentTokens(ctx context.Context) error {
	for _, n := range c.Nodes() {
		err := retryCtx(ctx, func() error {
			_, err := c.CreateToken(n.Name, AgentPolicyRules(n.Name), n.AgentToken)
			return err
		})
		if err != nil {
			return fmt.Errorf("agent token of %s: %w", n.Name, err)
		}
	}
	return nil
}

// CreateToken creates (or updates) a policy named name with rules and a token
// holding only it. secret presets the token's SecretID ("" lets Consul pick
// one). It returns the token.
func (c *Cluster) CreateToken(name, rules, secret string) (*api.ACLToken, error) {
	acl := c.Admin().ACL()
	policy, err := c.SetPolicy(name, rules)
	if err != nil {
		return nil, err
	}
	tok, _, err := acl.TokenCreate(&api.ACLToken{
		SecretID:    secret,
		Description: name,
		Policies:    []*api.ACLTokenPolicyLink{{ID: policy.ID}},
	}, nil)
	if err != nil {
		return nil, fmt.Errorf("create token %s: %w", name, err)
	}
	return tok, nil
}

// SetPolicy creates the policy name with rules, or replaces the rules of the
// existing one.
func (c *Cluster) SetPolicy(name, rules string) (*api.ACLPolicy, error) {
	acl := c.Admin().ACL()
	old, _, err := acl.PolicyReadByName(name, nil)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", name, err)
	}
	if old != nil {
		old.Rules = rules
		p, _, err := acl.PolicyUpdate(old, nil)
		if err != nil {
			return nil, fmt.Errorf("update policy %s: %w", name, err)
		}
		return p, nil
	}
	p, _, err := acl.PolicyCreate(&api.ACLPolicy{Name: name, Rules: rules}, nil)
	if err != nil {
		return nil, fmt.Errorf("create policy %s: %w", name, err)
	}
	return p, nil
}

// retryCtx calls f every 200 ms until it succeeds or ctx ends.
func retryCtx(ctx context.Context, f func() error) error {
	for {
		err := f()
		if err == nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (last error: %v)", ctx.Err(), err)
		case <-time.After(200 * time.Millisecond):
		}
	}
}

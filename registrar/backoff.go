package registrar

import (
	"context"
	"time"

	"github.com/hashicorp/consul/api"
)

// backoff is the daemon's one retry schedule: the first wait, doubled after
// each failed attempt up to a cap, back to the first after a success. Every
// loop that retries the agent (waiting for it at start, the node watch, the
// leader questions, a refused token, what the agent refused to hold) keeps
// one; they differ only in their first wait and cap. Not safe for concurrent
// use: each belongs to one goroutine (tokenState guards its own).
type backoff struct {
	first, max time.Duration
	cur        time.Duration // the last wait given; 0 after reset
}

// next returns the wait before the next attempt, and doubles the one after.
func (b *backoff) next() time.Duration {
	if b.cur == 0 {
		b.cur = b.first
	} else {
		b.cur = min(2*b.cur, b.max)
	}
	return b.cur
}

// reset makes the next wait the first one again (after a success).
func (b *backoff) reset() { b.cur = 0 }

// Bounds of the calls to the agent. Every call the daemon makes carries a
// context derived from its own (so SIGTERM ends it at once) and bounded: an
// agent that accepts connections but does not answer (frozen with SIGSTOP,
// or stuck) costs the daemon one bounded wait per attempt, never a hang.
const (
	// callTimeout bounds one call that should answer at once. Writes are
	// synced to the servers before the agent answers, which without a
	// leader takes up to the servers' rpc_hold_timeout (7 s); a reload of
	// a large configuration takes a few seconds more.
	callTimeout = 15 * time.Second
)

// bound returns ctx limited to callTimeout, for one call to the agent.
func bound(ctx context.Context) (context.Context, context.CancelFunc) {
	return context.WithTimeout(ctx, callTimeout)
}

// agentSelf is Agent().Self() with a context: consul/api's own has none.
func agentSelf(ctx context.Context, client *api.Client) (map[string]map[string]interface{}, error) {
	ctx, cancel := bound(ctx)
	defer cancel()
	var out map[string]map[string]interface{}
	if _, err := client.Raw().Query("/v1/agent/self", &out, (&api.QueryOptions{}).WithContext(ctx)); err != nil {
		return nil, err
	}
	return out, nil
}

// agentReload is Agent().Reload() with a context: consul/api's own has none.
func agentReload(ctx context.Context, client *api.Client) error {
	ctx, cancel := bound(ctx)
	defer cancel()
	_, err := client.Raw().Write("/v1/agent/reload", nil, nil, (&api.WriteOptions{}).WithContext(ctx))
	return err
}

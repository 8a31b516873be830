package registrar

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// DefaultLeaderPoll is how often the daemon asks its agent whether the
// cluster has a leader (/v1/status/leader: answered from memory by a server,
// one small RPC for a client).
const DefaultLeaderPoll = time.Second

// leaderWatch follows whether the cluster has a raft leader, as the local
// agent sees it.
//
// Why the daemon cares: an agent writes every API registration and TTL
// update to the catalog before it answers (a synchronous anti-entropy pass
// under the agent's state lock). Without a leader each such call is held up
// to the servers' rpc_hold_timeout (7 s), and calls queue behind each other
// and behind the agent's own first sync and a config reload. So while the
// agent answers but the cluster has no leader, the daemon writes nothing
// (what it would register waits in the declaration, not in a blocked call),
// and the moment a leader is back it reconciles and pushes every TTL check,
// which makes the agent sync everything it holds at once instead of at its
// next periodic full sync (15-30 s after a failed one).
//
// It logs one line when the leader is lost and one when it is back.
type leaderWatch struct {
	client *api.Client
	log    hclog.Logger
	// back is signalled (without blocking) when a leader appears after
	// none, or after the agent itself was unreachable.
	back chan struct{}

	lost    atomic.Bool // the agent answers, and says there is no leader
	logged  bool        // the "no leader" line was written
	unknown bool        // the last poll could not reach the agent
}

// poll asks once and records the answer.
func (w *leaderWatch) poll(ctx context.Context) {
	q := (&api.QueryOptions{}).WithContext(ctx)
	addr, err := w.client.Status().LeaderWithQueryOptions(q)
	if ctx.Err() != nil {
		return
	}
	switch {
	case err != nil && agentUnreachable(err):
		// The agent itself is down: the reconcile pass says so.
		w.unknown = true
		w.lost.Store(false)
	case err != nil || addr == "":
		if !w.logged {
			reason := "no leader elected"
			if err != nil {
				reason = strings.TrimSpace(err.Error())
			}
			w.log.Warn("consul cluster has no leader: the catalog keeps its last state; checks run and TTL updates go on locally; registrations wait for a leader", "reason", reason)
			w.logged = true
		}
		w.lost.Store(true)
	default:
		if w.logged {
			w.log.Info("consul cluster has a leader again; pushing the node's state to the catalog", "leader", addr)
		}
		if w.logged || w.unknown {
			select {
			case w.back <- struct{}{}:
			default:
			}
		}
		w.logged, w.unknown = false, false
		w.lost.Store(false)
	}
}

// run polls every period until ctx ends.
func (w *leaderWatch) run(ctx context.Context, period time.Duration) {
	t := time.NewTicker(period)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
			w.poll(ctx)
		}
	}
}

// agentUnreachable recognises a failed connection to the agent itself (as
// opposed to an answer from it).
func agentUnreachable(err error) bool {
	s := err.Error()
	return strings.Contains(s, "connection refused") || strings.Contains(s, "connection reset") ||
		strings.Contains(s, "i/o timeout") || strings.Contains(s, "EOF")
}

package registrar

import (
	"context"
	"strings"
	"sync/atomic"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/checkscript/consulstatus"
)

// Timing of the leaderWatch's questions, asked only while the leader (or
// the agent) is gone: the first after leaderRetry, doubled up to
// leaderRetryMax, which bounds how late a returning leader is seen.
const (
	leaderRetry    = 250 * time.Millisecond
	leaderRetryMax = time.Second
)

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
// It asks nothing while all is well. Consul has no blocking query that
// returns when the leader goes: a stale read of the node keeps blocking on
// a surviving server during a quorum loss, and a default one fails only
// when the leader process itself dies. So the NodeWatch's answers are the
// heartbeat: each carries X-Consul-KnownLeader, and its wait is bounded
// (watchWait). An answer without a known leader, a failed query (the agent
// gone, or "No cluster leader"), or the first answer after failures is sent
// on suspect; then the agent is asked /v1/status/leader (answered from
// memory by a server, one small RPC for a client), and again with backoff
// until it names a leader.
//
// It logs one line when the leader is lost and one when it is back.
type leaderWatch struct {
	client *api.Client
	log    hclog.Logger
	// back is signalled (without blocking) when a leader appears after
	// none, or after the agent itself was unreachable.
	back chan struct{}
	// suspect is signalled (without blocking) when the leader may be gone.
	suspect chan struct{}

	lost    atomic.Bool // the agent answers, and says there is no leader
	logged  bool        // the "no leader" line was written
	unknown bool        // the last poll could not reach the agent
}

// poll asks once and records the answer.
func (w *leaderWatch) poll(ctx context.Context) {
	cctx, cancel := bound(ctx)
	defer cancel()
	addr, err := w.client.Status().LeaderWithQueryOptions((&api.QueryOptions{}).WithContext(cctx))
	if ctx.Err() != nil {
		return
	}
	kind := consulstatus.Classify(err)
	switch {
	case kind == consulstatus.Unreachable:
		// The agent itself is down: the reconcile pass says so.
		w.unknown = true
		w.lost.Store(false)
	case kind == consulstatus.Transport:
		// The agent's connection to a server broke: nothing said about
		// the leader either way. Asked again after the backoff, and the
		// first leader named then counts as one come back.
		w.unknown = true
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
			notify(w.back)
		}
		w.logged, w.unknown = false, false
		w.lost.Store(false)
	}
}

// run asks whenever suspect is signalled and, while there is no leader or
// no agent, also after a backoff, until ctx ends.
func (w *leaderWatch) run(ctx context.Context) {
	pause := backoff{first: leaderRetry, max: leaderRetryMax}
	for {
		var retry <-chan time.Time
		if w.lost.Load() || w.unknown {
			retry = time.After(pause.next())
		}
		select {
		case <-ctx.Done():
			return
		case <-w.suspect:
		case <-retry:
		}
		w.poll(ctx)
		if !w.lost.Load() && !w.unknown {
			pause.reset()
		}
	}
}

// suspected asks run to check the leader (without blocking).
func (w *leaderWatch) suspected() { notify(w.suspect) }

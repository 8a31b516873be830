package registrar

import (
	"context"
	"sync"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"
)

// Timing of the NodeWatch.
const (
	// watchWait bounds one blocking query (Consul's default is 5 min).
	// Each answer says whether the servers know a leader, and nothing else
	// in Consul tells a quiet node that its cluster lost quorum (see
	// leaderWatch): so a lost leader is seen within watchWait (plus the
	// servers' jitter of 1/16) of the servers noticing, or within twice
	// that when the query was on a server that died (a client agent retries
	// a read cut by EOF on another server, which starts the wait again),
	// at 2 queries per watchWait when nothing changes.
	watchWait = 10 * time.Second
	// watchRetry is the first pause after a failed query (the agent is gone
	// or restarting, or has no servers; the daemon is told once), doubled
	// up to maxBackoff while it fails. The daemon retries its own local
	// reads every watchRetry meanwhile, so a restarted agent is refilled as
	// soon as it answers, whatever this watch's pause.
	watchRetry = 500 * time.Millisecond
	// watchPoll is how often a watch that cannot see the node (the token
	// lacks node:read) wakes the daemon instead, as it polled before.
	watchPoll = time.Second
	// watchRecheck is how long such a watch polls before trying to block
	// again.
	watchRecheck = time.Minute
)

// NodeWatch tells the daemon when the node's services or checks may have
// drifted, so that it reads the agent only then instead of every second.
//
// It follows the node in the catalog with two blocking queries through the
// local agent (/v1/catalog/node-services/<node> and /v1/health/node/<node>,
// stale reads any server answers): the agent syncs every local change (a
// service deregistered by hand, an agent that came back empty) to the
// catalog at once, and the query returns with it. A failed query means the
// agent went away: Changed is signalled once, and again when the agent
// answers, which covers an agent restarted with a wiped data dir. A failed
// query, an answer saying the servers know no leader, and the first answer
// after failures are also sent on Leader. A token that cannot read the node makes the watch poll at
// watchPoll instead.
type NodeWatch struct {
	// Client talks to the local agent.
	Client *api.Client
	// Node is the agent's node name.
	Node string
	// Log receives one line per change of the watch's own state.
	Log hclog.Logger
	// Changed is signalled without blocking.
	Changed chan<- struct{}
	// Leader, when set, is signalled without blocking when the cluster's
	// leader may have gone or come back: a failed query (the agent gone, or
	// no leader), an answer saying the servers know none, the first answer
	// after failures.
	Leader chan<- struct{}
	// Back, when set, is signalled without blocking on the first answer
	// after failed queries: the agent answers again, and may have been
	// restarted meanwhile (its checks run again from nothing, their first
	// outputs held back from the catalog) although none of the daemon's
	// own calls failed: a `systemctl restart` of the agent takes a few
	// seconds, in which the daemon may have nothing to ask it.
	Back chan<- struct{}

	wg sync.WaitGroup
}

// Start runs the watch until ctx ends; Wait waits for it to stop.
func (w *NodeWatch) Start(ctx context.Context) {
	w.wg.Add(2)
	go func() {
		defer w.wg.Done()
		w.follow(ctx, "services", true, func(q *api.QueryOptions) (*api.QueryMeta, bool, error) {
			out, meta, err := w.Client.Catalog().NodeServiceList(w.Node, q)
			if err != nil {
				return nil, false, err
			}
			// A node missing for lack of node:read, not one the catalog
			// does not hold yet (a fresh agent before its first sync).
			return meta, (out == nil || out.Node == nil) && meta.ResultsFilteredByACLs, nil
		})
	}()
	go func() {
		defer w.wg.Done()
		w.follow(ctx, "checks", false, func(q *api.QueryOptions) (*api.QueryMeta, bool, error) {
			out, meta, err := w.Client.Health().Node(w.Node, q)
			if err != nil {
				return nil, false, err
			}
			return meta, len(out) == 0 && meta.ResultsFilteredByACLs, nil
		})
	}()
}

// Wait blocks until the watch has stopped (after its ctx ended).
func (w *NodeWatch) Wait() { w.wg.Wait() }

func (w *NodeWatch) signal() { notify(w.Changed) }

// notify signals c without blocking (nothing when c is nil).
func notify(c chan<- struct{}) {
	select {
	case c <- struct{}{}:
	default:
	}
}

// follow runs one blocking query in a loop. read returns the answer's
// metadata and whether the node is invisible to the token; then the watch
// that polls signals every watchPoll, the other one only waits.
func (w *NodeWatch) follow(ctx context.Context, what string, polls bool, read func(*api.QueryOptions) (*api.QueryMeta, bool, error)) {
	log := w.Log.With("watch", what)
	var index uint64
	failing, warned := false, false
	pause := backoff{first: watchRetry, max: maxBackoff}
	for ctx.Err() == nil {
		// The servers hold the query up to watchWait plus a 1/16 jitter;
		// beyond that (and a call's bound) the agent is not answering.
		qctx, cancel := context.WithTimeout(ctx, watchWait+watchWait/16+callTimeout)
		q := (&api.QueryOptions{WaitIndex: index, WaitTime: watchWait, AllowStale: true}).WithContext(qctx)
		meta, blind, err := read(q)
		cancel()
		if ctx.Err() != nil {
			return
		}
		if err != nil || !meta.KnownLeader || failing {
			notify(w.Leader)
		}
		var next uint64
		if meta != nil {
			next = meta.LastIndex
		}
		switch {
		case err != nil:
			if !failing {
				log.Debug("watch failed; the agent may be restarting or the cluster has no leader", "error", err)
				w.signal()
			}
			failing, index = true, 0
			sleep(ctx, pause.next())
			continue
		case blind:
			if !warned && polls {
				log.Warn("the token cannot read this node in the catalog (node:read); polling the agent instead", "node", w.Node, "every", watchPoll)
			}
			warned = true
			w.poll(ctx, watchRecheck, polls)
			index = 0
			continue
		case failing:
			failing = false
			pause.reset()
			w.signal()
			notify(w.Back)
		case index != 0 && next != index:
			w.signal()
		}
		if next < index {
			// The index went backwards (a new raft store): start over.
			next = 0
			w.signal()
		}
		index = next
	}
}

// poll signals every watchPoll for d (only waits d unless signal).
func (w *NodeWatch) poll(ctx context.Context, d time.Duration, signal bool) {
	t := time.NewTicker(watchPoll)
	defer t.Stop()
	end := time.After(d)
	for {
		select {
		case <-ctx.Done():
			return
		case <-end:
			return
		case <-t.C:
			if signal {
				w.signal()
			}
		}
	}
}

// sleep waits d or until ctx ends.
func sleep(ctx context.Context, d time.Duration) {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-ctx.Done():
	case <-t.C:
	}
}

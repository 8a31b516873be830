package checkscript

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// dirSnapshot is one answer of the dirsize measure.
type dirSnapshot struct {
	Bytes, Files, Dirs uint64
	// Settled: a complete measure of the tree as of the request. When
	// false, Phase says what is going on and Bytes/Files are the last
	// settled values (Stale) or the walk's progress.
	Settled bool
	Stale   bool
	Phase   string
	// Unwatched folders are re-read by the bounded rescan, not by events.
	Unwatched int
	// Errors counts entries that could not be read.
	Errors     int
	FirstError string
	// Err is a failure of the whole measure (root missing).
	Err error
	// Fallback: the tree is over --max-files; measured by full walks.
	Fallback bool
}

// dirKeeperOptions configure the in-process index.
type dirKeeperOptions struct {
	pace       throttle
	maxFiles   int
	maxWatches int
	rescan     int           // entries re-read per refresh in unwatched folders
	maxQueue   int           // events held between two refreshes
	every      time.Duration // over maxFiles: how often a full walk runs
}

// dirKeeper owns one folder's index in a goroutine: it walks the tree
// (throttled), keeps the index true from inotify events and bounded
// rescans, and answers measure requests. Run never touches the index.
type dirKeeper struct {
	root string
	opts dirKeeperOptions
	req  chan chan dirSnapshot

	mu     sync.Mutex
	latest dirSnapshot
}

func newDirKeeper(root string, opts dirKeeperOptions) *dirKeeper {
	return &dirKeeper{root: root, opts: opts, req: make(chan chan dirSnapshot, 16),
		latest: dirSnapshot{Phase: "first walk in progress"}}
}

// measure asks for a settled measure and waits for it until ctx ends; it
// then answers the latest snapshot.
func (k *dirKeeper) measure(ctx context.Context) dirSnapshot {
	reply := make(chan dirSnapshot, 1)
	select {
	case k.req <- reply:
	case <-ctx.Done():
		return k.snapshot()
	}
	select {
	case s := <-reply:
		return s
	case <-ctx.Done():
		return k.snapshot()
	}
}

func (k *dirKeeper) snapshot() dirSnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	s := k.latest
	if s.Settled {
		// Asked, but not answered in time: say it is the last one.
		s.Settled, s.Stale, s.Phase = false, true, "catching up with changes"
	}
	return s
}

func (k *dirKeeper) publish(s dirSnapshot) {
	k.mu.Lock()
	k.latest = s
	k.mu.Unlock()
}

// progress publishes a walk's progress, keeping the last settled figures
// when there are some.
func (k *dirKeeper) progress(phase string, ix *dirIndex) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.latest.Settled || k.latest.Stale {
		k.latest.Settled, k.latest.Stale, k.latest.Phase = false, true, phase
		return
	}
	k.latest = dirSnapshot{Phase: phase, Bytes: ix.bytes(), Files: uint64(len(ix.inodes)), Dirs: uint64(ix.dirs)}
}

// run is the keeper's goroutine; it ends with ctx, closing the inotify
// instance and dropping the index.
func (k *dirKeeper) run(ctx context.Context) {
	phase := "first walk in progress"
	for ctx.Err() == nil {
		ix, in, w, err := k.build(ctx, phase)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			if errors.Is(err, errTooManyFiles) {
				k.fallback(ctx)
				phase = "re-walking: back under --max-files"
				continue
			}
			k.publish(dirSnapshot{Err: err})
			k.answerWaiting()
			k.idle(ctx, 0) // retry at the next request
			continue
		}
		phase = k.serve(ctx, ix, in, w)
		in.close()
		unix.Close(w.root)
	}
}

// fallback measures a tree over --max-files without an index: a full
// throttled walk every opts.every (memory: only inodes with several links),
// until the tree is back well under the bound and may be indexed again.
func (k *dirKeeper) fallback(ctx context.Context) {
	for ctx.Err() == nil {
		k.setPhase("over --max-files: full walk in progress")
		s, err := sumTree(ctx, k.root, k.opts.pace)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			s = dirSnapshot{Err: err}
		}
		s.Fallback = true
		k.publish(s)
		k.answerWaiting()
		if err == nil && int(s.Files+s.Dirs) < k.opts.maxFiles*9/10 {
			return
		}
		k.idle(ctx, k.opts.every)
	}
}

// setPhase says what the keeper is doing, keeping the last settled
// figures (as stale) when there are some.
func (k *dirKeeper) setPhase(phase string) {
	k.mu.Lock()
	defer k.mu.Unlock()
	if k.latest.Settled || k.latest.Stale {
		k.latest.Settled, k.latest.Stale, k.latest.Phase = false, true, phase
		return
	}
	k.latest = dirSnapshot{Phase: phase}
}

// answerWaiting answers the requests already queued with the latest
// snapshot.
func (k *dirKeeper) answerWaiting() {
	for {
		select {
		case r := <-k.req:
			r <- k.latestAnswer()
		default:
			return
		}
	}
}

func (k *dirKeeper) latestAnswer() dirSnapshot {
	k.mu.Lock()
	defer k.mu.Unlock()
	return k.latest
}

// idle answers requests with the latest snapshot until d has passed (d=0:
// until the first request, which is left for the next build to answer).
func (k *dirKeeper) idle(ctx context.Context, d time.Duration) {
	var timeout <-chan time.Time
	if d > 0 {
		t := time.NewTimer(d)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return
		case <-timeout:
			return
		case r := <-k.req:
			if d == 0 {
				k.requeue(r) // for the next build to answer
				return
			}
			r <- k.latestAnswer()
		}
	}
}

// requeue puts a request back for later, or answers it now when the queue
// is full (never blocking the keeper).
func (k *dirKeeper) requeue(r chan dirSnapshot) {
	select {
	case k.req <- r:
	default:
		r <- k.snapshot()
	}
}

// Between two runs the keeper folds events in as the reader queues them,
// and looks the names they touched up once they went quiet, in one batch,
// paced by --rate: lookupSettle after the last event, or lookupMaxDelay
// after the first one under constant traffic. A run is then left with the
// names changed since. One batch rather than a lookup per read: lookups
// made while the files are still being written are made again, and each
// burst of work costs the Go runtime its wake-ups.
const (
	lookupSettle   = 100 * time.Millisecond
	lookupMaxDelay = time.Second
)

// serve answers requests from the index until it needs a new walk; it
// returns the reason, as the phase of that walk.
func (k *dirKeeper) serve(ctx context.Context, ix *dirIndex, in *dirInotify, w *walker) string {
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	var first time.Time // of the events not looked up yet
	for {
		var waiting []chan dirSnapshot
		select {
		case <-ctx.Done():
			return ""
		case <-in.ready:
			k.fold(ix, in) // lost events: the next refresh re-walks
			if len(ix.pending) == 0 && !ix.needRewalk {
				continue
			}
			if first.IsZero() {
				first = time.Now()
			}
			if lookupMaxDelay-time.Since(first) > lookupSettle {
				settle.Reset(lookupSettle)
				continue
			}
			if reason := k.lookUp(ctx, ix, in, w, settle, &first); reason != "" {
				return reason
			}
			continue
		case <-settle.C:
			if reason := k.lookUp(ctx, ix, in, w, settle, &first); reason != "" {
				return reason
			}
			continue
		case r := <-k.req:
			waiting = append(waiting, r)
		}
		for more := true; more; {
			select {
			case r := <-k.req:
				waiting = append(waiting, r)
			default:
				more = false
			}
		}
		settle.Stop()
		first = time.Time{}
		if reason := k.refresh(ctx, ix, in, w, true); reason != "" {
			for _, r := range waiting {
				k.requeue(r) // answered after the new walk
			}
			return reason
		}
		s := dirSnapshot{Settled: true, Bytes: ix.bytes(), Files: uint64(len(ix.inodes)), Dirs: uint64(ix.dirs),
			Unwatched: ix.unwatched, Errors: w.errors, FirstError: w.first}
		k.publish(s)
		for _, r := range waiting {
			r <- s
		}
	}
}

// lookUp is serve's batch of lookups between two runs.
func (k *dirKeeper) lookUp(ctx context.Context, ix *dirIndex, in *dirInotify, w *walker, settle *time.Timer, first *time.Time) string {
	settle.Stop()
	*first = time.Time{}
	return k.refresh(ctx, ix, in, w, false)
}

// fold applies the events read so far to the index, at the start of a
// refresh. It
// reports false when events were lost; they stay lost for the refresh,
// which then re-walks.
func (k *dirKeeper) fold(ix *dirIndex, in *dirInotify) bool {
	events, lost := in.drain()
	if lost {
		in.unread(nil, true)
		return false
	}
	in.dropped(events)
	for _, wd := range ix.applyEvents(events) {
		in.unwatch(wd)
	}
	return true
}

// build opens an inotify instance and walks the tree into a new index,
// watching every folder before reading it.
func (k *dirKeeper) build(ctx context.Context, phase string) (*dirIndex, *dirInotify, *walker, error) {
	fd, st, err := openRoot(k.root)
	if err != nil {
		return nil, nil, nil, err
	}
	in, err := newDirInotify(k.opts.maxWatches, k.opts.maxQueue)
	if err != nil {
		// No instance left (max_user_instances): every folder is
		// rescanned in turn, as beyond the watch limit.
		in = &dirInotify{fd: -1}
	}
	ix := newDirIndex(k.root, st.Ino, uint64(st.Blocks))
	w := &walker{dev: st.Dev, root: fd, pace: k.opts.pace, growOnly: foldersGrowOnly(fd)}
	v := &indexVisitor{k: k, ix: ix, in: in, w: w, phase: phase}
	k.progress(phase, ix)
	v.watch(ix.root, fd)
	if err := walkTree(ctx, w, treeVisitor[*dirNode](v), ix.root, fd, k.root); err != nil {
		in.close()
		unix.Close(fd)
		return nil, nil, nil, err
	}
	return ix, in, w, nil
}

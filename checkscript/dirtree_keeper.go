package checkscript

import (
	"context"
	"errors"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// dirKeeperOptions configure a keeper; nested folders share the options
// of the outermost one's check.
type dirKeeperOptions struct {
	pace       throttle
	maxFiles   int
	maxWatches int
	rescan     int           // entries of unwatched folders re-read per run
	maxQueue   int           // events held between two folds
	every      time.Duration // over maxFiles: how often a full walk runs
}

// dirFigure is a keeper's answer about one declared folder.
type dirFigure struct {
	Bytes, Files, Dirs uint64
	At                 time.Time // when it was measured; zero: never
	Phase              string    // what the keeper is busy with, when the figure is not of now
	Read               int       // entries the walk read so far
	Unwatched          int       // folders without an inotify watch, re-read at runs
	NoWatch            string    // why none has one, when it is the filesystem
	Lagging            bool      // more of them than one run re-reads (--rescan)
	Errors             int       // folders with entries that could not be read
	FirstError         string
	Err                error         // the folder itself is not accessible
	Fallback           bool          // over --max-files: measured by full walks
	Counted            string        // the filesystem that counted it (countingFS)
	Stuck              time.Duration // how long the filesystem has not answered
	StuckAt            string
}

type dirRequest struct {
	path  string
	reply chan dirFigure
}

// dirKeeper keeps one dirTree, of the outermost declared folder of a
// filesystem, for every declared folder inside it, in one goroutine: it
// walks the tree (throttled), keeps it true from inotify events, looks the
// names they touched up between runs, and answers measure requests.
type dirKeeper struct {
	trees   *dirTrees
	root    string
	mount   string // mount point of the root's filesystem
	alone   bool   // shares with nobody (a folder the tree could not hold)
	opts    dirKeeperOptions
	req     chan dirRequest
	cancel  context.CancelFunc
	handles []*dirHandle // under trees.mu

	mu        sync.Mutex
	figures   map[string]dirFigure // the last answered, per declared folder
	phase     string
	read      int
	busyAt    string // below the root, "" when idle: joined when reported (a string a folder otherwise)
	busySince time.Time

	// The goroutine's own.
	t         *dirTree
	in        *dirInotify
	rootFD    int
	dev       uint64
	growOnly  bool
	noWatch   string // why no folder is watched (a filesystem inotify does not follow)
	pace      throttle
	since     time.Time                   // the walk's start
	walking   bool                        // the tree is being walked: events only mark folders
	answering bool                        // requests are answered with the last figures as they come
	answer    func(path string) dirFigure // how, when not with the last ones
	rewalk    string                      // why the tree must be walked again
	moved     bool                        // a folder was renamed since the last lookups
	lagging   bool
	rescanAt  int
	pending   map[*dirNode]*pendingDir
	stash     map[uint32]renamed
	readSince map[*dirNode]bool
	newLinks  map[uint64]newLink // inodes newly with several links
	cands     []singleCand       // findSingles' candidates, reused
	restat    map[uint64]bool    // inodes written through a name since removed
	mounts    map[string]bool
	looked    []looked
	// Files to look up again once written back (dirtree_writeback.go).
	writeback   time.Duration
	recentSince int64 // Unix seconds: a file changed since may still be written back
	rechecks    rechecks
	scratch     []uint64
	// Reused from folder to folder.
	path    []byte // stat's
	list    dirList
	batch   []uint64
	present map[*dirNode]bool
}

// looked is a folder whose names were looked up by path.
type looked struct {
	d     *dirNode
	names pendingNames
}

var (
	errTooManyFiles = errors.New("more entries than --max-files")
	errRewalk       = errors.New("walk again")
)

// Between two runs the keeper folds events in as the reader queues them,
// and looks the names they touched up once they went quiet, in one batch:
// lookupSettle after the last event, lookupMaxDelay after the first one
// under constant traffic, or as soon as lookupMaxPending folders wait. A
// run is then left with the names changed since. The bound keeps what a
// burst holds small: in deploy/bench/dirsize.sh's burst (50,000 changes
// in about 5 s at 5,000,000 files) a second's events held 2.9 MB of
// names, marks and looked-up folders on the heap at once, and the heap in
// use grew by 6.5 MB with the collector's headroom and half-used spans;
// with a bound of 2,048 the daemon's peak was 1.7 MiB lower (65.3 against
// 67.0 MiB), the burst adding 3.8 MiB to the end of the walk instead of
// 7.4; at 1,024, 2.8 MiB.
const (
	lookupSettle     = 100 * time.Millisecond
	lookupMaxDelay   = time.Second
	lookupMaxPending = 1024
)

// dirStuckAfter: a folder read that long is a filesystem that does not
// answer (a variable for the tests).
var dirStuckAfter = 5 * time.Second

// measure asks for the figure of path as of now, and waits for it until
// ctx ends; it then answers the last one, saying why.
func (k *dirKeeper) measure(ctx context.Context, path string) dirFigure {
	if f := k.last(path); f.Stuck > 0 {
		return f // no need to wait: it would not answer
	}
	reply := make(chan dirFigure, 1)
	select {
	case k.req <- dirRequest{path, reply}:
		select {
		case f := <-reply:
			return f
		case <-ctx.Done():
		}
	case <-ctx.Done():
	}
	return k.last(path)
}

// last is the last figure of path, with what the keeper is doing.
func (k *dirKeeper) last(path string) dirFigure {
	k.mu.Lock()
	defer k.mu.Unlock()
	f := k.figures[path]
	f.Phase, f.Read = k.phase, k.read
	if f.Phase == "" {
		f.Phase = "catching up with changes"
	}
	if since := time.Since(k.busySince); k.busyAt != "" && since >= dirStuckAfter {
		f.Stuck, f.StuckAt = since, joinRoot(k.root, k.busyAt)
	}
	return f
}

// setBusy says which folder the keeper reads (rel, "" when idle), and
// answers the requests that came meanwhile with the last figures.
func (k *dirKeeper) setBusy(rel string) {
	k.mu.Lock()
	k.busyAt, k.busySince = rel, time.Now()
	if k.walking && k.t != nil {
		k.read = k.t.files + k.t.dirs
	}
	k.mu.Unlock()
	if k.answering {
		k.answerWaiting()
	}
	if k.walking && k.in != nil {
		select {
		case <-k.in.ready:
			k.fold()
		default:
		}
	}
}

func (k *dirKeeper) setPhase(phase string) {
	k.mu.Lock()
	k.phase, k.read = phase, 0
	k.mu.Unlock()
}

// run is the keeper's goroutine; it ends with ctx, closing the inotify
// instance and dropping the tree.
func (k *dirKeeper) run(ctx context.Context) {
	defer k.close()
	k.setPhase("first walk in progress")
	for ctx.Err() == nil {
		if k.counted(ctx) {
			continue
		}
		err := k.build(ctx)
		if err == nil {
			err = k.serve(ctx)
		}
		why := k.rewalk
		k.close()
		switch {
		case ctx.Err() != nil:
			return
		case errors.Is(err, errTooManyFiles):
			k.fallback(ctx)
		case errors.Is(err, errRewalk):
			k.setPhase("walking again: " + why)
		case err != nil:
			k.mu.Lock()
			for _, p := range k.declared() {
				k.figures[p] = dirFigure{Err: err, At: time.Now()}
			}
			k.mu.Unlock()
			k.answerWaiting()
			k.idle(ctx, 0) // walk again at the next request
		}
	}
}

// close drops the tree, its descriptors and its watches.
func (k *dirKeeper) close() {
	if k.in != nil {
		k.in.close()
		unix.Close(k.rootFD)
	}
	if k.t != nil {
		k.t.release()
	}
	k.t, k.in, k.rootFD, k.rewalk = nil, nil, -1, ""
	k.pending, k.stash, k.readSince, k.looked = nil, nil, nil, nil
	k.rechecks = rechecks{}
	k.setBusy("")
}

// build opens an inotify instance and walks the tree, watching every
// folder before reading it; then it reads again the folders whose events
// came during the walk.
func (k *dirKeeper) build(ctx context.Context) error {
	fd, st, err := openRoot(k.root)
	if err != nil {
		return err
	}
	k.rootFD, k.dev = fd, st.Dev
	k.mu.Lock()
	for p, f := range k.figures {
		if f.Err != nil {
			delete(k.figures, p) // accessible again: not measured yet
		}
	}
	k.mu.Unlock()
	if k.in, err = newDirInotify(k.opts.maxWatches, k.opts.maxQueue); err != nil {
		// No instance left (max_user_instances): every folder is
		// re-read at each run, as beyond the watch limit.
		k.in = &dirInotify{fd: -1}
	}
	var fs unix.Statfs_t
	unit := uint64(8)
	k.noWatch = ""
	if unix.Fstatfs(fd, &fs) == nil {
		unit = uint64(fs.Bsize) / 512
		// ext2/3/4 never give a folder's blocks back while mounted.
		k.growOnly = fs.Type == unix.EXT4_SUPER_MAGIC
		if name := remoteFS[fs.Type]; name != "" {
			k.noWatch = "on " + name + ", whose changes made elsewhere inotify does not see"
		}
	}
	k.t = newDirTree(st.Ino, uint64(st.Blocks), unit)
	k.rechecks = newRechecks(int64(fs.Type), unit)
	k.pending, k.stash = map[*dirNode]*pendingDir{}, map[uint32]renamed{}
	k.readSince, k.newLinks, k.restat = map[*dirNode]bool{}, map[uint64]newLink{}, map[uint64]bool{}
	k.present = map[*dirNode]bool{}
	k.mounts = mountsBelow(k.root, st.Dev)
	if k.writeback == 0 {
		k.writeback = writebackDelay()
	}
	k.recentSince = time.Now().Add(-k.writeback).Unix()
	k.since, k.walking, k.answering = time.Now().Add(-time.Second), true, true
	defer func() { k.answering = false }()
	// The walk's last events still only mark their folders for a full
	// read: no folder is recorded as read since a fold (readSince) during
	// the walk, which spared a map of every folder (1.2 MB at 5,000,000
	// files) at its end.
	if err = k.readDir(ctx, k.t.root, fd, true); err == nil {
		k.fold()
	}
	k.walking = false
	if err != nil {
		return err
	}
	if err := k.refresh(ctx, false); err != nil {
		return err
	}
	k.setPhase("")
	return nil
}

// serve answers requests from the tree until it must be walked again.
func (k *dirKeeper) serve(ctx context.Context) error {
	settle := time.NewTimer(time.Hour)
	settle.Stop()
	defer settle.Stop()
	recheck := time.NewTimer(time.Hour)
	defer recheck.Stop()
	var first time.Time // of the events not looked up yet
	for {
		k.setBusy("")
		var due <-chan time.Time
		if next := k.nextRecheck(); !next.IsZero() {
			recheck.Reset(time.Until(next))
			due = recheck.C
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-due:
		case <-k.in.ready:
			k.fold()
			if k.rewalk != "" {
				return errRewalk
			}
			if len(k.pending) == 0 {
				continue
			}
			if first.IsZero() {
				first = time.Now()
			}
			if len(k.pending) < lookupMaxPending && lookupMaxDelay-time.Since(first) > lookupSettle {
				settle.Reset(lookupSettle)
				continue
			}
		case <-settle.C:
		case r := <-k.req:
			waiting := []dirRequest{r}
			for more := true; more; {
				select {
				case r := <-k.req:
					waiting = append(waiting, r)
				default:
					more = false
				}
			}
			err := k.refresh(ctx, true)
			for _, r := range waiting {
				if err == nil {
					r.reply <- k.figure(r.path)
					continue
				}
				select {
				case k.req <- r: // for the next walk to answer
				default:
					r.reply <- k.last(r.path)
				}
			}
			if err != nil {
				return err
			}
			continue
		}
		settle.Stop()
		first = time.Time{}
		if err := k.refresh(ctx, false); err != nil {
			return err
		}
	}
}

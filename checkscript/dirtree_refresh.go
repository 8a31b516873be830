package checkscript

import (
	"context"
	"errors"
	"slices"
	"time"

	"golang.org/x/sys/unix"
)

// refresh brings the tree up to date: events, the names they touched, and
// for a run (forRun) the folders no watch follows or that failed to read.
func (k *dirKeeper) refresh(ctx context.Context, forRun bool) error {
	if forRun && !sameFolder(k.root, k.t.root.ino, k.dev) {
		k.rewalk = "the folder itself was removed or replaced"
	}
	if forRun {
		k.rescan()
	}
	for round := 0; ; round++ {
		k.fold()
		if k.rewalk != "" {
			return errRewalk
		}
		if round == 0 {
			k.recentSince = time.Now().Add(-k.writeback).Unix()
			k.recheckDue()
		}
		k.moved, k.looked = false, nil // not [:0]: its array would keep a burst's names alive
		for _, d := range k.pendingDirs() {
			p := k.pending[d]
			var err error
			switch {
			case d.gone(): // removed by an earlier folder's read
				delete(k.pending, d)
			case p.full:
				err = k.reread(ctx, d)
			default:
				err = k.lookUp(ctx, d, p)
			}
			if err != nil {
				return err
			}
			k.t.compact() // a burst's dead places given back as it goes
		}
		if len(k.restat) > 0 {
			k.restatLinks()
		}
		if len(k.newLinks) > 0 {
			k.findSingles()
		}
		// Names are looked up by path: a folder renamed meanwhile may
		// have led a path elsewhere. Look again, its events applied.
		if k.fold() == 0 {
			clear(k.newLinks) // see findSingles
		}
		if len(k.newLinks) == 0 {
			k.cands = nil // a burst's size not kept
		}
		if (!k.moved && len(k.pending) == 0 && len(k.newLinks) == 0) || round == 2 {
			if len(k.pending) == 0 {
				k.pending = map[*dirNode]*pendingDir{} // a burst's size not kept
			}
			k.looked = nil
			k.t.compact()
			k.t.lists.order = nil // a burst's size not kept
			return k.check()
		}
		for _, l := range k.looked {
			if !l.d.gone() {
				p := k.mark(l.d)
				p.own = true
				for _, n := range l.names {
					k.markName(l.d, n.name, unix.IN_MODIFY)
				}
			}
		}
	}
}

// reread reads folder d again in full.
func (k *dirKeeper) reread(ctx context.Context, d *dirNode) error {
	fd, err := openDir(k.rootFD, d.path())
	if err == nil {
		var st unix.Stat_t
		if unix.Fstat(fd, &st) == nil && st.Ino == d.ino {
			defer unix.Close(fd)
			d.own = uint32(st.Blocks) // it may have grown with its names
			return k.readDir(ctx, d, fd, false)
		}
		unix.Close(fd)
	}
	delete(k.pending, d)
	if d.parent == nil {
		k.rewalk = "the folder itself was removed or replaced"
	} else if errors.Is(err, unix.ENOENT) || err == nil {
		k.mark(d.parent).full = true // its path leads elsewhere now
	} else {
		k.unreadable(d, err)
	}
	return nil
}

// rescan marks for a full read the folders that failed to read, and those
// no watch follows, in turn, up to --rescan entries.
func (k *dirKeeper) rescan() {
	var unwatched []*dirNode
	for d := range k.t.root.all() {
		switch {
		case k.t.extras[d] != nil && k.t.extras[d].err != "":
			k.mark(d).full = true
		case d.wd < 0:
			unwatched = append(unwatched, d)
		}
	}
	budget := k.opts.rescan
	k.lagging = false
	for i := range unwatched {
		d := unwatched[(k.rescanAt+i)%len(unwatched)]
		if budget -= d.files.len() + 1; budget < 0 && i > 0 {
			k.rescanAt, k.lagging = (k.rescanAt+i)%len(unwatched), true
			return
		}
		k.mark(d).full = true
	}
}

// pendingDirs returns the folders with pending work, parents first. The
// depths are counted as it sorts rather than kept in a map: a burst may
// leave 10,000 folders pending, and such a map took 250 KB more at its
// peak, for a few milliseconds saved.
func (k *dirKeeper) pendingDirs() []*dirNode {
	out := make([]*dirNode, 0, len(k.pending))
	for d := range k.pending {
		if d.gone() {
			delete(k.pending, d)
			continue
		}
		out = append(out, d)
	}
	slices.SortFunc(out, func(a, b *dirNode) int { return a.depth() - b.depth() })
	return out
}

// figure measures declared folder path from the tree, and keeps the answer.
func (k *dirKeeper) figure(path string) dirFigure {
	rel := "."
	if path != k.root {
		rel = path[len(k.root)+1:]
	}
	f := dirFigure{At: time.Now()}
	if d := k.t.find(rel); d != nil {
		tt := k.t.total(d, &k.scratch)
		f.Bytes, f.Files, f.Dirs = tt.blocks*512, tt.files, tt.dirs
		f.Unwatched, f.Lagging, f.Errors, f.FirstError = tt.unwatched, k.lagging && tt.unwatched > 0, tt.errors, tt.firstError
		f.NoWatch = k.noWatch
	} else if _, _, err := openRoot(path); err != nil {
		f.Err = err
	} else {
		// Not a folder of this tree (a symbolic link on its way): it
		// gets a tree of its own.
		go k.trees.split(path)
		f = dirFigure{Phase: "first walk in progress"}
	}
	k.mu.Lock()
	k.figures[path] = f
	k.mu.Unlock()
	return f
}

// check bounds the tree.
func (k *dirKeeper) check() error {
	if k.opts.maxFiles > 0 && k.t.files+k.t.dirs > k.opts.maxFiles {
		return errTooManyFiles
	}
	return nil
}

// remoteFS names the filesystems (statfs f_type) whose files change
// without inotify seeing it (on another host, or in a FUSE server): their
// folders are all re-read at every run, as folders beyond the watch limit.
var remoteFS = map[int64]string{
	unix.NFS_SUPER_MAGIC: "NFS", unix.SMB_SUPER_MAGIC: "SMB", unix.CIFS_SUPER_MAGIC: "CIFS",
	unix.SMB2_SUPER_MAGIC: "SMB", unix.FUSE_SUPER_MAGIC: "a FUSE filesystem", unix.CEPH_SUPER_MAGIC: "Ceph",
	unix.V9FS_MAGIC: "9P", unix.AFS_SUPER_MAGIC: "AFS", 0x0bd00bd0: "Lustre", 0x47504653: "GPFS",
}

// watch adds an inotify watch on folder d, open as fd.
func (k *dirKeeper) watch(d *dirNode, fd int) {
	if k.noWatch != "" {
		return
	}
	if wd, err := k.in.watch(fd, k.root+"/"+d.path()); err == nil {
		k.t.setWatch(d, wd)
	}
}

// unwatch removes the watches of folders that left the tree.
func (k *dirKeeper) unwatch(wds []int32) {
	for _, wd := range wds {
		k.in.unwatch(wd)
	}
}

// sameFolder reports whether path still is the folder ino on dev.
func sameFolder(path string, ino, dev uint64) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Ino == ino && st.Dev == dev
}

// answerWaiting answers the requests queued so far with the last figures.
func (k *dirKeeper) answerWaiting() {
	for {
		select {
		case r := <-k.req:
			if k.answer != nil {
				r.reply <- k.answer(r.path)
			} else {
				r.reply <- k.last(r.path)
			}
		default:
			return
		}
	}
}

// idle answers requests with the last figures until d has passed (d=0:
// until the first request, which is left for the next walk to answer).
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
				select {
				case k.req <- r: // for the next walk to answer
				default:
					r.reply <- k.last(r.path)
				}
				return
			}
			r.reply <- k.last(r.path)
		}
	}
}

// fallback measures a tree over --max-files without keeping it: a full
// throttled walk every opts.every for all its declared folders at once,
// until the tree is back well under the bound.
func (k *dirKeeper) fallback(ctx context.Context) {
	k.answering = true
	defer func() { k.answering = false }()
	for ctx.Err() == nil {
		k.setPhase("over --max-files: full walk in progress")
		paths := k.declared()
		sums, err := sumTrees(ctx, k.root, paths, k.pace, k.setBusy)
		k.setBusy("")
		if ctx.Err() != nil {
			return
		}
		k.mu.Lock()
		k.phase = "over --max-files"
		for i, p := range paths {
			k.figures[p] = dirFigure{Bytes: sums[i].Bytes, Files: sums[i].Files, Dirs: sums[i].Dirs, At: time.Now(),
				Fallback: true, Errors: sums[i].Errors, FirstError: sums[i].FirstError, Err: err}
		}
		k.mu.Unlock()
		if err == nil && len(sums) > 0 && int(sums[0].Files+sums[0].Dirs) < k.opts.maxFiles*9/10 {
			k.setPhase("walking again: back under --max-files")
			return
		}
		k.idle(ctx, k.opts.every)
	}
}

package checkscript

import (
	"context"
	"errors"

	"golang.org/x/sys/unix"
)

// indexVisitor builds the index during a walk.
type indexVisitor struct {
	k     *dirKeeper
	ix    *dirIndex
	in    *dirInotify
	w     *walker
	phase string
	seen  int
	// restat: inodes to re-read through another of their names; fresh:
	// inodes this refresh read (after every event it applied), which
	// need no second look.
	restat, fresh map[uint64]bool
	// done: the folders (and names) a refresh looked up by path.
	done []pendingDir
}

// pendingDir is a folder and its pending names.
type pendingDir struct {
	d     *dirNode
	names map[string]uint32
}

func (v *indexVisitor) watch(d *dirNode, fd int) {
	if fd < 0 {
		return
	}
	wd, err := v.in.watch(fd, v.ix.path(d))
	if err == nil {
		v.ix.setWatch(d, wd)
	}
}

func (v *indexVisitor) dir(parent *dirNode, name string, st *unix.Stat_t, fd int) (*dirNode, error) {
	d := v.ix.addDir(parent, name, st.Ino, uint64(st.Blocks))
	v.watch(d, fd)
	if v.seen++; v.seen%256 == 0 {
		v.k.progress(v.phase, v.ix)
	}
	return d, v.check()
}

func (v *indexVisitor) file(parent *dirNode, name string, st *unix.Stat_t) error {
	if v.fresh != nil {
		v.fresh[st.Ino] = true
	}
	v.ix.setFile(parent, name, st.Ino, uint64(st.Blocks))
	return v.check()
}

func (v *indexVisitor) check() error {
	if v.k.opts.maxFiles > 0 && v.ix.entries() > v.k.opts.maxFiles {
		return errTooManyFiles
	}
	return nil
}

// refresh brings the index up to date: events first, then the names they
// touched, then (rescan: for a run) a bounded share of the unwatched
// folders. It returns why a new walk is needed, or "".
func (k *dirKeeper) refresh(ctx context.Context, ix *dirIndex, in *dirInotify, w *walker, rescan bool) string {
	if !k.fold(ix, in) {
		return "re-walking: events were lost"
	}
	if !sameFolder(k.root, ix.root.ino, w.dev) {
		ix.needRewalk = true // removed, replaced or mounted over
	}
	if ix.needRewalk {
		return "re-walking: the folder itself changed or events were lost"
	}
	v := &indexVisitor{k: k, ix: ix, in: in, w: w, phase: "catching up with changes",
		restat: map[uint64]bool{}, fresh: map[uint64]bool{}}
	for _, d := range ix.pendingDirs() {
		names := ix.pending[d]
		if d.removed || names == nil {
			delete(ix.pending, d)
			continue
		}
		if err := k.reconcile(ctx, v, d, names, false); err != nil {
			return reasonOf(err)
		}
	}
	if rescan && ix.unwatched > 0 {
		budget := k.opts.rescan
		for _, d := range ix.unwatchedDirs() {
			if budget <= 0 {
				break
			}
			if d.removed {
				continue
			}
			budget -= len(d.files) + len(d.subdirs) + 1
			if err := k.reconcile(ctx, v, d, nil, true); err != nil {
				return reasonOf(err)
			}
		}
	}
	for ino := range v.restat {
		if v.fresh[ino] {
			delete(v.restat, ino)
		}
	}
	if len(v.restat) > 0 {
		k.restatLinks(v)
	}
	// Names were looked up by path: if a folder was renamed meanwhile, a
	// path may have led elsewhere. Look again at the next refresh, once
	// the rename's events are applied.
	later, lost := in.drain()
	in.unread(later, lost)
	if foldersMoved(later) {
		for _, p := range v.done {
			if p.d.removed {
				continue
			}
			for name, mask := range p.names {
				ix.mark(p.d, name, mask)
			}
			ix.mark(p.d, "", 0)
		}
	}
	if k.opts.maxFiles > 0 && ix.entries() > k.opts.maxFiles {
		return reasonOf(errTooManyFiles)
	}
	return ""
}

// restatLinks re-reads the blocks of inodes written through a name that
// was gone by the time it was read, while other names (hard links, whose
// folders had no event) keep the inode in the tree. Rare, so it may search
// the whole index for those names.
func (k *dirKeeper) restatLinks(v *indexVisitor) {
	ix := v.ix
	for _, d := range ix.dirsHolding(v.restat) {
		fd, err := openDir(v.w.root, ix.relPath(d))
		if err != nil {
			continue
		}
		names, _ := readNames(fd)
		for _, n := range names {
			if ino, ok := d.files[ix.hash(n)]; ok && v.restat[ino] {
				var st unix.Stat_t
				if unix.Fstatat(fd, n, &st, unix.AT_SYMLINK_NOFOLLOW) == nil && st.Ino == ino {
					ix.setInodeBlocks(ino, uint64(st.Blocks))
				}
			}
		}
		unix.Close(fd)
	}
}

// foldersMoved reports whether events rename a folder.
func foldersMoved(events []inotifyEvent) bool {
	for _, ev := range events {
		if ev.mask&unix.IN_MOVE_SELF != 0 || (ev.mask&unix.IN_ISDIR != 0 && ev.mask&(unix.IN_MOVED_FROM|unix.IN_MOVED_TO) != 0) {
			return true
		}
	}
	return false
}

// sameFolder reports whether path still is the folder ino on dev.
func sameFolder(path string, ino, dev uint64) bool {
	var st unix.Stat_t
	return unix.Stat(path, &st) == nil && st.Ino == ino && st.Dev == dev
}

func reasonOf(err error) string {
	if errors.Is(err, errTooManyFiles) {
		return "re-walking: more entries than --max-files"
	}
	return "re-walking: " + ErrText(err)
}

// reconcile re-reads the given names of folder d (all of them when full)
// and records what is there now. A folder whose path no longer leads to it
// (a rename not seen yet) keeps its names pending; three times in a row
// and the index is re-walked.
func (k *dirKeeper) reconcile(ctx context.Context, v *indexVisitor, d *dirNode, names map[string]uint32, full bool) error {
	ix := v.ix
	rel, root := ix.relPath(d), v.w.root
	// Pending names are looked up by their path from the root's
	// descriptor (fstatat of folder/name), which costs a third of an
	// open+fstat+close of the folder: the folder's own fstatat first says
	// the path still leads to it, and refresh re-marks the folder if a
	// folder rename raced with it. A full rescan reads the folder through
	// a descriptor.
	// Writes to files already there change nothing of the folder itself:
	// then it is not looked at (a raced rename is caught all the same).
	// Where folders never shrink (ext2/3/4), a name removed does not
	// change the folder's blocks either.
	_, own := names[""]
	same := uint32(unix.IN_MODIFY | unix.IN_ATTRIB)
	if v.w.growOnly {
		same |= unix.IN_DELETE | unix.IN_MOVED_FROM | pendingGone
	}
	for _, m := range names {
		own = own || m&^same != 0
	}
	fd, err := -1, error(nil)
	var st unix.Stat_t
	switch {
	case full:
		fd, err = openDir(root, rel)
		if err == nil {
			defer unix.Close(fd)
			err = unix.Fstat(fd, &st)
		}
	case own:
		err = unix.Fstatat(root, rel, &st, unix.AT_SYMLINK_NOFOLLOW)
	default:
		st.Ino, st.Dev, st.Blocks = d.ino, v.w.dev, int64(d.blocks)
	}
	if err != nil || st.Ino != d.ino || st.Dev != v.w.dev {
		if d.stale++; d.stale >= 3 {
			ix.needRewalk = true
		}
		return nil
	}
	d.stale = 0
	ix.setDirBlocks(d, uint64(st.Blocks))
	delete(ix.pending, d)
	if !full {
		v.done = append(v.done, pendingDir{d, names})
	}
	if full {
		if d.wd < 0 {
			v.watch(d, fd) // room may have come back
		}
		list, err := readNames(fd)
		if err != nil {
			v.w.fail(ix.path(d), err)
			return nil
		}
		present := make(map[uint64]bool, len(list))
		names = make(map[string]uint32, len(list))
		for _, n := range list {
			present[ix.hash(n)] = true
			names[n] = 0
		}
		for key := range d.files {
			if !present[key] {
				ix.removeKey(d, key)
			}
		}
		for key := range d.subdirs {
			if !present[key] {
				ix.removeKey(d, key)
			}
		}
	}
	if err := pace(ctx, v.w.pace, len(names)); err != nil {
		return err
	}
	for name, mask := range names {
		if name == "" {
			continue
		}
		var est unix.Stat_t
		err := error(unix.ENOENT) // the last event removed it
		switch {
		case mask&pendingGone != 0:
		case full:
			err = unix.Fstatat(fd, name, &est, unix.AT_SYMLINK_NOFOLLOW)
		default:
			err = unix.Fstatat(root, rel+"/"+name, &est, unix.AT_SYMLINK_NOFOLLOW)
		}
		switch {
		case err != nil || est.Dev != v.w.dev:
			if err != nil && err != unix.ENOENT {
				v.w.fail(ix.path(d)+"/"+name, err)
			}
			ino, had := d.files[ix.hash(name)]
			ix.removeName(d, name)
			if _, linked := ix.inodes[ino]; had && linked && mask&(unix.IN_MODIFY|unix.IN_ATTRIB) != 0 {
				// Written through this name, now gone; its other
				// names saw no event.
				v.restat[ino] = true
			}
		case est.Mode&unix.S_IFMT != unix.S_IFDIR:
			if err := v.file(d, name, &est); err != nil {
				return err
			}
		default:
			if sub := d.subdirs[ix.hash(name)]; sub != nil && sub.ino == est.Ino {
				ix.setDirBlocks(sub, uint64(est.Blocks))
				continue
			}
			// A folder new to the index: created, or moved in from
			// outside the tree.
			if fd < 0 {
				if fd, err = openDir(root, rel); err != nil {
					continue // its events will come
				}
				defer unix.Close(fd)
			}
			if err := walkSubdir(ctx, v.w, treeVisitor[*dirNode](v), d, fd, ix.path(d), name, &est); err != nil {
				return err
			}
		}
	}
	return nil
}

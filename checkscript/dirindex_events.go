package checkscript

import (
	"sort"

	"golang.org/x/sys/unix"
)

// inotifyEvent is one event read from an inotify descriptor.
type inotifyEvent struct {
	wd     int32
	mask   uint32
	cookie uint32
	name   string
}

// applyEvents folds a batch of events into the index: folder renames inside
// the tree move nodes (their watches stay valid: a watch follows the
// inode), everything else marks a name to re-read (reconcile). It returns
// the watches of folders that left the tree, for the caller to remove.
func (ix *dirIndex) applyEvents(events []inotifyEvent) (dropped []int32) {
	for _, ev := range events {
		if ev.mask&unix.IN_Q_OVERFLOW != 0 {
			ix.needRewalk = true
			continue
		}
		d := ix.byWD[ev.wd]
		if d == nil {
			continue
		}
		switch {
		case ev.mask&unix.IN_IGNORED != 0:
			// The kernel dropped the watch (folder deleted or unmounted);
			// the parent's event removes the node.
			ix.setWatch(d, -1)
			if d == ix.root {
				ix.needRewalk = true
			}
		case ev.name == "":
			if d == ix.root && ev.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT) != 0 {
				ix.needRewalk = true
			}
			ix.mark(d, "", 0)
		case ev.mask&(unix.IN_MOVED_FROM|unix.IN_ISDIR) == unix.IN_MOVED_FROM|unix.IN_ISDIR:
			if sub := d.subdirs[ix.hash(ev.name)]; sub != nil {
				ix.detach(sub)
				ix.stash[ev.cookie] = sub
			}
			ix.mark(d, "", 0)
		case ev.mask&(unix.IN_MOVED_TO|unix.IN_ISDIR) == unix.IN_MOVED_TO|unix.IN_ISDIR && ix.stash[ev.cookie] != nil:
			sub := ix.stash[ev.cookie]
			delete(ix.stash, ev.cookie)
			ix.attach(d, ev.name, sub)
			ix.mark(d, "", 0)
		case ev.mask&(unix.IN_MOVED_FROM|unix.IN_ISDIR) == unix.IN_MOVED_FROM:
			ix.stashFile(d, ev.name, ev.cookie)
			ix.mark(d, ev.name, ev.mask)
		case ev.mask&(unix.IN_MOVED_TO|unix.IN_ISDIR) == unix.IN_MOVED_TO && ix.moveFile(d, ev.name, ev.cookie):
		default:
			ix.mark(d, ev.name, ev.mask)
		}
	}
	// Files moved out of the tree: their names are pending as gone.
	clear(ix.moved)
	// Folders moved out of the tree: forget them and their watches.
	for cookie, sub := range ix.stash {
		delete(ix.stash, cookie)
		stack := []*dirNode{sub}
		for len(stack) > 0 {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			if n.wd >= 0 {
				dropped = append(dropped, n.wd)
			}
			for _, s := range n.subdirs {
				stack = append(stack, s)
			}
		}
		ix.removeSubtree(sub)
	}
	return dropped
}

// movedFile is a file name renamed away (IN_MOVED_FROM) whose inode the
// index knew for sure, until its IN_MOVED_TO says where it went.
type movedFile struct {
	from *dirNode
	key  uint64
	ino  uint64
}

// stashFile remembers file name of d, renamed away under cookie, when the
// index holds its inode as of now: no event since the last refresh.
func (ix *dirIndex) stashFile(d *dirNode, name string, cookie uint32) {
	if _, pending := ix.pending[d][name]; pending {
		return
	}
	key := ix.hash(name)
	if ino, ok := d.files[key]; ok {
		ix.moved[cookie] = movedFile{from: d, key: key, ino: ino}
	}
}

// moveFile applies the second half of a file rename inside the tree (name
// in d under cookie) without a lookup: a rename changes no blocks, so the
// inode the first half held is the one now at name. It reports false when
// the first half was not stashed; name is then looked up.
func (ix *dirIndex) moveFile(d *dirNode, name string, cookie uint32) bool {
	m, ok := ix.moved[cookie]
	delete(ix.moved, cookie)
	if !ok || m.from.removed {
		return false
	}
	if ino, ok := m.from.files[m.key]; !ok || ino != m.ino {
		return false
	}
	// Link the new name before unlinking the old one, so a single-link
	// inode keeps its blocks throughout.
	key := ix.hash(name)
	if sub := d.subdirs[key]; sub != nil {
		ix.removeSubtree(sub)
	}
	if d.files == nil {
		d.files = map[uint64]uint64{}
	}
	if old, had := d.files[key]; had {
		ix.unref(old)
		ix.names--
	}
	d.files[key] = m.ino
	ix.names++
	ix.ref(m.ino, ix.inodes[m.ino]>>refBits)
	ix.removeKey(m.from, m.key)
	// The index holds name now: an earlier event on it (a create, a
	// delete) needs no lookup any more; the folder's own blocks may
	// have changed.
	if set := ix.pending[d]; set != nil {
		delete(set, name)
	}
	ix.mark(d, "", 0)
	return true
}

// mark queues name in d for reconcile ("" for d's own blocks).
func (ix *dirIndex) mark(d *dirNode, name string, mask uint32) {
	set := ix.pending[d]
	if set == nil {
		set = map[string]uint32{}
		ix.pending[d] = set
	}
	m := set[name] | mask
	if name == "" {
		set[""] = m // the folder's own blocks
		return
	}
	if mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0 {
		m |= pendingGone
	} else {
		m &^= pendingGone
	}
	set[name] = m
}

// pendingGone marks a pending name whose last event removed it (deleted or
// renamed away): no need to look it up. Events are read in order, so a name
// created again later carries that later event. The bit is IN_ONESHOT's,
// which the kernel never reports in an event.
const pendingGone = unix.IN_ONESHOT

// dirsHolding returns the folders with a name for one of inos.
func (ix *dirIndex) dirsHolding(inos map[uint64]bool) []*dirNode {
	var out []*dirNode
	stack := []*dirNode{ix.root}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, ino := range d.files {
			if inos[ino] {
				out = append(out, d)
				break
			}
		}
		for _, s := range d.subdirs {
			stack = append(stack, s)
		}
	}
	return out
}

// pendingDirs returns the folders with pending names, parents first (so a
// removed folder is gone before its own names are looked at).
func (ix *dirIndex) pendingDirs() []*dirNode {
	type byDepth struct {
		d     *dirNode
		depth int
	}
	all := make([]byDepth, 0, len(ix.pending))
	for d := range ix.pending {
		all = append(all, byDepth{d, d.depth()})
	}
	sort.Slice(all, func(i, j int) bool { return all[i].depth < all[j].depth })
	out := make([]*dirNode, len(all))
	for i, e := range all {
		out[i] = e.d
	}
	return out
}

// unwatchedDirs lists folders without a watch, for the bounded rescan.
func (ix *dirIndex) unwatchedDirs() []*dirNode {
	var out []*dirNode
	stack := []*dirNode{ix.root}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		if d.wd < 0 {
			out = append(out, d)
		}
		for _, s := range d.subdirs {
			stack = append(stack, s)
		}
	}
	return out
}

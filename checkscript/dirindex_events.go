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
		default:
			ix.mark(d, ev.name, ev.mask)
		}
	}
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

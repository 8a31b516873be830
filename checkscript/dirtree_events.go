package checkscript

import (
	"time"

	"golang.org/x/sys/unix"
)

// pendingDir is what the events said about one folder since it was last
// looked at: names to look up (with their events' masks OR-ed), hashes
// whose files must be told apart by reading the folder's names (resolve),
// its own blocks, or everything (full).
type pendingDir struct {
	names   pendingNames
	resolve map[uint32]bool
	own     bool
	full    bool
}

// maxPendingNames bounds the names held per folder; past it, the folder is
// read again in full.
const maxPendingNames = 256

// renamed is one half of a rename, by cookie, until the other half comes:
// a folder, or a file's entry taken out of its folder (ok false: unknown).
type renamed struct {
	dir    *dirNode
	ok     bool
	blocks uint64
	fp     uint16
	ino    uint64 // a name of an inode with several links
}

func (k *dirKeeper) mark(d *dirNode) *pendingDir {
	p := k.pending[d]
	if p == nil {
		p = &pendingDir{}
		k.pending[d] = p
	}
	return p
}

// markName queues name of d for a lookup.
func (k *dirKeeper) markName(d *dirNode, name string, mask uint32) {
	p := k.mark(d)
	if p.full {
		return
	}
	if len(p.names) >= maxPendingNames {
		p.full, p.names, p.resolve = true, nil, nil
		return
	}
	p.names.add(name, mask)
}

// fold applies the events read so far to the tree; it returns how many.
func (k *dirKeeper) fold() int {
	events, lost, mounts := k.in.drain()
	if lost {
		k.rewalk = "events were lost (inotify queue overflow)"
	}
	if mounts {
		k.remount()
	}
	for _, ev := range events {
		k.apply(ev)
	}
	// Renamed out of the tree: gone.
	for cookie, r := range k.stash {
		if r.dir != nil {
			k.unwatch(k.t.removeDir(r.dir))
		}
		delete(k.stash, cookie)
	}
	k.t.compact() // no folder detached now
	if len(k.readSince) > 0 {
		// A new map, not clear: a map keeps its size, and the first walk
		// puts every folder in this one.
		k.readSince = map[*dirNode]bool{}
	}
	return len(events)
}

// newName marks the events after which a name may be one the tree does
// not hold yet.
const newName = unix.IN_CREATE | unix.IN_MOVED_TO

func (k *dirKeeper) apply(ev inotifyEvent) {
	if ev.mask&unix.IN_Q_OVERFLOW != 0 {
		k.rewalk = "events were lost (inotify queue overflow)"
		return
	}
	t := k.t
	d := t.watched(ev.wd)
	if d == nil {
		return
	}
	switch {
	case ev.mask&unix.IN_IGNORED != 0:
		// The kernel dropped the watch: the folder was deleted (its
		// parent's event removes it) or a filesystem was mounted over it.
		k.in.watches--
		t.setWatch(d, -1)
		if d == t.root {
			k.rewalk = "the folder itself was removed or replaced"
		}
		return
	case k.walking:
		// Folders already read are read again once the walk is over.
		k.mark(d).full = true
		return
	case ev.name == "":
		if d == t.root && ev.mask&(unix.IN_DELETE_SELF|unix.IN_MOVE_SELF|unix.IN_UNMOUNT) != 0 {
			k.rewalk = "the folder itself was removed or replaced"
		}
		k.mark(d).own = true
		return
	case ev.mask&unix.IN_ISDIR != 0:
		k.mark(d).own = true
		k.moved = k.moved || ev.mask&(unix.IN_MOVED_FROM|unix.IN_MOVED_TO) != 0
		c := d.childNamed(ev.name)
		switch {
		case ev.mask&unix.IN_MOVED_FROM != 0 && c != nil:
			t.detach(c)
			k.stash[ev.cookie] = renamed{dir: c}
		case ev.mask&unix.IN_MOVED_TO != 0 && k.stash[ev.cookie].dir != nil:
			t.attach(d, ev.name, k.stash[ev.cookie].dir)
			delete(k.stash, ev.cookie)
		case ev.mask&unix.IN_DELETE != 0 && c != nil:
			k.unwatch(t.removeDir(c))
		case ev.mask&(unix.IN_CREATE|unix.IN_MOVED_TO) != 0:
			k.markName(d, ev.name, ev.mask)
		}
		return
	}
	p := k.mark(d)
	if p.full {
		return
	}
	h, seen := t.hash(ev.name), p.names.get(ev.name)
	switch {
	case ev.mask&(unix.IN_DELETE|unix.IN_MOVED_FROM) != 0:
		p.own = p.own || !k.growOnly
		p.names.del(ev.name)
		r := renamed{}
		switch {
		case seen&newName == unix.IN_CREATE && !k.readSince[d]:
			// Created since the last lookup, never held: nothing to take.
		case seen&unix.IN_MOVED_TO == 0 && !k.readSince[d] && t.group(d, h) == 1:
			// The one file of that hash is this name's.
			r.blocks, r.fp, r.ino, r.ok = t.removeFile(d, h, 0, true, 0)
			if seen&(unix.IN_MODIFY|unix.IN_ATTRIB) != 0 {
				// Written since its last lookup: its size is not known,
				// nor that of its other names (which saw no event).
				r.ok = false
				if r.ino != 0 && t.isLinked(r.ino) {
					k.restat[r.ino] = true
				}
			}
		default:
			if p.resolve == nil {
				p.resolve = map[uint32]bool{}
			}
			p.resolve[h] = true
		}
		if ev.mask&unix.IN_MOVED_FROM != 0 {
			k.stash[ev.cookie] = r
		}
	case ev.mask&unix.IN_MOVED_TO != 0:
		p.own = true
		r, paired := k.stash[ev.cookie]
		delete(k.stash, ev.cookie)
		if paired && r.ok && seen == 0 && !k.readSince[d] && t.group(d, h) == 0 && !p.resolve[h] {
			// A rename inside the tree changes no blocks: the entry
			// moves without a lookup (and once more after a writeback
			// that may be due, see recheck).
			k.recheckLater(d, []byte(ev.name), r.blocks, time.Now().Unix())
			switch {
			case r.ino != 0:
				t.addFile(d, h, r.ino, r.blocks, 2, nil)
			case r.blocks%t.unit == 0 && r.blocks/t.unit <= maxUnits:
				t.insert(d, entry(h, uint32(r.blocks/t.unit), r.fp))
				t.files++
			default:
				x := t.extra(d)
				x.big = append(x.big, bigFile{h, r.fp, r.blocks})
				t.files++
			}
			return
		}
		k.markName(d, ev.name, unix.IN_MOVED_TO)
	case ev.mask&unix.IN_CREATE != 0:
		p.own = true
		k.markName(d, ev.name, unix.IN_CREATE)
	default:
		k.markName(d, ev.name, ev.mask)
	}
}

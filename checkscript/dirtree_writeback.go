package checkscript

import (
	"cmp"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"
)

// A file's blocks can change after the last event about it: ext4 gives a
// file's data its blocks when it writes the file back, and the blocks of
// its extent tree then too (a file appended to in separate bursts gets an
// extent per burst; from the fifth on they need a block of their own, one
// more for the file, which no event announces). So a file is looked up
// once more after the kernel's flusher wrote it back: writebackDelay after
// its last change (its ctime), or after it was renamed into a folder
// without a lookup.

// recheck is a file of folder d with name hash h to look up again at due
// (Unix seconds).
type recheck struct {
	d   *dirNode
	h   uint32
	due uint32
}

// maxRechecks bounds the files waiting to be looked up again (16 bytes
// each: 1 MiB); past it, their folders are read again in full instead
// (recheckDirs).
const maxRechecks = 1 << 16

// writebackDelay is how long after a change the kernel may still write a
// file back: dirty data older than vm.dirty_expire_centisecs is written by
// the flusher, which wakes every vm.dirty_writeback_centisecs; 5 s more for
// the writing itself. 40 s with Linux's defaults.
func writebackDelay() time.Duration {
	expire := readCentisecs("/proc/sys/vm/dirty_expire_centisecs", 3000)
	every := readCentisecs("/proc/sys/vm/dirty_writeback_centisecs", 500)
	if every == 0 { // no periodic writeback: the default period bounds the wait
		every = 5 * time.Second
	}
	return expire + every + 5*time.Second
}

// readCentisecs reads a sysctl in hundredths of a second, def when it
// cannot.
func readCentisecs(path string, def int) time.Duration {
	if b, err := os.ReadFile(path); err == nil {
		if n, err := strconv.Atoi(strings.TrimSpace(string(b))); err == nil && n >= 0 {
			def = n
		}
	}
	return time.Duration(def) * 10 * time.Millisecond
}

// recheckLater queues the file of d with hash h to be looked up again
// writeback after changed (Unix seconds), unless that has passed.
func (k *dirKeeper) recheckLater(d *dirNode, h uint32, changed int64) {
	due := changed + int64(k.writeback/time.Second) + 1
	if due <= time.Now().Unix() {
		return
	}
	if len(k.rechecks) >= maxRechecks {
		k.recheckFolders()
	}
	if k.recheckDirs[d] != 0 {
		k.recheckDirs[d] = max(k.recheckDirs[d], uint32(due))
		return
	}
	k.rechecks = append(k.rechecks, recheck{d, h, uint32(due)})
}

// recheckFolders turns the queued files into their folders, each to be
// read again in full once the last of its files is due.
func (k *dirKeeper) recheckFolders() {
	if k.recheckDirs == nil {
		k.recheckDirs = map[*dirNode]uint32{}
	}
	for _, r := range k.rechecks {
		k.recheckDirs[r.d] = max(k.recheckDirs[r.d], r.due)
	}
	k.rechecks = nil
}

// nextRecheck is when the first queued file is due; zero when none is.
func (k *dirKeeper) nextRecheck() time.Time {
	var next uint32
	for _, r := range k.rechecks {
		if next == 0 || r.due < next {
			next = r.due
		}
	}
	for _, due := range k.recheckDirs {
		if next == 0 || due < next {
			next = due
		}
	}
	if next == 0 {
		return time.Time{}
	}
	return time.Unix(int64(next), 0)
}

// recheckDue looks up again the queued files that are due, by folder.
func (k *dirKeeper) recheckDue() {
	now := uint32(time.Now().Unix())
	var due []recheck
	keep := k.rechecks[:0]
	for _, r := range k.rechecks {
		switch {
		case r.d.gone():
		case r.due <= now:
			due = append(due, r)
		default:
			keep = append(keep, r)
		}
	}
	clear(k.rechecks[len(keep):]) // no folder kept alive by the array
	k.rechecks = keep
	if len(keep) == 0 {
		k.rechecks = nil // a burst's size not kept
	}
	for d, at := range k.recheckDirs {
		if at <= now {
			if !d.gone() {
				k.mark(d).full = true
			}
			delete(k.recheckDirs, d)
		}
	}
	slices.SortFunc(due, func(a, b recheck) int { return cmp.Compare(a.d.ino, b.d.ino) })
	hashes := map[uint32]bool{}
	for i, r := range due {
		hashes[r.h] = true
		if i+1 == len(due) || due[i+1].d != r.d {
			k.resolve(r.d, hashes)
			clear(hashes)
		}
	}
}

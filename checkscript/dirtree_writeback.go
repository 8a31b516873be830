package checkscript

import (
	"bytes"
	"os"
	"strconv"
	"strings"
	"time"

	"golang.org/x/sys/unix"
)

// A file's blocks can change after the last event about it: ext4 gives a
// file's data its blocks when it writes the file back, and the blocks of
// its extent tree then too (a file appended to in separate bursts gets an
// extent per burst; from the fifth on they need a block of their own,
// which no event announces). So a file that may still be written back is
// looked up once more when the kernel's flusher has written it: at
// writebackDelay after its last change (its ctime), or after it was
// renamed into a folder without a lookup.
//
// On ext4 only a file of more than four blocks can have five extents; on
// tmpfs nothing is written back. The queue holds each file's folder and
// name (16 bytes and the name's); the due ones are looked up by path,
// recheckBatch at a time between two folds of events, so a burst's
// look-ups never hold the events back. Past maxRechecks files, their
// folders are read again in full instead, recheckBatch/64 at a time.

// recheck is the file named names[at:] (up to a NUL) of folder d, to look
// up again at due (Unix seconds).
type recheck struct {
	d       *dirNode
	at, due uint32
}

// rechecks is the keeper's queue of files to look up again.
type rechecks struct {
	files []recheck
	names []byte
	dirs  map[*dirNode]uint32 // past maxRechecks: folders to read again, when due
	next  uint32              // Unix seconds: nothing is due before; 0: empty
	// minBlocks: only files of more blocks (512 bytes) can change at
	// writeback; disabled: nothing is written back.
	minBlocks uint64
	disabled  bool
}

// maxRechecks bounds the files queued (a variable for the tests);
// recheckBatch is how many are looked up between two folds.
var maxRechecks = 1 << 16

const recheckBatch = 4096

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

// newRechecks is the queue for a filesystem of type fsType and blocks of
// unit × 512 bytes.
func newRechecks(fsType int64, unit uint64) rechecks {
	switch fsType {
	case unix.TMPFS_MAGIC, unix.RAMFS_MAGIC:
		return rechecks{disabled: true}
	case unix.EXT4_SUPER_MAGIC: // ext2/3/4: extents only beyond four blocks
		return rechecks{minBlocks: 4 * unit}
	}
	return rechecks{}
}

// recheckLater queues file name of d, of blocks, to be looked up again
// writeback after changed (Unix seconds), unless that has passed.
func (k *dirKeeper) recheckLater(d *dirNode, name []byte, blocks uint64, changed int64) {
	q := &k.rechecks
	due := changed + int64(k.writeback/time.Second) + 1
	if q.disabled || blocks <= q.minBlocks || due <= time.Now().Unix() {
		return
	}
	if q.next == 0 || uint32(due) < q.next {
		q.next = uint32(due)
	}
	if len(q.files) >= maxRechecks {
		if q.dirs == nil {
			q.dirs = map[*dirNode]uint32{}
		}
		for _, r := range q.files {
			q.dirs[r.d] = max(q.dirs[r.d], r.due)
		}
		q.files, q.names = nil, nil
	}
	if q.dirs[d] != 0 {
		q.dirs[d] = max(q.dirs[d], uint32(due))
		return
	}
	q.files = append(q.files, recheck{d, uint32(len(q.names)), uint32(due)})
	q.names = append(append(q.names, name...), 0)
}

// nextRecheck is when the first queued file is due (or a little earlier);
// zero when none is.
func (k *dirKeeper) nextRecheck() time.Time {
	if k.rechecks.next == 0 {
		return time.Time{}
	}
	return time.Unix(int64(k.rechecks.next), 0)
}

// recheckDue looks up again up to recheckBatch of the queued files that
// are due, and marks up to recheckBatch/64 due folders to be read again.
func (k *dirKeeper) recheckDue() {
	q := &k.rechecks
	now := uint32(time.Now().Unix())
	if q.next == 0 || q.next > now {
		return
	}
	q.next = 0
	next := func(due uint32) {
		if q.next == 0 || due < q.next {
			q.next = due
		}
	}
	var names []byte // the names kept
	keep, done, rel, relOf := q.files[:0], 0, "", (*dirNode)(nil)
	for _, r := range q.files {
		name := q.names[r.at:]
		name = name[:bytes.IndexByte(name, 0)]
		switch {
		case r.d.gone():
			continue
		case r.due > now || done == recheckBatch:
			next(r.due)
			keep = append(keep, recheck{r.d, uint32(len(names)), r.due})
			names = append(append(names, name...), 0)
			continue
		}
		done++
		if r.d != relOf {
			rel, relOf = r.d.path(), r.d
		}
		k.recheckName(r.d, rel, name)
	}
	clear(q.files[len(keep):]) // no folder kept alive by the array
	q.files, q.names = keep, names
	if len(keep) == 0 {
		q.files = nil // a burst's size not kept
	}
	marked := 0
	for d, due := range q.dirs {
		switch {
		case due > now || marked == recheckBatch/64:
			next(due)
			continue
		case !d.gone():
			k.mark(d).full = true
			marked++
		}
		delete(q.dirs, d)
	}
}

// recheckName looks file name of d (at rel) up again: counted anew when
// the tree holds it; otherwise it was replaced, renamed or removed since,
// and the events of that change look it up.
func (k *dirKeeper) recheckName(d *dirNode, rel string, name []byte) {
	var st unix.Stat_t
	if _, err := k.stat(rel, string(name), &st); err == nil && st.Dev == k.dev && st.Mode&unix.S_IFMT != unix.S_IFDIR {
		k.replaceHeld(d, name, k.t.hashBytes(name), &st)
	}
}

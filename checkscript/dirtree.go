package checkscript

import (
	"hash/maphash"
	"slices"
)

// dirTree is what dirsize remembers of a folder tree between runs, so a
// re-measure reads only what changed. It holds no name of a file, only
// 48 bits per file in its folder's list: a 19-bit hash of the name and
// either the size in filesystem blocks on 12 bits and 16 bits of the
// inode number, or, for an inode with several links (counted once, as du
// counts them), its place in the tree's table of such inodes. A folder
// holds its name and its own size (80 bytes in all).
// Files whose size does not fit (over 4,095 blocks: 16 MiB with 4 KiB
// blocks) are kept apart. Pure bookkeeping: no I/O here (dirtree_read.go
// feeds it).
//
// Sizes are in 512-byte blocks (st_blocks), as du -B1 counts allocated
// space.
type dirTree struct {
	root        *dirNode
	seed        maphash.Seed
	unit        uint64    // 512-byte blocks per filesystem block: the unit of an entry's size
	links       linkTable // the inodes with several links
	extras      map[*dirNode]*dirExtra
	lists       listArena
	byWD        []*dirNode // by inotify watch descriptor (the kernel gives them in order)
	files, dirs int        // names of files, folders: what --max-files bounds
	unwatched   int        // folders without an inotify watch
}

// dirNode is one folder of the tree. Its subfolders are a list (child,
// then next): a folder is looked up by name only for events on folders.
// A folder removed from the tree is its own parent.
type dirNode struct {
	parent, child, next *dirNode
	name                string
	ino                 uint64
	own                 uint32 // its own blocks
	wd                  int32  // inotify watch, -1 when none
	files               fileList
}

// dirExtra holds what few folders need (dirTree.extras).
type dirExtra struct {
	big []bigFile
	err string // why part of the folder could not be read: retried at every run
}

// bigFile is a single-link file whose size does not fit an entry.
type bigFile struct {
	hash   uint32
	fp     uint16
	blocks uint64
}

const (
	hashBits   = 19
	unitsBits  = 12
	maxUnits   = 1<<unitsBits - 1
	linkedFlag = 1 << unitsBits // in an entry's second word
)

func newDirTree(ino, blocks, unit uint64) *dirTree {
	t := &dirTree{seed: maphash.MakeSeed(), unit: max(unit, 1), extras: map[*dirNode]*dirExtra{}}
	t.root = &dirNode{ino: ino, own: uint32(blocks), wd: -1}
	t.dirs, t.unwatched = 1, 1
	return t
}

// release gives back what the tree maps outside the heap (its lists, its
// table of linked inodes and their index): the tree is dropped, and no
// part of it may be used after.
func (t *dirTree) release() {
	t.lists.release()
	t.links.release()
}

func (t *dirTree) hash(name string) uint32 {
	return uint32(maphash.String(t.seed, name)) & (1<<hashBits - 1)
}

func (t *dirTree) hashBytes(name []byte) uint32 {
	return uint32(maphash.Bytes(t.seed, name)) & (1<<hashBits - 1)
}

// inoPrint is the 16 bits of an inode number an entry keeps: the low ones,
// which differ between the files of one folder, folded with the others.
func inoPrint(ino uint64) uint16 { return uint16(ino ^ ino>>16 ^ ino>>32 ^ ino>>48) }

func (d *dirNode) gone() bool { return d.parent == d }

// fileList is a folder's files but the big ones, 3 uint16 each, sorted by
// name hash: hash<<13 | linked<<12 | units, then the inode print; or, with
// linked set, the place in dirTree.links on the 12 + 16 bits.
type fileList []uint16

func (l fileList) len() int { return len(l) / 3 }

func (l fileList) hash(i int) uint32 { return uint32(l[3*i])<<3 | uint32(l[3*i+1]>>13) }

func (l fileList) linked(i int) bool { return l[3*i+1]&linkedFlag != 0 }

func (l fileList) units(i int) uint32 { return uint32(l[3*i+1] & maxUnits) }

func (l fileList) print(i int) uint16 { return l[3*i+2] }

func (l fileList) link(i int) uint32 { return l.units(i)<<16 | uint32(l[3*i+2]) }

func entry(h, w1 uint32, w2 uint16) uint64 { return uint64(h)<<29 | uint64(w1)<<16 | uint64(w2) }

// search returns the first entry whose hash is not below h.
func (l fileList) search(h uint32) int {
	lo, hi := 0, l.len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if l.hash(m) < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

// insert adds a packed entry (see entry: hash, then linked<<12|units, then
// the print or the place's low bits) to d's list.
func (t *dirTree) insert(d *dirNode, e uint64) {
	l := d.files
	i := 3 * l.search(uint32(e>>29))
	if n := len(l); n+3 > cap(l) {
		// Grown by an eighth, not doubled: the lists are most of the
		// tree's memory.
		l = append(t.lists.alloc(n+n/24*3+6), l...)
		t.lists.free(d.files)
	}
	d.files = slices.Insert(l, i, uint16(e>>32), uint16(e>>29&7)<<13|uint16(e>>16&0x1fff), uint16(e))
}

func (l *fileList) remove(i int) { *l = slices.Delete(*l, 3*i, 3*i+3) }

package checkscript

import (
	"hash/maphash"
	"iter"
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
	root *dirNode
	seed maphash.Seed
	unit uint64 // 512-byte blocks per filesystem block: the unit of an entry's size
	// linked holds the inodes with several links, linkAt finds them.
	linked      []linkedInode
	linkAt      map[uint64]uint32
	free        []uint32 // unused places of linked
	extras      map[*dirNode]*dirExtra
	lists       listArena
	byWD        []*dirNode // by inotify watch descriptor (the kernel gives them in order)
	files, dirs int        // names of files, folders: what --max-files bounds
	unwatched   int        // folders without an inotify watch
}

type linkedInode struct {
	ino, blocks uint64
	names       uint32 // in the tree
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
	t := &dirTree{seed: maphash.MakeSeed(), unit: max(unit, 1), linkAt: map[uint64]uint32{}, extras: map[*dirNode]*dirExtra{}}
	t.root = &dirNode{ino: ino, own: uint32(blocks), wd: -1}
	t.dirs, t.unwatched = 1, 1
	return t
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
// linked set, the place in dirTree.linked on the 12 + 16 bits.
type fileList []uint16

func (l fileList) len() int                { return len(l) / 3 }
func (l fileList) hash(i int) uint32       { return uint32(l[3*i])<<3 | uint32(l[3*i+1]>>13) }
func (l fileList) linked(i int) bool       { return l[3*i+1]&linkedFlag != 0 }
func (l fileList) units(i int) uint32      { return uint32(l[3*i+1] & maxUnits) }
func (l fileList) print(i int) uint16      { return l[3*i+2] }
func (l fileList) link(i int) uint32       { return l.units(i)<<16 | uint32(l[3*i+2]) }
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

// extra returns d's extra, made when missing.
func (t *dirTree) extra(d *dirNode) *dirExtra {
	x := t.extras[d]
	if x == nil {
		x = &dirExtra{}
		t.extras[d] = x
	}
	return x
}

// tidy drops an empty extra.
func (t *dirTree) tidy(d *dirNode) {
	if x := t.extras[d]; x != nil && len(x.big) == 0 && x.err == "" {
		delete(t.extras, d)
	}
}

// group counts d's names with hash h.
func (t *dirTree) group(d *dirNode, h uint32) int {
	n := 0
	for i := d.files.search(h); i < d.files.len() && d.files.hash(i) == h; i++ {
		n++
	}
	if x := t.extras[d]; x != nil {
		for _, b := range x.big {
			n += b2i(b.hash == h)
		}
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addFile records a file of d named with hash h. With batch, its entry
// is appended there, packed, for setFiles.
func (t *dirTree) addFile(d *dirNode, h uint32, ino, blocks uint64, nlink uint64, batch *[]uint64) {
	var e uint64
	switch {
	case nlink > 1:
		at := t.linkOf(ino, blocks)
		e = entry(h, linkedFlag|at>>16, uint16(at))
	case blocks%t.unit == 0 && blocks/t.unit <= maxUnits:
		e = entry(h, uint32(blocks/t.unit), inoPrint(ino))
	default:
		x := t.extra(d)
		x.big = append(x.big, bigFile{h, inoPrint(ino), blocks})
		t.files++
		return
	}
	if batch != nil {
		*batch = append(*batch, e)
		return
	}
	t.insert(d, e)
	t.files++
}

// setFiles sets d's list (empty) to the packed entries of a batch, in a
// slice of their size.
func (t *dirTree) setFiles(d *dirNode, batch []uint64) {
	slices.Sort(batch)
	d.files = t.lists.alloc(3 * len(batch))
	for _, e := range batch {
		d.files = append(d.files, uint16(e>>32), uint16(e>>29&7)<<13|uint16(e>>16&0x1fff), uint16(e))
	}
	t.files += len(batch)
}

// linkOf returns the place of inode ino (of blocks) in the table, one more
// of its names counted.
func (t *dirTree) linkOf(ino, blocks uint64) uint32 {
	at, ok := t.linkAt[ino]
	if !ok {
		if n := len(t.free); n > 0 {
			at, t.free = t.free[n-1], t.free[:n-1]
		} else {
			if n := len(t.linked); n == cap(t.linked) { // grown by an eighth
				t.linked = append(make([]linkedInode, 0, n+n/8+16), t.linked...)
			}
			at, t.linked = uint32(len(t.linked)), append(t.linked, linkedInode{})
		}
		t.linkAt[ino], t.linked[at] = at, linkedInode{ino: ino}
	}
	t.linked[at].blocks = blocks
	t.linked[at].names++
	return at
}

// unlink counts one name of the inode at place at less.
func (t *dirTree) unlink(at uint32) {
	if t.linked[at].names--; t.linked[at].names == 0 {
		delete(t.linkAt, t.linked[at].ino)
		t.linked[at], t.free = linkedInode{}, append(t.free, at)
	}
}

// isLinked reports whether ino has several names in the tree's table.
func (t *dirTree) isLinked(ino uint64) bool {
	_, ok := t.linkAt[ino]
	return ok
}

// single finds d's single-link file with hash h and inode print fp: its
// blocks, and whether there is exactly one.
func (t *dirTree) single(d *dirNode, h uint32, fp uint16) (blocks uint64, found bool) {
	n := 0
	for i := d.files.search(h); i < d.files.len() && d.files.hash(i) == h; i++ {
		if !d.files.linked(i) && d.files.print(i) == fp {
			blocks, n = uint64(d.files.units(i))*t.unit, n+1
		}
	}
	if x := t.extras[d]; x != nil {
		for _, b := range x.big {
			if b.hash == h && b.fp == fp {
				blocks, n = b.blocks, n+1
			}
		}
	}
	return blocks, n == 1
}

// removeFile forgets d's file with hash h: the single-link one of print fp
// (any file when anyPrint), or the name of inode ino (ino != 0). It
// returns what it removed: its blocks, inode print and inode (0 when
// single), and false when there was no such file.
func (t *dirTree) removeFile(d *dirNode, h uint32, fp uint16, anyPrint bool, ino uint64) (uint64, uint16, uint64, bool) {
	for i := d.files.search(h); i < d.files.len() && d.files.hash(i) == h; i++ {
		if d.files.linked(i) {
			li := t.linked[d.files.link(i)]
			if li.ino == ino || (ino == 0 && anyPrint) {
				t.unlink(d.files.link(i))
				d.files.remove(i)
				t.files--
				return li.blocks, inoPrint(li.ino), li.ino, true
			}
		} else if ino == 0 && (anyPrint || d.files.print(i) == fp) {
			blocks, efp := uint64(d.files.units(i))*t.unit, d.files.print(i)
			d.files.remove(i)
			t.files--
			return blocks, efp, 0, true
		}
	}
	x := t.extras[d]
	if x == nil || ino != 0 {
		return 0, 0, 0, false
	}
	for i, b := range x.big {
		if b.hash == h && (anyPrint || b.fp == fp) {
			x.big = slices.Delete(x.big, i, i+1)
			t.files--
			t.tidy(d)
			return b.blocks, b.fp, 0, true
		}
	}
	return 0, 0, 0, false
}

// removeGroup forgets every file of d with hash h.
func (t *dirTree) removeGroup(d *dirNode, h uint32) {
	for {
		if _, _, _, ok := t.removeFile(d, h, 0, true, 0); !ok {
			return
		}
	}
}

// clearFiles forgets every file of d, before d is read again.
func (t *dirTree) clearFiles(d *dirNode) {
	for i := 0; i < d.files.len(); i++ {
		if d.files.linked(i) {
			t.unlink(d.files.link(i))
		}
	}
	t.files -= d.files.len()
	t.lists.free(d.files)
	d.files = nil
	if x := t.extras[d]; x != nil {
		t.files -= len(x.big)
		x.big = nil
		t.tidy(d)
	}
}

// childNamed returns d's subfolder called name.
func (d *dirNode) childNamed(name string) *dirNode {
	for c := d.child; c != nil; c = c.next {
		if c.name == name {
			return c
		}
	}
	return nil
}

// addDir records subfolder name of d (replacing one of that name) and
// returns it.
func (t *dirTree) addDir(d *dirNode, name string, ino, blocks uint64) *dirNode {
	if old := d.childNamed(name); old != nil {
		t.removeDir(old)
	}
	c := &dirNode{parent: d, name: name, ino: ino, own: uint32(blocks), wd: -1}
	c.next, d.child = d.child, c
	t.dirs++
	t.unwatched++
	return c
}

// detach takes folder c out of its parent, still counted, until attach
// puts it back or removeDir forgets it.
func (t *dirTree) detach(c *dirNode) {
	if p := c.parent; p != nil {
		for at := &p.child; *at != nil; at = &(*at).next {
			if *at == c {
				*at = c.next
				break
			}
		}
	}
	c.parent, c.next = nil, nil
}

// attach puts detached folder c under d as name.
func (t *dirTree) attach(d *dirNode, name string, c *dirNode) {
	if old := d.childNamed(name); old != nil {
		t.removeDir(old)
	}
	c.parent, c.name, c.next, d.child = d, name, d.child, c
}

// removeDir forgets folder c and everything under it, and returns the
// inotify watches they had.
func (t *dirTree) removeDir(c *dirNode) (watches []int32) {
	t.detach(c)
	for d := range c.all() {
		t.clearFiles(d)
		if d.wd >= 0 {
			watches = append(watches, d.wd)
		}
		t.setWatch(d, -1)
		t.unwatched--
		t.dirs--
		delete(t.extras, d)
		d.parent, d.child = d, nil // gone
	}
	return watches
}

// setWatch records the folder's inotify watch (-1: none).
func (t *dirTree) setWatch(d *dirNode, wd int32) {
	if d.wd >= 0 {
		t.byWD[d.wd] = nil
		t.unwatched++
	}
	d.wd = wd
	if wd >= 0 {
		for int(wd) >= len(t.byWD) {
			t.byWD = append(t.byWD, nil)
		}
		t.byWD[wd] = d
		t.unwatched--
	}
}

// watched returns the folder of watch wd, or nil.
func (t *dirTree) watched(wd int32) *dirNode {
	if wd < 0 || int(wd) >= len(t.byWD) {
		return nil
	}
	return t.byWD[wd]
}

// listArena holds the folders' file lists in big chunks, one after the
// other: a list of its own on the heap would round up to a size class, and
// the holes between lists would fragment the heap (at 5,000,000 files,
// about 5 MB in all). A list that outgrows its place moves, and the place
// left is counted; once a quarter of the chunks is such places, compact
// (dirTree.compact) copies the lists to new chunks.
type listArena struct {
	chunk      []uint16 // what is left of the current chunk
	used, dead int      // uint16s handed out, of which no longer used
}

const arenaChunk = 32 << 10 // uint16s: 64 KiB

// alloc returns an empty list of capacity n.
func (a *listArena) alloc(n int) fileList {
	if n == 0 {
		return nil
	}
	if n > arenaChunk/4 {
		return make(fileList, 0, n) // a big folder's: on the heap
	}
	if n > len(a.chunk) {
		a.dead += len(a.chunk)
		a.chunk = make([]uint16, arenaChunk)
	}
	l := a.chunk[:0:n]
	a.chunk, a.used = a.chunk[n:], a.used+n
	return l
}

// free counts the place of a list no longer used.
func (a *listArena) free(l fileList) {
	if c := cap(l); c > 0 && c <= arenaChunk/4 {
		a.dead += c
	}
}

// compact copies every list to new chunks once a quarter of the arena is
// dead places.
func (t *dirTree) compact() {
	if a := &t.lists; a.dead < arenaChunk || a.dead < a.used/4 {
		return
	}
	t.lists = listArena{}
	for d := range t.root.all() {
		if len(d.files) > 0 {
			d.files = append(t.lists.alloc(len(d.files)), d.files...)
		}
	}
}

// all yields d and every folder under it, each before its subfolders.
func (d *dirNode) all() iter.Seq[*dirNode] {
	return func(yield func(*dirNode) bool) {
		for stack := []*dirNode{d}; len(stack) > 0; {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for s := n.child; s != nil; s = s.next {
				stack = append(stack, s)
			}
			if !yield(n) {
				return
			}
		}
	}
}

// path is a folder's path below the root ("." for the root).
func (d *dirNode) path() string {
	if d.parent == nil || d.gone() {
		return "."
	}
	n := -1
	for e := d; e.parent != nil; e = e.parent {
		n += len(e.name) + 1
	}
	b := make([]byte, n)
	for e := d; e.parent != nil; e = e.parent {
		n -= len(e.name)
		copy(b[n:], e.name)
		if n--; n >= 0 {
			b[n] = '/'
		}
	}
	return string(b)
}

// find returns the folder at rel ("." or a/b/c below the root), or nil.
func (t *dirTree) find(rel string) *dirNode {
	d := t.root
	for rel != "." && rel != "" && d != nil {
		name, rest, _ := cutSlash(rel)
		d, rel = d.childNamed(name), rest
	}
	return d
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// treeTotal is what a folder's tree adds up to.
type treeTotal struct {
	blocks, files, dirs uint64
	errors              int
	firstError          string
	unwatched           int
}

// total adds up the tree under d: every folder's own blocks and its
// files', each inode with several links once. seen is reused between
// calls.
func (t *dirTree) total(d *dirNode, seen *[]uint64) treeTotal {
	var tt treeTotal
	n := (len(t.linked) + 63) / 64
	marks := slices.Grow((*seen)[:0], n)[:n]
	clear(marks)
	for n := range d.all() {
		tt.blocks += uint64(n.own)
		tt.files += uint64(n.files.len())
		tt.dirs++
		tt.unwatched += b2i(n.wd < 0)
		if x := t.extras[n]; x != nil {
			tt.files += uint64(len(x.big))
			for _, b := range x.big {
				tt.blocks += b.blocks
			}
			if x.err != "" {
				if tt.errors++; tt.errors == 1 {
					tt.firstError = x.err
				}
			}
		}
		for i := 0; i < n.files.len(); i++ {
			if !n.files.linked(i) {
				tt.blocks += uint64(n.files.units(i)) * t.unit
			} else if d != t.root {
				at := n.files.link(i)
				if marks[at/64]&(1<<(at%64)) == 0 {
					marks[at/64] |= 1 << (at % 64)
					tt.blocks += t.linked[at].blocks
				} else {
					tt.files-- // another name of one counted
				}
			}
		}
	}
	if d == t.root { // every inode of the table has a name here
		for _, li := range t.linked {
			tt.blocks += li.blocks
			tt.files -= uint64(max(li.names, 1) - 1)
		}
	}
	*seen = marks
	return tt
}

package checkscript

import (
	"hash/maphash"
	"slices"
)

// dirTree is what dirsize remembers of a folder tree between runs, so a
// re-measure reads only what changed. It holds no name of a file, only
// 48 bits per file in its folder (a 20-bit hash of the name, the size in
// filesystem blocks on 12 bits, 16 bits of the inode number); a folder
// holds its name, its own size and the sum of its files'. Files whose size
// does not fit (over 4,095 blocks: 16 MiB with 4 KiB blocks) and names of
// inodes with more than one link (counted once, as du counts them) are kept
// apart in the folder's dirExtra. Pure bookkeeping: no I/O here
// (dirtree_read.go feeds it).
//
// Sizes are in 512-byte blocks (st_blocks), as du -B1 counts allocated
// space.
type dirTree struct {
	root *dirNode
	seed maphash.Seed
	unit uint64 // 512-byte blocks per filesystem block: the unit of an entry's size
	// links maps an inode with several links to its blocks and its names
	// in the tree.
	links       map[uint64]linkedInode
	byWD        map[int32]*dirNode
	files, dirs int // names of files, folders: what --max-files bounds
	unwatched   int // folders without an inotify watch
}

type linkedInode struct {
	blocks uint64
	names  uint32
}

// dirNode is one folder of the tree. Its subfolders are a list (child,
// then next): a folder is looked up by name only for events on folders.
type dirNode struct {
	parent, child, next *dirNode
	name                string
	ino                 uint64
	sum                 uint64 // its own blocks and its single-link files'
	own                 uint32 // its own blocks
	wd                  int32  // inotify watch, -1 when none
	files               fileList
	x                   *dirExtra
	removed             bool
}

// dirExtra holds what few folders need.
type dirExtra struct {
	big   []bigFile
	links []nameLink
	err   string // why part of the folder could not be read: retried at every run
}

// bigFile is a single-link file whose size does not fit an entry.
type bigFile struct {
	hash   uint32
	fp     uint16
	blocks uint64
}

// nameLink is one name of an inode with several links.
type nameLink struct {
	hash uint32
	ino  uint64
}

const (
	hashBits  = 20
	unitsBits = 12
	maxUnits  = 1<<unitsBits - 1
)

func newDirTree(ino, blocks, unit uint64) *dirTree {
	t := &dirTree{seed: maphash.MakeSeed(), unit: max(unit, 1), links: map[uint64]linkedInode{}, byWD: map[int32]*dirNode{}}
	t.root = &dirNode{ino: ino, own: uint32(blocks), sum: blocks, wd: -1}
	t.dirs, t.unwatched = 1, 1
	return t
}

func (t *dirTree) hash(name string) uint32 {
	return uint32(maphash.String(t.seed, name)) & (1<<hashBits - 1)
}

// inoPrint is the 16 bits of an inode number an entry keeps: the low ones,
// which differ between the files of one folder, folded with the others.
func inoPrint(ino uint64) uint16 { return uint16(ino ^ ino>>16 ^ ino>>32 ^ ino>>48) }

// fileList is a folder's single-link files, 3 uint16 each (hash, size,
// inode print), sorted by hash.
type fileList []uint16

func (l fileList) len() int { return len(l) / 3 }

func (l fileList) at(i int) (hash, units uint32, fp uint16) {
	w1 := l[3*i+1]
	return uint32(l[3*i])<<4 | uint32(w1>>12), uint32(w1 & maxUnits), l[3*i+2]
}

// search returns the first entry whose hash is not below h.
func (l fileList) search(h uint32) int {
	lo, hi := 0, l.len()
	for lo < hi {
		m := int(uint(lo+hi) >> 1)
		if mh, _, _ := l.at(m); mh < h {
			lo = m + 1
		} else {
			hi = m
		}
	}
	return lo
}

func (l *fileList) insert(h, units uint32, fp uint16) {
	i := 3 * l.search(h)
	if n := len(*l); n+3 > cap(*l) {
		// Grown by an eighth, not doubled: the lists are most of the
		// index's memory.
		grown := make(fileList, n, n+n/24*3+6)
		copy(grown, *l)
		*l = grown
	}
	*l = slices.Insert(*l, i, uint16(h>>4), uint16(h&0xf)<<12|uint16(units), fp)
}

func (l *fileList) remove(i int) { *l = slices.Delete(*l, 3*i, 3*i+3) }

func (l fileList) setUnits(i int, units uint32) { l[3*i+1] = l[3*i+1]&^maxUnits | uint16(units) }

func (d *dirNode) extra() *dirExtra {
	if d.x == nil {
		d.x = &dirExtra{}
	}
	return d.x
}

// tidy drops an empty extra.
func (d *dirNode) tidy() {
	if x := d.x; x != nil && len(x.big) == 0 && len(x.links) == 0 && x.err == "" {
		d.x = nil
	}
}

// group counts d's names with hash h.
func (d *dirNode) group(h uint32) int {
	n := 0
	for i := d.files.search(h); i < d.files.len(); i++ {
		if eh, _, _ := d.files.at(i); eh != h {
			break
		}
		n++
	}
	if d.x != nil {
		for _, b := range d.x.big {
			n += b2i(b.hash == h)
		}
		for _, l := range d.x.links {
			n += b2i(l.hash == h)
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

// addFile records a file of d named with hash h.
func (t *dirTree) addFile(d *dirNode, h uint32, ino, blocks uint64, nlink uint64) {
	t.files++
	switch {
	case nlink > 1:
		d.extra().links = append(d.x.links, nameLink{h, ino})
		t.link(ino, blocks, 1)
	case blocks%t.unit == 0 && blocks/t.unit <= maxUnits:
		d.files.insert(h, uint32(blocks/t.unit), inoPrint(ino))
		d.sum += blocks
	default:
		d.extra().big = append(d.x.big, bigFile{h, inoPrint(ino), blocks})
		d.sum += blocks
	}
}

// link adds names to the names of inode ino, and sets its blocks.
func (t *dirTree) link(ino, blocks uint64, names int) {
	li := t.links[ino]
	li.blocks, li.names = blocks, uint32(int(li.names)+names)
	if li.names == 0 {
		delete(t.links, ino)
		return
	}
	t.links[ino] = li
}

// single finds d's single-link file with hash h and inode print fp: its
// blocks, and whether there is exactly one.
func (d *dirNode) single(t *dirTree, h uint32, fp uint16) (blocks uint64, found bool) {
	n := 0
	for i := d.files.search(h); i < d.files.len(); i++ {
		eh, units, efp := d.files.at(i)
		if eh != h {
			break
		}
		if efp == fp {
			blocks, n = uint64(units)*t.unit, n+1
		}
	}
	if d.x != nil {
		for _, b := range d.x.big {
			if b.hash == h && b.fp == fp {
				blocks, n = b.blocks, n+1
			}
		}
	}
	return blocks, n == 1
}

// removeFile forgets d's file with hash h: the single-link one of print fp
// (any print when anyPrint), or the name of inode ino (ino != 0). It
// returns what it removed: its blocks, inode print and inode (0 when
// single), and false when there was no such file.
func (t *dirTree) removeFile(d *dirNode, h uint32, fp uint16, anyPrint bool, ino uint64) (uint64, uint16, uint64, bool) {
	if ino == 0 {
		for i := d.files.search(h); i < d.files.len(); i++ {
			eh, units, efp := d.files.at(i)
			if eh != h {
				break
			}
			if anyPrint || efp == fp {
				d.files.remove(i)
				d.sum -= uint64(units) * t.unit
				t.files--
				return uint64(units) * t.unit, efp, 0, true
			}
		}
	}
	if d.x == nil {
		return 0, 0, 0, false
	}
	for i, b := range d.x.big {
		if ino == 0 && b.hash == h && (anyPrint || b.fp == fp) {
			d.x.big = slices.Delete(d.x.big, i, i+1)
			d.sum -= b.blocks
			t.files--
			d.tidy()
			return b.blocks, b.fp, 0, true
		}
	}
	for i, l := range d.x.links {
		if l.hash == h && (l.ino == ino || (ino == 0 && anyPrint)) {
			d.x.links = slices.Delete(d.x.links, i, i+1)
			blocks := t.links[l.ino].blocks
			t.link(l.ino, blocks, -1)
			t.files--
			d.tidy()
			return blocks, inoPrint(l.ino), l.ino, true
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

// setOwn updates a folder's own blocks.
func (d *dirNode) setOwn(blocks uint64) {
	d.sum += blocks - uint64(d.own)
	d.own = uint32(blocks)
}

// clearFiles forgets every file of d, before d is read again.
func (t *dirTree) clearFiles(d *dirNode) {
	t.files -= d.files.len()
	d.files = nil
	if x := d.x; x != nil {
		t.files -= len(x.big) + len(x.links)
		for _, l := range x.links {
			t.link(l.ino, t.links[l.ino].blocks, -1)
		}
		x.big, x.links = nil, nil
		d.tidy()
	}
	d.sum = uint64(d.own)
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
	c := &dirNode{parent: d, name: name, ino: ino, own: uint32(blocks), sum: blocks, wd: -1}
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
	for stack := []*dirNode{c}; len(stack) > 0; {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for s := d.child; s != nil; s = s.next {
			stack = append(stack, s)
		}
		t.clearFiles(d)
		if d.wd >= 0 {
			watches = append(watches, d.wd)
		}
		t.setWatch(d, -1)
		t.unwatched--
		t.dirs--
		d.removed, d.child, d.x = true, nil, nil
	}
	return watches
}

// setWatch records the folder's inotify watch (-1: none).
func (t *dirTree) setWatch(d *dirNode, wd int32) {
	if d.wd >= 0 {
		delete(t.byWD, d.wd)
		t.unwatched++
	}
	d.wd = wd
	if wd >= 0 {
		t.byWD[wd] = d
		t.unwatched--
	}
}

// path is a folder's path below the root ("." for the root).
func (d *dirNode) path() string {
	if d.parent == nil {
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

// total adds up the tree under d: every folder's sum, plus each inode
// with several links once. scratch is reused between calls.
func (t *dirTree) total(d *dirNode, scratch *[]uint64) treeTotal {
	var tt treeTotal
	inos := (*scratch)[:0]
	for stack := []*dirNode{d}; len(stack) > 0; {
		n := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for s := n.child; s != nil; s = s.next {
			stack = append(stack, s)
		}
		tt.blocks += n.sum
		tt.files += uint64(n.files.len())
		tt.dirs++
		tt.unwatched += b2i(n.wd < 0)
		if x := n.x; x != nil {
			tt.files += uint64(len(x.big))
			if x.err != "" {
				if tt.errors++; tt.errors == 1 {
					tt.firstError = x.err
				}
			}
			if d != t.root {
				for _, l := range x.links {
					inos = append(inos, l.ino)
				}
			}
		}
	}
	if d == t.root { // every linked inode has a name here
		for _, li := range t.links {
			tt.blocks += li.blocks
		}
		tt.files += uint64(len(t.links))
	} else {
		slices.Sort(inos)
		inos = slices.Compact(inos)
		for _, ino := range inos {
			tt.blocks += t.links[ino].blocks
		}
		tt.files += uint64(len(inos))
	}
	*scratch = inos
	return tt
}

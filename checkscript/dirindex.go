package checkscript

import (
	"hash/maphash"
)

// dirIndex is what dirsize remembers of a tree between runs, so that a
// re-measure reads only what changed: the folder structure (one node per
// folder, with its own blocks) and, for files, name → inode per folder and
// inode → blocks once per inode (hard links counted once, as du does).
// Names are kept as 64-bit hashes, never as strings; only folder names are
// stored. It is pure bookkeeping: no I/O here (dirindex_walk.go and
// dirindex_inotify.go feed it).
//
// Sizes are in 512-byte blocks (st_blocks), as du -B1 counts allocated space.
type dirIndex struct {
	rootPath string
	seed     maphash.Seed
	root     *dirNode
	// inodes maps a file's inode number to blocks<<refBits | names that
	// point to it inside the tree.
	inodes map[uint64]uint64
	byWD   map[int32]*dirNode

	dirBlocks, fileBlocks uint64
	names, dirs           int
	unwatched             int // folders without an inotify watch

	// pending holds, per folder, the names an event touched since the last
	// refresh, with the events' masks OR-ed ("": the folder itself); stash
	// holds folders moved out of their parent, by rename
	// cookie, until the other half arrives.
	pending map[*dirNode]map[string]uint32
	stash   map[uint32]*dirNode
	// moved holds files renamed away by cookie (stashFile), for the
	// other half to move without a lookup (moveFile).
	moved map[uint32]movedFile
	// needRewalk is set when events were lost (queue overflow) or the root
	// itself went away: only a new walk is exact again.
	needRewalk bool
}

// dirNode is one folder of the tree.
type dirNode struct {
	parent  *dirNode
	name    string
	key     uint64 // hash of name, its key in parent.subdirs
	ino     uint64
	blocks  uint64
	wd      int32             // inotify watch, -1 when none
	files   map[uint64]uint64 // name hash → inode
	subdirs map[uint64]*dirNode
	removed bool
	stale   int // refreshes in a row its path did not lead to it
}

const (
	refBits = 24
	refMask = 1<<refBits - 1
)

func newDirIndex(rootPath string, rootIno, rootBlocks uint64) *dirIndex {
	ix := &dirIndex{
		rootPath: rootPath, seed: maphash.MakeSeed(),
		inodes: map[uint64]uint64{}, byWD: map[int32]*dirNode{},
		pending: map[*dirNode]map[string]uint32{}, stash: map[uint32]*dirNode{},
		moved: map[uint32]movedFile{},
	}
	ix.root = &dirNode{ino: rootIno, blocks: rootBlocks, wd: -1}
	ix.dirBlocks, ix.dirs, ix.unwatched = rootBlocks, 1, 1
	return ix
}

// bytes is the tree's allocated space, as du -sB1 reports it.
func (ix *dirIndex) bytes() uint64 { return (ix.dirBlocks + ix.fileBlocks) * 512 }

// entries is what --max-files bounds: file names plus folders.
func (ix *dirIndex) entries() int { return ix.names + ix.dirs }

func (ix *dirIndex) hash(name string) uint64 { return maphash.String(ix.seed, name) }

// path rebuilds a folder's path from the root.
func (ix *dirIndex) path(d *dirNode) string {
	if d.parent == nil {
		return ix.rootPath
	}
	return ix.rootPath + "/" + ix.relPath(d)
}

// relPath is a folder's path relative to the root ("." for the root).
func (ix *dirIndex) relPath(d *dirNode) string {
	if d.parent == nil {
		return "."
	}
	n := 0
	for e := d; e.parent != nil; e = e.parent {
		n += len(e.name) + 1
	}
	b := make([]byte, n-1)
	for e := d; e.parent != nil; e = e.parent {
		n -= len(e.name) + 1
		copy(b[n:], e.name)
		if n > 0 {
			b[n-1] = '/'
		}
	}
	return string(b)
}

// depth counts a folder's ancestors.
func (d *dirNode) depth() int {
	n := 0
	for ; d.parent != nil; d = d.parent {
		n++
	}
	return n
}

// setWatch records the folder's inotify watch (-1: none).
func (ix *dirIndex) setWatch(d *dirNode, wd int32) {
	if d.wd >= 0 {
		delete(ix.byWD, d.wd)
		ix.unwatched++
	}
	d.wd = wd
	if wd >= 0 {
		ix.byWD[wd] = d
		ix.unwatched--
	}
}

// setFile records that name in d is the non-folder inode ino of blocks.
func (ix *dirIndex) setFile(d *dirNode, name string, ino, blocks uint64) {
	key := ix.hash(name)
	if sub := d.subdirs[key]; sub != nil {
		ix.removeSubtree(sub)
	}
	if d.files == nil {
		d.files = map[uint64]uint64{}
	}
	old, had := d.files[key]
	switch {
	case had && old == ino:
		ix.setInodeBlocks(ino, blocks)
		return
	case had:
		ix.unref(old)
	default:
		ix.names++
	}
	d.files[key] = ino
	ix.ref(ino, blocks)
}

// addDir records a new folder name in d (replacing whatever had that name)
// and returns it.
func (ix *dirIndex) addDir(d *dirNode, name string, ino, blocks uint64) *dirNode {
	key := ix.hash(name)
	ix.removeKey(d, key)
	sub := &dirNode{parent: d, name: name, key: key, ino: ino, blocks: blocks, wd: -1}
	if d.subdirs == nil {
		d.subdirs = map[uint64]*dirNode{}
	}
	d.subdirs[key] = sub
	ix.dirBlocks += blocks
	ix.dirs++
	ix.unwatched++
	return sub
}

// setDirBlocks updates a folder's own blocks.
func (ix *dirIndex) setDirBlocks(d *dirNode, blocks uint64) {
	ix.dirBlocks += blocks - d.blocks
	d.blocks = blocks
}

// removeName forgets whatever name was in d.
func (ix *dirIndex) removeName(d *dirNode, name string) { ix.removeKey(d, ix.hash(name)) }

func (ix *dirIndex) removeKey(d *dirNode, key uint64) {
	if ino, ok := d.files[key]; ok {
		delete(d.files, key)
		ix.names--
		ix.unref(ino)
	}
	if sub := d.subdirs[key]; sub != nil {
		ix.removeSubtree(sub)
	}
}

// detach takes folder sub out of its parent, still counted, until attach
// puts it back under another name or removeSubtree drops it.
func (ix *dirIndex) detach(sub *dirNode) {
	if sub.parent != nil && sub.parent.subdirs[sub.key] == sub {
		delete(sub.parent.subdirs, sub.key)
	}
	sub.parent = nil
}

// attach puts a detached folder under d as name, replacing that name.
func (ix *dirIndex) attach(d *dirNode, name string, sub *dirNode) {
	key := ix.hash(name)
	ix.removeKey(d, key)
	sub.parent, sub.name, sub.key = d, name, key
	if d.subdirs == nil {
		d.subdirs = map[uint64]*dirNode{}
	}
	d.subdirs[key] = sub
}

// removeSubtree forgets folder sub and everything under it.
func (ix *dirIndex) removeSubtree(sub *dirNode) {
	ix.detach(sub)
	stack := []*dirNode{sub}
	for len(stack) > 0 {
		d := stack[len(stack)-1]
		stack = stack[:len(stack)-1]
		for _, ino := range d.files {
			ix.unref(ino)
		}
		ix.names -= len(d.files)
		for _, s := range d.subdirs {
			stack = append(stack, s)
		}
		ix.setWatch(d, -1)
		ix.unwatched--
		ix.dirBlocks -= d.blocks
		ix.dirs--
		d.removed, d.files, d.subdirs = true, nil, nil
		delete(ix.pending, d)
	}
}

func (ix *dirIndex) ref(ino, blocks uint64) {
	v, ok := ix.inodes[ino]
	if !ok {
		ix.inodes[ino] = blocks<<refBits | 1
		ix.fileBlocks += blocks
		return
	}
	ix.fileBlocks += blocks - v>>refBits
	ix.inodes[ino] = blocks<<refBits | (v&refMask + 1)
}

func (ix *dirIndex) unref(ino uint64) {
	v, ok := ix.inodes[ino]
	if !ok {
		return
	}
	if v&refMask <= 1 {
		delete(ix.inodes, ino)
		ix.fileBlocks -= v >> refBits
		return
	}
	ix.inodes[ino] = v - 1
}

func (ix *dirIndex) setInodeBlocks(ino, blocks uint64) {
	if v, ok := ix.inodes[ino]; ok {
		ix.fileBlocks += blocks - v>>refBits
		ix.inodes[ino] = blocks<<refBits | v&refMask
	}
}

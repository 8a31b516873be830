package checkscript

import (
	"cmp"
	"slices"
	"sync/atomic"
	"unsafe"

	"golang.org/x/sys/unix"
)

// listArena holds the folders' file lists in 64 KiB chunks, one list after
// the other, mapped outside the Go heap (anonymous mmap(2)).
//
// Outside the heap because the lists are most of a big tree (6 bytes a
// file) and hold no pointer: on the heap the collector would pace on them,
// letting the heap grow by GOGC % of the whole tree before it runs (at the
// daemon's 10 %, 3 MB for 5,000,000 files), and freed chunks would wait
// for a collection and the scavenger before the kernel got them back. Here
// a chunk is the kernel's as soon as it is unmapped. In chunks because a
// list of its own would round up to a size class, and the holes between
// lists would fragment memory.
//
// A list that outgrows its place moves, and the place left is counted as
// dead: a burst of 50,000 changes at 5,000,000 files leaves about 10 MB of
// them. So once a 64th of the arena is dead, compact slides the lists
// down in place and unmaps the chunks left empty, with no second copy of
// the tree at any time, between two folders' lookups: 21 compactions of
// 8–37 ms in that burst (deploy/bench/dirsize.sh). At a 16th, dead places
// could reach 1.9 MB, as much more of the daemon's peak, for a quarter of
// the compactions. A folder's list over a quarter of a chunk lives on the
// heap.
type listArena struct {
	chunks     []arenaChunk // in the order mapped; the current one last
	chunk      []uint16     // what is left of the current chunk
	used, dead int          // uint16s handed out, of which no longer used
	// compact's folders in address order, reused by the compactions of a
	// burst (a folder pointer each: 440 KB at 5,000,000 files, 21 times in
	// dirsize.sh's burst); dropped at the end of a refresh.
	order []*dirNode
}

// arenaChunk is one chunk of a listArena.
type arenaChunk struct {
	mem    []uint16
	mapped bool // by mmap (else on the heap: no mapping was left)
}

const arenaChunkLen = 32 << 10 // uint16s: 64 KiB

// listSpare is the room for one more entry that a list gets when it is
// read or compacted: a burst of changes mostly adds a file or two to many
// folders, and without it every folder's first new file moved its whole
// list (about 30,000 moves, 16 MiB of dead places, in a burst of 50,000 changes
// at 5,000,000 files). 6 bytes a folder.
const listSpare = 3

// dirArenaBytes is what every tree maps outside the heap (its arena and
// its offHeap tables), in bytes (BenchmarkDirsize adds it to the heap to
// give a tree's memory).
var dirArenaBytes atomic.Int64

func newArenaChunk() arenaChunk {
	p, err := unix.MmapPtr(-1, 0, nil, arenaChunkLen*2, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	if err != nil {
		return arenaChunk{mem: make([]uint16, arenaChunkLen)}
	}
	dirArenaBytes.Add(arenaChunkLen * 2)
	return arenaChunk{mem: unsafe.Slice((*uint16)(p), arenaChunkLen), mapped: true}
}

func (c arenaChunk) release() {
	if c.mapped {
		unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(c.mem)), arenaChunkLen*2)
		dirArenaBytes.Add(-arenaChunkLen * 2)
	}
}

// alloc returns an empty list of capacity n.
func (a *listArena) alloc(n int) fileList {
	if n == 0 {
		return nil
	}
	if n > arenaChunkLen/4 {
		return make(fileList, 0, n) // a big folder's: on the heap
	}
	if n > len(a.chunk) {
		a.dead += len(a.chunk)
		c := newArenaChunk()
		a.chunks, a.chunk = append(a.chunks, c), c.mem
	}
	l := a.chunk[:0:n]
	a.chunk, a.used = a.chunk[n:], a.used+n
	return l
}

// inArena reports whether a list's place is in the arena.
func inArena(l fileList) bool { return cap(l) > 0 && cap(l) <= arenaChunkLen/4 }

// free counts the place of a list no longer used.
func (a *listArena) free(l fileList) {
	if inArena(l) {
		a.dead += cap(l)
	}
}

// release unmaps every chunk: the tree is dropped, and no list of it may
// be used after.
func (a *listArena) release() {
	for _, c := range a.chunks {
		c.release()
	}
	*a = listArena{}
}

// compact slides every list down to the start of the arena once a 64th
// of it (and a chunk at least) is dead places, and unmaps the
// chunks left empty. Every list in the arena must be in a folder under the
// root: no folder detached by a rename whose other half has not come
// (fold ends them all).
func (t *dirTree) compact() {
	a := &t.lists
	if a.dead < arenaChunkLen || a.dead < a.used/64 {
		return
	}
	addr := func(s []uint16) uintptr { return uintptr(unsafe.Pointer(unsafe.SliceData(s))) }
	lists := slices.Grow(a.order[:0], t.dirs)
	for d := range t.root.all() {
		if inArena(d.files) {
			lists = append(lists, d)
		}
	}
	// In address order, each list moves to a place at or below its own:
	// copy (memmove) never overwrites a list not moved yet.
	slices.SortFunc(lists, func(x, y *dirNode) int { return cmp.Compare(addr(x.files), addr(y.files)) })
	slices.SortFunc(a.chunks, func(x, y arenaChunk) int { return cmp.Compare(addr(x.mem), addr(y.mem)) })
	w, off, used := 0, 0, 0
	for _, d := range lists {
		n := len(d.files)
		if n == 0 {
			d.files = nil
			continue
		}
		c := min(n+listSpare, cap(d.files)) // never more than it had: slides down only
		if off+c > arenaChunkLen {
			w, off = w+1, 0
		}
		dst := a.chunks[w].mem[off : off+n : off+c]
		copy(dst, d.files)
		d.files, off, used = dst, off+c, used+c
	}
	clear(lists) // no folder kept alive by the array
	a.order = lists
	for _, c := range a.chunks[w+1:] {
		c.release()
	}
	a.chunks = a.chunks[:w+1]
	a.chunk, a.used, a.dead = a.chunks[w].mem[off:], used, 0
}

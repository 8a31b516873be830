package checkscript

import "math"

// linkTable holds a tree's inodes with several links, each counted once
// however many of its names the tree holds (as du counts them). A file
// entry of such a name keeps the inode's place in the table (28 bits), so
// places never move; a place left by an inode whose last name went is
// reused.
//
// 20 bytes an inode, and 4–8 more for the buckets, both outside the heap
// (offHeap): 1 % of a mailstore's messages are links (47,050 inodes at
// 5,000,000 files in deploy/bench/mailstore-tree.sh's tree, and 10,000 more
// a burst of its changes). The inode is found by a chain in its bucket,
// threaded through the places (next), rather than by a table of its own
// beside them: no slot left empty for probing, and a growth of the buckets
// is rebuilt from the places after the old buckets are unmapped, so no
// two arrays are ever mapped at once (a table of slots at most half full
// took 8–16 bytes an inode, and a growth held the old and the new one).
type linkTable struct {
	places   []linkedInode
	placeMem offHeap
	buckets  []uint32 // the first place + 1 of each bucket's chain; 0: empty
	buckMem  offHeap
	free     []uint32 // places with no inode
	n        int      // inodes held
	// huge holds the blocks of the places whose blocks do not fit 32 bits
	// (2 TiB and over).
	huge map[uint32]uint64
}

// linkedInode is one place of a linkTable. 32-bit fields only: 20 bytes.
type linkedInode struct {
	inoLo, inoHi uint32
	blocks       uint32 // 512-byte blocks; hugeBlocks: in linkTable.huge
	names        uint32 // in the tree; 0: a free place
	next         uint32 // the next place + 1 in the bucket's chain; 0: none
}

const hugeBlocks = math.MaxUint32

func (li *linkedInode) ino() uint64 { return uint64(li.inoHi)<<32 | uint64(li.inoLo) }

// release unmaps the table; it is empty after.
func (x *linkTable) release() {
	releaseOffHeap(&x.placeMem, x.places)
	releaseOffHeap(&x.buckMem, x.buckets)
	*x = linkTable{}
}

// bucket returns ino's bucket (Fibonacci hashing: the product's bits
// from the 33rd up).
func (x *linkTable) bucket(ino uint64) int {
	return int((ino * 0x9e3779b97f4a7c15) >> 32 & uint64(len(x.buckets)-1))
}

// find returns the place of ino.
func (x *linkTable) find(ino uint64) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	for p := x.buckets[x.bucket(ino)]; p != 0; p = x.places[p-1].next {
		if x.places[p-1].ino() == ino {
			return p - 1, true
		}
	}
	return 0, false
}

// of returns the place of ino (added if new) with blocks, one more of its
// names counted.
func (x *linkTable) of(ino, blocks uint64) uint32 {
	at, ok := x.find(ino)
	if !ok {
		if n := len(x.free); n > 0 {
			at, x.free = x.free[n-1], x.free[:n-1]
		} else {
			if n := len(x.places); n == cap(x.places) { // grown by an eighth
				x.places = growOffHeap(&x.placeMem, x.places, n+n/8+16)
			}
			at, x.places = uint32(len(x.places)), append(x.places, linkedInode{})
		}
		x.places[at] = linkedInode{inoLo: uint32(ino), inoHi: uint32(ino >> 32)}
		x.n++
		if x.n > len(x.buckets) {
			x.rebucket(max(1024, 2*len(x.buckets))) // a page at least
		}
		x.chain(at)
	}
	x.setBlocks(at, blocks)
	x.places[at].names++
	return at
}

// chain puts place at first in its inode's bucket.
func (x *linkTable) chain(at uint32) {
	b := x.bucket(x.places[at].ino())
	x.places[at].next, x.buckets[b] = x.buckets[b], at+1
}

// rebucket maps n empty buckets, the old ones unmapped first, and chains
// every inode again.
func (x *linkTable) rebucket(n int) {
	releaseOffHeap(&x.buckMem, x.buckets)
	x.buckets = growOffHeap(&x.buckMem, []uint32(nil), n)[:n]
	for at := range x.places {
		if x.places[at].names > 0 {
			x.chain(uint32(at))
		}
	}
}

// unlink counts one name of the inode at place at less; the place is
// freed with its last.
func (x *linkTable) unlink(at uint32) {
	li := &x.places[at]
	if li.names--; li.names > 0 {
		return
	}
	for p := &x.buckets[x.bucket(li.ino())]; *p != 0; p = &x.places[*p-1].next {
		if *p == at+1 {
			*p = li.next
			break
		}
	}
	if li.blocks == hugeBlocks {
		delete(x.huge, at)
	}
	*li = linkedInode{}
	x.free = append(x.free, at)
	x.n--
}

// blocks returns the blocks of the inode at place at.
func (x *linkTable) blocks(at uint32) uint64 {
	if b := x.places[at].blocks; b != hugeBlocks {
		return uint64(b)
	}
	return x.huge[at]
}

func (x *linkTable) setBlocks(at uint32, blocks uint64) {
	if blocks < hugeBlocks {
		if x.places[at].blocks == hugeBlocks {
			delete(x.huge, at)
		}
		x.places[at].blocks = uint32(blocks)
		return
	}
	if x.huge == nil {
		x.huge = map[uint32]uint64{}
	}
	x.places[at].blocks, x.huge[at] = hugeBlocks, blocks
}

package checkscript

// linkIndex finds an inode's place in dirTree.linked by its number: open
// addressing with linear probing on a table at most half full, 8–16 bytes
// an inode where a Go map takes 20–40 (1 % of a mailstore's messages are
// links: 50,000 inodes at 5,000,000 files), outside the heap (offHeap).
type linkIndex struct {
	slots []uint32 // a place + 1; 0: empty
	mem   offHeap  // slots' array
	n     int
}

// release unmaps the index.
func (x *linkIndex) release() {
	releaseOffHeap(&x.mem, x.slots)
	*x = linkIndex{}
}

func (x *linkIndex) home(ino uint64) int {
	return int((ino * 0x9e3779b97f4a7c15) >> 32 & uint64(len(x.slots)-1))
}

// find returns the place of ino.
func (x *linkIndex) find(linked []linkedInode, ino uint64) (uint32, bool) {
	if x.n == 0 {
		return 0, false
	}
	mask := len(x.slots) - 1
	for i := x.home(ino); x.slots[i] != 0; i = (i + 1) & mask {
		if at := x.slots[i] - 1; linked[at].ino == ino {
			return at, true
		}
	}
	return 0, false
}

// add records place at, whose inode linked[at].ino is not in the index.
func (x *linkIndex) add(linked []linkedInode, at uint32) {
	if 2*(x.n+1) > len(x.slots) {
		old, oldMem := x.slots, x.mem
		x.mem = offHeap{}
		n := max(1024, 2*len(old)) // a page at least
		x.slots = growOffHeap(&x.mem, []uint32(nil), n)[:n]
		for _, s := range old {
			if s != 0 {
				x.put(linked[s-1].ino, s)
			}
		}
		releaseOffHeap(&oldMem, old)
	}
	x.put(linked[at].ino, at+1)
	x.n++
}

func (x *linkIndex) put(ino uint64, slot uint32) {
	mask := len(x.slots) - 1
	i := x.home(ino)
	for x.slots[i] != 0 {
		i = (i + 1) & mask
	}
	x.slots[i] = slot
}

// remove forgets ino, shifting back the entries that probed past it.
func (x *linkIndex) remove(linked []linkedInode, ino uint64) {
	at, ok := x.find(linked, ino)
	if !ok {
		return
	}
	mask := len(x.slots) - 1
	i := x.home(ino)
	for x.slots[i] != at+1 {
		i = (i + 1) & mask
	}
	for j := (i + 1) & mask; x.slots[j] != 0; j = (j + 1) & mask {
		// The entry at j may fill the hole at i unless its home lies
		// cyclically in (i, j].
		if h := x.home(linked[x.slots[j]-1].ino); (j-h)&mask >= (j-i)&mask {
			x.slots[i], i = x.slots[j], j
		}
	}
	x.slots[i] = 0
	x.n--
}

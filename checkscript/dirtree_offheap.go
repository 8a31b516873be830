package checkscript

import (
	"unsafe"

	"golang.org/x/sys/unix"
)

// offHeap is the anonymous mapping (mmap(2)) that holds a slice's backing
// array outside the Go heap: the tree's table of inodes with several links
// and its buckets. Like the file lists (listArena), they hold no pointer and
// live as long as the tree, so on the heap they would only add to what the
// collector paces on: the heap may grow by GOGC % of them before it runs.
// And a table grown on the heap is copied, the old array left as garbage
// until a collection and the scavenger give it back: in a burst of
// changes making new links (10,000 in BenchmarkDirsize's 50,000 at
// 5,000,000 files) that was a 1.2 MB array a growth. Here a growth is
// mremap(2): the pages move, nothing is copied, nothing is left behind.
//
// The zero offHeap maps nothing. Where mapping fails, the slice falls
// back on the heap.
type offHeap struct {
	bytes uintptr // mapped; 0: none (a nil slice, or one on the heap)
}

// growOffHeap returns s (held by m) with room for n elements at least,
// the new ones zero. T must hold no pointer: the collector does not look
// into the mapping.
func growOffHeap[T any](m *offHeap, s []T, n int) []T {
	if n <= cap(s) {
		return s
	}
	size := unsafe.Sizeof(*new(T))
	page := uintptr(unix.Getpagesize())
	bytes := (uintptr(n)*size + page - 1) &^ (page - 1)
	var p unsafe.Pointer
	var err error
	if m.bytes > 0 {
		p, err = unix.MremapPtr(unsafe.Pointer(unsafe.SliceData(s)), m.bytes, nil, bytes, unix.MREMAP_MAYMOVE)
	} else {
		p, err = unix.MmapPtr(-1, 0, nil, bytes, unix.PROT_READ|unix.PROT_WRITE, unix.MAP_PRIVATE|unix.MAP_ANONYMOUS)
	}
	if err != nil { // on the heap, then
		h := append(make([]T, 0, n), s...)
		releaseOffHeap(m, s)
		return h
	}
	if m.bytes == 0 && len(s) > 0 { // it was on the heap
		copy(unsafe.Slice((*T)(p), len(s)), s)
	}
	dirArenaBytes.Add(int64(bytes) - int64(m.bytes))
	m.bytes = bytes
	return unsafe.Slice((*T)(p), bytes/size)[:len(s)]
}

// releaseOffHeap unmaps s's array; s must not be used after.
func releaseOffHeap[T any](m *offHeap, s []T) {
	if m.bytes > 0 {
		unix.MunmapPtr(unsafe.Pointer(unsafe.SliceData(s[:cap(s)])), m.bytes)
		dirArenaBytes.Add(-int64(m.bytes))
	}
	m.bytes = 0
}

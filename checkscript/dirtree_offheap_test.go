package checkscript

import (
	"testing"
)

// TestOffHeapGrowKeepsEntries: a table grown outside the heap keeps its
// entries, whether it starts empty, on the heap (a fallback), or mapped
// (mremap, possibly moving it), until released. (dirArenaBytes is not
// checked: keepers of other tests may still map or unmap meanwhile.)
func TestOffHeapGrowKeepsEntries(t *testing.T) {
	type place struct {
		ino   uint64
		names uint32
	}
	for _, tc := range []struct {
		name  string
		start []place
		grows []int
	}{
		{"from nothing", nil, []int{1, 170, 171, 100000}},
		{"from the heap", []place{{ino: 7, names: 2}}, []int{2, 5000}},
		{"never smaller", nil, []int{1000, 10}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var m offHeap
			s := tc.start
			for _, n := range tc.grows {
				s = growOffHeap(&m, s, n)
				if cap(s) < n {
					t.Fatalf("grown to %d: cap %d", n, cap(s))
				}
				for i := len(s); i < n && i < cap(s); i++ {
					s = append(s, place{ino: uint64(i) + 1000, names: 1})
				}
				for i, li := range s {
					want := uint64(i) + 1000
					if tc.start != nil && i < len(tc.start) {
						want = tc.start[i].ino
					}
					if li.ino != want {
						t.Fatalf("after growing to %d: entry %d is %+v", n, i, li)
					}
				}
			}
			if m.bytes == 0 {
				t.Errorf("nothing mapped")
			}
			releaseOffHeap(&m, s)
			if m.bytes != 0 {
				t.Errorf("after release: %d bytes mapped", m.bytes)
			}
		})
	}
}

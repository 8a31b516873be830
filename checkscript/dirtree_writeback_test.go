package checkscript

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// Blocks a file gets at writeback, without an event: on ext4 a file
// appended to in five separately written bursts gets an extent per burst,
// and its fifth extent a block of the extent tree when the kernel writes
// it back, after the tree looked the file up. The keeper looks every file
// changed (or renamed without a lookup) up again once writeback is due,
// here after 1 s instead of the kernel's 35. Driven step by step on a
// keeper of a real tree; the writeback is syncfs(2). Files of four blocks
// or fewer cannot have five extents: they are not queued.
func TestDirsizeBlocksAddedAtWriteback(t *testing.T) {
	for _, tc := range []struct {
		name   string
		rename bool // after its lookup, into another folder: moved without one
		queue  int  // files the queue holds before it holds their folders
	}{
		{"appended in place", false, 1 << 16},
		{"appended, then renamed into another folder", true, 1 << 16},
		{"more files than the queue holds: their folders read again", false, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			defer func(n int) { maxRechecks = n }(maxRechecks)
			maxRechecks = tc.queue
			root := t.TempDir()
			must(t, os.MkdirAll(filepath.Join(root, "store"), 0o755))
			var names []string
			for i := 0; i < 20; i++ {
				names = append(names, filepath.Join(root, "incoming", fmt.Sprintf("f%d", i)))
				writeFile(t, names[i], 0)
			}
			syncfs := func() {
				t.Helper()
				fd, err := unix.Open(root, unix.O_RDONLY|unix.O_DIRECTORY, 0)
				must(t, err)
				defer unix.Close(fd)
				must(t, unix.Syncfs(fd))
			}
			k := &dirKeeper{root: root, opts: dirKeeperOptions{maxQueue: 1000}, figures: map[string]dirFigure{},
				req: make(chan dirRequest, 1), trees: &dirTrees{}, writeback: time.Second}
			ctx := context.Background()
			must(t, k.build(ctx))
			defer k.close()
			refresh := func() {
				t.Helper()
				time.Sleep(100 * time.Millisecond) // the events
				must(t, k.refresh(ctx, true))
			}
			// Interleaved, each file's bursts are not contiguous on disk.
			for burst := 0; burst < 5; burst++ {
				for _, n := range names {
					appendFile(t, n, 4096)
				}
				if burst < 4 {
					syncfs()
				}
			}
			refresh()
			if tc.rename {
				for i, n := range names {
					names[i] = filepath.Join(root, "store", filepath.Base(n))
					must(t, os.Rename(n, names[i]))
				}
				refresh()
			}
			before := duBytes(t, root)
			if got := k.figure(root).Bytes; got != before {
				t.Fatalf("before the writeback: dirsize %d, du -sxB1 %d", got, before)
			}
			syncfs()
			after := duBytes(t, root)
			var fs unix.Statfs_t
			must(t, unix.Statfs(root, &fs))
			if fs.Type == unix.EXT4_SUPER_MAGIC && after == before {
				t.Fatalf("on ext4, no block came at writeback (du -sxB1 %d before and after): the case is not made", before)
			}
			t.Logf("du -sxB1 %d before the writeback, %d after", before, after)
			var got uint64
			for end := time.Now().Add(5 * time.Second); time.Now().Before(end); time.Sleep(200 * time.Millisecond) {
				must(t, k.refresh(ctx, true))
				if got = k.figure(root).Bytes; got == after {
					return
				}
			}
			t.Fatalf("5 s after the writeback: dirsize %d, du -sxB1 %d", got, after)
		})
	}
}

package checkscript

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// startDirsize builds the probe as the TTL runner does (New, then Start
// once) and returns it; its keeper ends with the test.
func startDirsize(t *testing.T, args ...string) Check {
	t.Helper()
	c, err := testProbes.New("dirsize", args)
	must(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	c.(Starter).Start(ctx)
	return c
}

// The index stays equal to du -sxB1 through every kind of change, inside
// the tree and across its border, with every folder watched and with
// inotify watches for only a few folders (the rest rescanned in turn);
// measured right after the changes, and once the keeper has looked the
// changed names up between runs.
func TestDirsizeIndexFollowsChanges(t *testing.T) {
	for _, tc := range []struct {
		name  string
		args  []string
		quiet time.Duration // between the changes and the run
	}{
		{"inotify", nil, 0},
		{"inotify, looked up between runs", nil, 3 * lookupSettle},
		{"watch limit", []string{"--max-watches", "3", "--rescan", "100000"}, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			root := filepath.Join(t.TempDir(), "store")
			outside := t.TempDir()
			makeTree(t, root)
			c := startDirsize(t, append([]string{"-p", root, "--rate", "0", "-t", "30"}, tc.args...)...)
			check := func(step string) {
				t.Helper()
				r := runDirsize(t, c)
				if got, want := bytesOf(t, r), duBytes(t, root); got != want {
					t.Fatalf("after %s: dirsize %d, du -sxB1 %d (%s)", step, got, want, r)
				}
				want := tc.name == "watch limit" && step != "everything deleted" // then the root alone is left
				if unwatched := strings.Contains(r.Summary, "beyond the inotify watch limit"); unwatched != want {
					t.Errorf("after %s: unwatched folders said %v, want %v: %s", step, unwatched, !unwatched, r)
				}
			}
			check("first walk")
			p := func(rel string) string { return filepath.Join(root, rel) }
			for _, step := range []struct {
				name string
				do   func()
			}{
				{"creates", func() {
					for i := 0; i < 20; i++ {
						writeFile(t, p(fmt.Sprintf("d3/new%d", i)), i*1000)
					}
					writeFile(t, p("brand/new/folder/f"), 9000)
				}},
				{"appends", func() {
					appendFile(t, p("d0/s0/f0"), 70000)
					appendFile(t, p("d2/hard"), 30000) // through a hard link
				}},
				{"truncate", func() { must(t, os.Truncate(p("d4/s1/f1"), 0)) }},
				{"deletes", func() {
					must(t, os.Remove(p("d5/s0/f0")))
					must(t, os.RemoveAll(p("d5/s1")))
				}},
				{"file rename in the tree", func() { must(t, os.Rename(p("d1/s1/f1"), p("d4/moved"))) }},
				{"file rename over another", func() { must(t, os.Rename(p("d4/moved"), p("d4/s0/f0"))) }},
				{"folder rename in the tree", func() {
					must(t, os.Rename(p("d3"), p("empty/deeper/d3")))
					appendFile(t, p("empty/deeper/d3/new5"), 10000) // under its new path
				}},
				{"folder rename out of the tree", func() { must(t, os.Rename(p("d2"), filepath.Join(outside, "d2"))) }},
				{"folder rename into the tree", func() {
					writeFile(t, filepath.Join(outside, "in/a/b"), 12345)
					must(t, os.Rename(filepath.Join(outside, "in"), p("in")))
				}},
				{"file rename out of and into the tree", func() {
					must(t, os.Rename(p("d0/s1/f1"), filepath.Join(outside, "f1")))
					writeFile(t, filepath.Join(outside, "g"), 33333)
					must(t, os.Rename(filepath.Join(outside, "g"), p("d0/g")))
				}},
				{"hard links", func() {
					must(t, os.Link(p("d0/g"), p("d1/g-again")))       // in the tree
					must(t, os.Link(p("d4/s0/f0"), p("in/a/f0-link"))) // was single, now linked
					must(t, os.Link(filepath.Join(outside, "d2/hard"), p("d1/from-outside")))
				}},
				{"hard link removed", func() { must(t, os.Remove(p("d0/g"))) }},
				{"written through a link, then that name removed", func() {
					appendFile(t, p("in/a/f0-link"), 20000) // d4/s0/f0's folder sees nothing
					must(t, os.Remove(p("in/a/f0-link")))
				}},
				{"moved folder's files change", func() {
					must(t, os.Rename(p("empty"), p("d1/empty")))
					must(t, os.Remove(p("d1/empty/deeper/d3/new7")))
					writeFile(t, p("d1/empty/deeper/d3/again"), 5000)
				}},
				{"everything deleted", func() {
					entries, err := os.ReadDir(root)
					must(t, err)
					for _, e := range entries {
						must(t, os.RemoveAll(p(e.Name())))
					}
				}},
			} {
				step.do()
				time.Sleep(tc.quiet)
				check(step.name)
			}
		})
	}
}

// close ends the reader waiting in poll(2) and may be called again.
func TestDirInotifyClose(t *testing.T) {
	in, err := newDirInotify(0, 16)
	must(t, err)
	if _, err := in.watch(-1, t.TempDir()); err != nil {
		t.Fatal(err)
	}
	done := in.done
	in.close()
	select {
	case <-done:
	default:
		t.Fatal("the reader still runs after close")
	}
	in.close()
}

// Beyond --max-files the in-process check holds no index: it measures by
// full walks (every --fallback-every) and says so; the one-shot command is
// not bounded (it keeps no index).
func TestDirsizeMaxFiles(t *testing.T) {
	root := t.TempDir()
	makeTree(t, root)
	c := startDirsize(t, "-p", root, "--rate", "0", "--max-files", "10", "--fallback-every", "1h", "-t", "30")
	r := runDirsize(t, c)
	if got, want := bytesOf(t, r), duBytes(t, root); got != want || !strings.Contains(r.Summary, "over --max-files 10: not indexed, a full walk every 1h0m0s") {
		t.Fatalf("got %s, want du's %d B and the fallback said", r, want)
	}
	one, err := testProbes.New("dirsize", []string{"-p", root, "--rate", "0", "--max-files", "10"})
	must(t, err)
	if got, want := bytesOf(t, runDirsize(t, one)), duBytes(t, root); got != want {
		t.Fatalf("one-shot dirsize %d, du %d", got, want)
	}
}

// A root that disappears is critical; once back, it is measured again.
func TestDirsizeRootComesAndGoes(t *testing.T) {
	root := filepath.Join(t.TempDir(), "cache")
	makeTree(t, root)
	c := startDirsize(t, "-p", root, "--rate", "0")
	if got, want := bytesOf(t, runDirsize(t, c)), duBytes(t, root); got != want {
		t.Fatalf("dirsize %d, du %d", got, want)
	}
	must(t, os.RemoveAll(root))
	if r := runDirsize(t, c); r.Status != Critical || !strings.Contains(r.Summary, "not accessible") {
		t.Fatalf("root removed: got %s, want CRITICAL", r)
	}
	makeTree(t, root)
	writeFile(t, filepath.Join(root, "more"), 100000)
	if got, want := bytesOf(t, runDirsize(t, c)), duBytes(t, root); got != want {
		t.Fatalf("root back: dirsize %d, du %d", got, want)
	}
}

func TestParseInotify(t *testing.T) {
	// Two records as the kernel writes them: the name padded with NULs.
	rec := func(wd, mask, cookie uint32, name string) []byte {
		n := (len(name) + 16) / 16 * 16
		if name == "" {
			n = 0
		}
		b := make([]byte, 16+n)
		for i, v := range []uint32{wd, mask, cookie, uint32(n)} {
			b[i*4], b[i*4+1], b[i*4+2], b[i*4+3] = byte(v), byte(v>>8), byte(v>>16), byte(v>>24)
		}
		copy(b[16:], name)
		return b
	}
	buf := append(rec(1, 0x100, 0, "new-file"), rec(2, 0x400, 7, "")...)
	buf = append(buf, 1, 2, 3) // a torn record is left out
	got := parseInotify(buf, nil)
	want := []inotifyEvent{{wd: 1, mask: 0x100, name: "new-file"}, {wd: 2, mask: 0x400, cookie: 7}}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Fatalf("got %v, want %v", got, want)
	}
}

// When the event queue overflows, the keeper walks again: the answer is
// still du's.
func TestDirsizeEventsLostMeansANewWalk(t *testing.T) {
	root := t.TempDir()
	makeTree(t, root)
	k := newDirKeeper(root, dirKeeperOptions{maxQueue: 4, rescan: 1000, every: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go k.run(ctx)
	measure := func() uint64 {
		mctx, mcancel := context.WithTimeout(ctx, 30*time.Second)
		defer mcancel()
		s := k.measure(mctx)
		if !s.Settled {
			t.Fatalf("not settled: %+v", s)
		}
		return s.Bytes
	}
	if got, want := measure(), duBytes(t, root); got != want {
		t.Fatalf("first walk %d, du %d", got, want)
	}
	for i := 0; i < 50; i++ {
		writeFile(t, filepath.Join(root, fmt.Sprintf("d0/burst%d", i)), i*100)
	}
	if got, want := measure(), duBytes(t, root); got != want {
		t.Fatalf("after a burst over the queue: %d, du %d", got, want)
	}
}

// The pure bookkeeping: a folder renamed inside the tree keeps its node
// and watch; one renamed out is dropped with its watches; hard links count
// once.
func TestDirIndexApplyEvents(t *testing.T) {
	ix := newDirIndex("/r", 1, 8)
	ix.setWatch(ix.root, 1)
	a := ix.addDir(ix.root, "a", 2, 8)
	ix.setWatch(a, 2)
	b := ix.addDir(ix.root, "b", 3, 8)
	ix.setWatch(b, 3)
	c := ix.addDir(a, "c", 4, 8)
	ix.setWatch(c, 4)
	ix.setFile(c, "f", 100, 16)
	ix.setFile(b, "g", 100, 16) // a hard link of f
	ix.setFile(b, "h", 101, 24)
	if got, want := ix.bytes(), uint64((4*8+16+24)*512); got != want {
		t.Fatalf("bytes %d, want %d", got, want)
	}
	dropped := ix.applyEvents([]inotifyEvent{
		{wd: 2, mask: unix.IN_MOVED_FROM | unix.IN_ISDIR, cookie: 7, name: "c"}, // a/c → b/c2
		{wd: 3, mask: unix.IN_MOVED_TO | unix.IN_ISDIR, cookie: 7, name: "c2"},
		{wd: 1, mask: unix.IN_MOVED_FROM | unix.IN_ISDIR, cookie: 8, name: "a"}, // a → out of the tree
		{wd: 3, mask: unix.IN_DELETE, name: "h"},
	})
	if len(dropped) != 1 || dropped[0] != 2 {
		t.Errorf("dropped watches %v, want [2]", dropped)
	}
	if c.parent != b || c.name != "c2" || ix.byWD[4] != c || ix.path(c) != "/r/b/c2" {
		t.Errorf("c not moved under b as c2: %s", ix.path(c))
	}
	if !a.removed || ix.dirs != 3 {
		t.Errorf("a not dropped: removed %v, dirs %d", a.removed, ix.dirs)
	}
	if set := ix.pending[b]; set["h"]&pendingGone == 0 {
		t.Errorf("h not pending as gone: %v", set)
	}
	// Reconcile's part, done by hand: h is gone; f's link g stays.
	ix.removeName(b, "h")
	ix.removeName(c, "f")
	if got, want := ix.bytes(), uint64((3*8+16)*512); got != want {
		t.Fatalf("bytes %d, want %d", got, want)
	}
}

func TestFoldersMoved(t *testing.T) {
	for _, tc := range []struct {
		events []inotifyEvent
		want   bool
	}{
		{nil, false},
		{[]inotifyEvent{{mask: unix.IN_MOVED_FROM, name: "f"}, {mask: unix.IN_CREATE | unix.IN_ISDIR, name: "d"}}, false},
		{[]inotifyEvent{{mask: unix.IN_MOVED_TO | unix.IN_ISDIR, name: "d"}}, true},
		{[]inotifyEvent{{mask: unix.IN_MOVE_SELF}}, true},
	} {
		if got := foldersMoved(tc.events); got != tc.want {
			t.Errorf("foldersMoved(%v) = %v, want %v", tc.events, got, tc.want)
		}
	}
}

// Without an inotify instance (max_user_instances reached) every folder
// counts as beyond the watch limit: rescanned in turn.
func TestNoInotifyInstance(t *testing.T) {
	in := &dirInotify{fd: -1}
	if _, err := in.watch(0, "/x"); err != errWatchLimit {
		t.Errorf("watch without an instance: %v", err)
	}
	if ev, lost := in.drain(); ev != nil || lost {
		t.Errorf("drain without an instance: %v %v", ev, lost)
	}
	in.close()
}

// A file renamed inside the tree moves in the index without a lookup when
// the index knew its inode; one written before the rename is looked up.
func TestDirIndexFileRenameNeedsNoLookup(t *testing.T) {
	ix := newDirIndex("/r", 1, 8)
	ix.setWatch(ix.root, 1)
	a := ix.addDir(ix.root, "a", 2, 8)
	ix.setWatch(a, 2)
	ix.setFile(a, "f", 100, 16)
	ix.setFile(a, "g", 101, 24)
	ix.setFile(ix.root, "old", 102, 8)
	want := ix.bytes() - 8*512 // "old" is renamed over
	ix.applyEvents([]inotifyEvent{
		{wd: 2, mask: unix.IN_MOVED_FROM, cookie: 5, name: "f"}, // a/f → old
		{wd: 1, mask: unix.IN_MOVED_TO, cookie: 5, name: "old"},
		{wd: 2, mask: unix.IN_MODIFY, name: "g"}, // written, then a/g → g2
		{wd: 2, mask: unix.IN_MOVED_FROM, cookie: 6, name: "g"},
		{wd: 1, mask: unix.IN_MOVED_TO, cookie: 6, name: "g2"},
	})
	if got := ix.root.files[ix.hash("old")]; got != 100 {
		t.Errorf("old holds inode %d, want 100", got)
	}
	if _, ok := a.files[ix.hash("f")]; ok {
		t.Error("a/f still indexed")
	}
	if got := ix.bytes(); got != want {
		t.Errorf("bytes %d, want %d", got, want)
	}
	root := ix.pending[ix.root]
	if _, ok := root["old"]; ok {
		t.Errorf("old pending for a lookup: %v", root)
	}
	if _, ok := root[""]; !ok {
		t.Errorf("the root's own blocks not pending: %v", root)
	}
	if m, ok := root["g2"]; !ok || m&pendingGone != 0 {
		t.Errorf("g2, written before its rename, not pending for a lookup: %v", root)
	}
}

package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"golang.org/x/time/rate"
)

func TestParseSize(t *testing.T) {
	for _, tc := range []struct {
		in   string
		want float64
		err  bool
	}{
		{"0", 0, false}, {"1048576", 1 << 20, false}, {"512K", 512 << 10, false}, {"10M", 10 << 20, false},
		{"10MB", 10 << 20, false}, {"1.5GiB", 1.5 * (1 << 30), false}, {"500G", 500 << 30, false},
		{"2t", 2 << 40, false}, {"7b", 7, false}, {"1P", 1 << 50, false},
		{"", 0, true}, {"G", 0, true}, {"10X", 0, true}, {"-1G", 0, true}, {"5ib", 0, true}, {"10kk", 0, true}, {"NaN", 0, true},
	} {
		got, err := ParseSize(tc.in)
		if (err != nil) != tc.err || (!tc.err && got != tc.want) {
			t.Errorf("ParseSize(%q) = %v, %v; want %v (error %v)", tc.in, got, err, tc.want, tc.err)
		}
	}
}

func TestParseSizeRange(t *testing.T) {
	for _, tc := range []struct {
		in, text  string
		alert, ok []float64
	}{
		{"500G", "536870912000", []float64{536870912001, -1}, []float64{0, 536870912000}},
		{"@10M:20M", "@10485760:20971520", []float64{10 << 20, 15 << 20, 20 << 20}, []float64{0, 21 << 20}},
		{"~:1K", "~:1024", []float64{1025}, []float64{-5, 1024}},
		{"2G:", "2147483648:", []float64{1 << 30}, []float64{2 << 30, 1 << 50}},
		{"100", "100", []float64{101}, []float64{100}},
	} {
		r, err := ParseSizeRange(tc.in)
		if err != nil {
			t.Fatalf("ParseSizeRange(%q): %v", tc.in, err)
		}
		if r.String() != tc.text {
			t.Errorf("ParseSizeRange(%q) text = %q, want %q", tc.in, r.String(), tc.text)
		}
		for _, v := range tc.alert {
			if !r.Alert(v) {
				t.Errorf("%q: %v should alert", tc.in, v)
			}
		}
		for _, v := range tc.ok {
			if r.Alert(v) {
				t.Errorf("%q: %v should not alert", tc.in, v)
			}
		}
	}
	for _, bad := range []string{"", "10X", "@", "5G:1G", "~:x", ":5G"} {
		if _, err := ParseSizeRange(bad); !errors.Is(err, ErrRangeFormat) {
			t.Errorf("ParseSizeRange(%q) = %v, want ErrRangeFormat", bad, err)
		}
	}
}

func TestEvaluateDirsize(t *testing.T) {
	th, err := ParseSizeThresholds("1M", "2M")
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	prev := now.Add(-time.Minute) // the previous run
	for _, tc := range []struct {
		name         string
		f            dirFigure
		none         bool // no thresholds
		want, steady string
	}{
		{"ok", dirFigure{At: now, Bytes: 12345678 >> 4, Files: 3, Dirs: 1}, false,
			"DIRSIZE OK - /opt/zextras/store 771604 B used (753.5 KiB, 3 files, 1 folders)|/opt/zextras/store=771604B;1048576;2097152;0",
			"DIRSIZE OK - /opt/zextras/store size within the thresholds"},
		{"no thresholds", dirFigure{At: now, Bytes: 4096, Files: 1, Dirs: 1}, true,
			"DIRSIZE OK - /opt/zextras/store 4096 B used (4.0 KiB, 1 files, 1 folders)|/opt/zextras/store=4096B;;;0",
			"DIRSIZE OK - /opt/zextras/store size measured (no thresholds)"},
		{"critical", dirFigure{At: now, Bytes: 12345678, Files: 3, Dirs: 1}, false,
			"DIRSIZE CRITICAL - /opt/zextras/store 12345678 B used (11.8 MiB, 3 files, 1 folders)|/opt/zextras/store=12345678B;1048576;2097152;0",
			"DIRSIZE CRITICAL - /opt/zextras/store size beyond the critical threshold 2097152 B"},
		{"warning", dirFigure{At: now, Bytes: 1<<20 + 1}, false,
			"DIRSIZE WARNING - /opt/zextras/store 1048577 B used (1.0 MiB, 0 files, 0 folders)|/opt/zextras/store=1048577B;1048576;2097152;0",
			"DIRSIZE WARNING - /opt/zextras/store size beyond the warning threshold 1048576 B"},
		{"first walk", dirFigure{Phase: "first walk in progress", Read: 12}, false,
			"DIRSIZE UNKNOWN - /opt/zextras/store: not measured yet: first walk in progress, 12 entries read|/opt/zextras/store=U;1048576;2097152;0",
			"DIRSIZE UNKNOWN - /opt/zextras/store: not measured yet: first walk in progress"},
		{"not measured since the previous run", dirFigure{At: prev.Add(-2 * time.Minute), Phase: "walking again: events were lost (inotify queue overflow)", Bytes: 4096, Files: 1, Dirs: 1}, false,
			"DIRSIZE UNKNOWN - /opt/zextras/store: not measured since the previous run: walking again: events were lost (inotify queue overflow); last measure 3m0s ago: 4096 B used (4.0 KiB, 1 files, 1 folders)|/opt/zextras/store=U;1048576;2097152;0",
			"DIRSIZE UNKNOWN - /opt/zextras/store: not measured since the previous run: walking again: events were lost (inotify queue overflow)"},
		{"catching up, measured since the previous run", dirFigure{At: now.Add(-20 * time.Second), Phase: "catching up with changes", Bytes: 4096, Files: 1, Dirs: 1}, false,
			"DIRSIZE OK - /opt/zextras/store 4096 B used (4.0 KiB, 1 files, 1 folders); measured 20s ago, now catching up with changes|/opt/zextras/store=4096B;1048576;2097152;0",
			"DIRSIZE OK - /opt/zextras/store size within the thresholds; measured before the previous run ended, now catching up with changes"},
		{"stuck", dirFigure{At: prev, Stuck: 42 * time.Second, StuckAt: "/opt/zextras/store/nfs", Bytes: 4096, Files: 1, Dirs: 1}, false,
			"DIRSIZE UNKNOWN - /opt/zextras/store: no answer from the filesystem for 42s (reading /opt/zextras/store/nfs); last measure 1m0s ago: 4096 B used (4.0 KiB, 1 files, 1 folders)|/opt/zextras/store=U;1048576;2097152;0",
			"DIRSIZE UNKNOWN - /opt/zextras/store: no answer from the filesystem (reading /opt/zextras/store/nfs)"},
		{"unreadable", dirFigure{At: now, Bytes: 4096, Files: 1, Dirs: 1, Errors: 2, FirstError: "/opt/zextras/store/x: permission denied"}, false,
			"DIRSIZE UNKNOWN - /opt/zextras/store 4096 B used (4.0 KiB, 1 files, 1 folders); 2 folders not fully readable (first: /opt/zextras/store/x: permission denied)|/opt/zextras/store=4096B;1048576;2097152;0",
			"DIRSIZE UNKNOWN - /opt/zextras/store size within the thresholds; folders not fully readable (first: /opt/zextras/store/x: permission denied)"},
		{"unwatched", dirFigure{At: now, Bytes: 4096, Files: 1, Dirs: 1, Unwatched: 7}, false,
			"DIRSIZE OK - /opt/zextras/store 4096 B used (4.0 KiB, 1 files, 1 folders); 7 folders beyond the inotify watch limit (fs.inotify.max_user_watches or --max-watches), re-read at every run|/opt/zextras/store=4096B;1048576;2097152;0",
			"DIRSIZE OK - /opt/zextras/store size within the thresholds; folders beyond the inotify watch limit (fs.inotify.max_user_watches or --max-watches), re-read at every run"},
		{"unwatched, lagging", dirFigure{At: now, Bytes: 4096, Files: 1, Dirs: 1, Unwatched: 7, Lagging: true}, false,
			"DIRSIZE WARNING - /opt/zextras/store 4096 B used (4.0 KiB, 1 files, 1 folders); 7 folders beyond the inotify watch limit (fs.inotify.max_user_watches or --max-watches), more than a run re-reads (--rescan): the figure may lag|/opt/zextras/store=4096B;1048576;2097152;0",
			"DIRSIZE WARNING - /opt/zextras/store size within the thresholds; folders beyond the inotify watch limit (fs.inotify.max_user_watches or --max-watches), more than a run re-reads (--rescan): the figure may lag"},
		{"over max files", dirFigure{At: now.Add(-10 * time.Minute), Fallback: true, Bytes: 4096, Files: 1, Dirs: 1}, false,
			"DIRSIZE WARNING - /opt/zextras/store 4096 B used (4.0 KiB, 1 files, 1 folders); over --max-files 100: not kept, measured by a full walk every 30m0s (this one 10m0s ago)|/opt/zextras/store=4096B;1048576;2097152;0",
			"DIRSIZE WARNING - /opt/zextras/store size within the thresholds; over --max-files 100: not kept, measured by a full walk every 30m0s"},
		{"missing", dirFigure{Err: fmt.Errorf("/opt/zextras/store: %w", os.ErrNotExist)}, false,
			"DIRSIZE CRITICAL - /opt/zextras/store is not accessible: File does not exist",
			"DIRSIZE CRITICAL - /opt/zextras/store is not accessible: File does not exist"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := dirKeeperOptions{maxFiles: 100, every: 30 * time.Minute}
			limits := th
			if tc.none {
				limits = Thresholds{}
			}
			r := evaluateDirsize("/opt/zextras/store", tc.f, limits, o, prev)
			if got := r.String(); got != tc.want {
				t.Errorf("got  %s\nwant %s", got, tc.want)
			}
			if got := r.SteadyString(); got != tc.steady {
				t.Errorf("steady got  %s\nwant %s", got, tc.steady)
			}
			// The steady form does not move when only the numbers do.
			f := tc.f
			f.Bytes, f.Files, f.Dirs, f.Read, f.Errors, f.Unwatched = f.Bytes+512, f.Files+1, f.Dirs+1, f.Read+100, f.Errors*2, f.Unwatched*2
			if f.Stuck > 0 {
				f.Stuck += time.Second
			}
			if !f.At.IsZero() {
				f.At = f.At.Add(-time.Second)
			}
			if got := evaluateDirsize("/opt/zextras/store", f, limits, o, prev); got.Status == r.Status && got.SteadyString() != r.SteadyString() {
				t.Errorf("steady form moved with the numbers: %q, then %q", r.SteadyString(), got.SteadyString())
			}
		})
	}
}

func TestDirsizeFlags(t *testing.T) {
	for _, args := range [][]string{{}, {"-p", "/x", "-w", "10X"}, {"-p", "/x", "-c", "5G:1G"}, {"-p", "/x", "--rate", "-1"}, {"-p", "/x", "--max-files", "-2"}, {"-p", "/x", "--fallback-every", "0s"}} {
		if _, err := testProbes.New("dirsize", args); err == nil {
			t.Errorf("New(dirsize, %q) accepted", args)
		}
	}
	// The flags' effect, on the probe the definition builds.
	d := newDirsize(t, "-p", "/x/", "--rate", "1234")
	if d.path != "/x" {
		t.Errorf("path %q, want /x", d.path)
	}
	if l, ok := d.opts.pace.(*rate.Limiter); !ok || l.Limit() != 1234 {
		t.Errorf("--rate 1234 gave throttle %#v", d.opts.pace)
	}
	c, err := testProbes.New("dirsize", []string{"-p", "/x"})
	if err != nil {
		t.Fatal(err)
	}
	if _, ok := c.(Starter); !ok {
		t.Error("a Check from New does not forward Start")
	}
}

// duBytes runs GNU du -sxB1 on path (-x: one filesystem, as dirsize).
func duBytes(t testing.TB, path string) uint64 {
	t.Helper()
	out, err := exec.Command("du", "-sxB1", path).Output()
	if err != nil {
		t.Fatalf("du -sxB1 %s: %v", path, err)
	}
	n, err := strconv.ParseUint(strings.Fields(string(out))[0], 10, 64)
	if err != nil {
		t.Fatalf("du output %q: %v", out, err)
	}
	return n
}

// writeFile writes n bytes (allocated blocks, unlike a sparse file) to path.
func writeFile(t testing.TB, path string, n int) {
	t.Helper()
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(strings.Repeat("x", n)), 0o644); err != nil {
		t.Fatal(err)
	}
}

func appendFile(t testing.TB, path string, n int) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_APPEND|os.O_WRONLY, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.Write([]byte(strings.Repeat("y", n))); err != nil {
		t.Fatal(err)
	}
}

// makeTree builds a small tree with nested folders, sizes from empty to
// several blocks, a symbolic link, a sparse file and hard links.
func makeTree(t testing.TB, root string) {
	t.Helper()
	for i := 0; i < 6; i++ {
		for j := 0; j < 5; j++ {
			writeFile(t, filepath.Join(root, fmt.Sprintf("d%d/s%d/f%d", i, j%2, j)), (i*5+j)*700)
		}
	}
	must(t, os.Symlink("d0/s0/f0", filepath.Join(root, "link")))
	must(t, os.Link(filepath.Join(root, "d1/s0/f2"), filepath.Join(root, "d2/hard")))
	f, err := os.Create(filepath.Join(root, "sparse"))
	must(t, err)
	must(t, f.Truncate(1<<30))
	must(t, f.Close())
	must(t, os.MkdirAll(filepath.Join(root, "empty/deeper/deepest"), 0o755))
}

func must(t testing.TB, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func runDirsize(t *testing.T, c Check) Result {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return c.Run(ctx)
}

// bytesOf reads the value from a dirsize result's perfdata.
func bytesOf(t *testing.T, r Result) uint64 {
	t.Helper()
	if len(r.Perfdata) != 1 || r.Perfdata[0].NoValue || r.Status != OK {
		t.Fatalf("no settled measure: %s", r)
	}
	return uint64(r.Perfdata[0].Value)
}

func TestDirsizeOneShotEqualsDu(t *testing.T) {
	root := t.TempDir()
	makeTree(t, root)
	outside := t.TempDir()
	writeFile(t, filepath.Join(outside, "big"), 50000)
	must(t, os.Link(filepath.Join(outside, "big"), filepath.Join(root, "linked-from-outside")))
	c, err := testProbes.New("dirsize", []string{"-p", root, "--rate", "0"})
	must(t, err)
	r := runDirsize(t, c)
	if got, want := bytesOf(t, r), duBytes(t, root); got != want {
		t.Fatalf("dirsize %d, du -sxB1 %d (%s)", got, want, r)
	}
}

func TestDirsizeOneShotTimeout(t *testing.T) {
	root := t.TempDir()
	makeTree(t, root)
	// One entry per second: the walk cannot end within 100 ms.
	c, err := testProbes.New("dirsize", []string{"-p", root, "--rate", "1", "-t", "100ms"})
	must(t, err)
	if r := runDirsize(t, c); r.Status != Unknown || !strings.Contains(r.Summary, "timeout") {
		t.Fatalf("got %s, want UNKNOWN timeout", r)
	}
}

// countingThrottle records how many entries a walk asked to read.
type countingThrottle struct{ n atomic.Int64 }

func (c *countingThrottle) WaitN(ctx context.Context, n int) error {
	c.n.Add(int64(n))
	return ctx.Err()
}

// The throttle is honoured: every entry a walk reads is asked from it
// first, so the configured rate bounds the walk (no timing assertion).
func TestDirsizeWalkAsksTheThrottleForEveryEntry(t *testing.T) {
	root := t.TempDir()
	makeTree(t, root)
	ct := &countingThrottle{}
	sums, err := sumTrees(context.Background(), root, []string{root}, ct, nil)
	must(t, err)
	if entries := int64(sums[0].Files + sums[0].Dirs); ct.n.Load() < entries {
		t.Fatalf("throttle asked for %d entries, the walk read %d", ct.n.Load(), entries)
	}
	kt := &countingThrottle{}
	c := newDirsize(t, "-p", root)
	c.opts.pace = kt
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c.Start(ctx)
	r := measured(t, c)
	if entries := int64(r.Files + r.Dirs); kt.n.Load() < entries {
		t.Fatalf("the keeper's walk asked for %d entries, read %d", kt.n.Load(), entries)
	}
}

// newDirsize builds the dirsize probe from its flags as the registry does,
// without the -t wrapper, so a test can look at the probe itself.
func newDirsize(tb testing.TB, args ...string) *dirsizeCheck {
	tb.Helper()
	fs := flag.NewFlagSet("dirsize", flag.ContinueOnError)
	build := defineDirsize(fs)
	if err := fs.Parse(args); err != nil {
		tb.Fatal(err)
	}
	c, err := build()
	if err != nil {
		tb.Fatal(err)
	}
	return c.(*dirsizeCheck)
}

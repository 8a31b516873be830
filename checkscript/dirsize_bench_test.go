package checkscript

import (
	"context"
	"fmt"
	"math"
	"os"
	"os/exec"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// benchLogf logs to the benchmark and to stderr as it goes: a benchmark's
// log is cut to 10 lines, and shown only at its end.
func benchLogf(b *testing.B, format string, args ...any) {
	b.Helper()
	fmt.Fprintf(os.Stderr, "%s: "+format+"\n", append([]any{b.Name()}, args...)...)
	b.Logf(format, args...)
}

// benchErrorf is benchLogf for a failure.
func benchErrorf(b *testing.B, format string, args ...any) {
	b.Helper()
	benchLogf(b, "FAIL: "+format, args...)
	b.Fail()
}

// benchEnvInt reads a positive integer from the environment, else def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkDirsize measures, in one run on one mailstore-shaped tree, what
// deploy/bench/README.md's dirsize rows compare: the five declared folders
// started as the daemon starts them (one keeper, one tree), their first
// walk (unthrottled, and at the default --rate), the tree's memory per
// file, then rounds of 1 % of the files changed, each re-measured (the five
// runs) and compared with GNU du -sxB1 of each folder, in the same round.
// The tree: $DIRSIZE_TREE, made by deploy/bench/mailstore-tree.sh with
// $DIRSIZE_FILES files (5,000,000); without it, a tree of $DIRSIZE_FILES
// (200,000 then) under $TMPDIR, deleted at the end.
//
// Run once: go test -run '^$' -bench '^BenchmarkDirsize$' -benchtime 1x.
func BenchmarkDirsize(b *testing.B) {
	root := os.Getenv("DIRSIZE_TREE")
	files := benchEnvInt("DIRSIZE_FILES", 5000000)
	if root == "" {
		files = benchEnvInt("DIRSIZE_FILES", 200000)
		root = b.TempDir() + "/opt"
		newMailstore(root, files).make(b)
	}
	tree := newMailstore(root, files)
	folders := tree.folders()
	clock := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	for _, f := range folders {
		runDu(b, "-sxB1", f) // warm the caches once, for everyone alike
	}
	// One-shot walk, unthrottled, of the outer folder.
	oneShot := clock(func() {
		if _, err := sumTrees(context.Background(), root, []string{root}, nil, nil); err != nil {
			b.Fatal(err)
		}
	})
	// Peak RSS: the five folders' tree alone, in a child process (this
	// test binary, a benchmark that only does that), less the same child
	// on an empty folder.
	rssFull := indexChildRSS(b, root, folders)
	rssEmpty := indexChildRSS(b, b.TempDir(), nil)

	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	arena0 := dirArenaBytes.Load() // the file lists, outside the heap
	checks := make([]*dirsizeCheck, len(folders))
	firstWalk := clock(func() {
		for i, f := range folders {
			checks[i] = newDirsize(b, "-p", f, "--rate", "0")
			checks[i].Start(ctx)
		}
		for _, c := range checks {
			measured(b, c)
		}
	})
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	treeBytes := float64(ms1.HeapInuse) - float64(ms0.HeapInuse) + float64(dirArenaBytes.Load()-arena0)
	fig := measured(b, checks[0])
	entries := float64(fig.Files + fig.Dirs)
	keeper := checks[0].h.keeper()
	for _, c := range checks[1:] {
		if c.h.keeper() != keeper {
			b.Fatalf("%s has a keeper of its own", c.path)
		}
	}

	// The first walk at the default rate (a tree of its own, then dropped).
	throttled := clock(func() {
		h := (&dirTrees{}).join(root, newDirsize(b, "-p", root).opts)
		defer h.keeper().cancel()
		for {
			mctx, mcancel := context.WithTimeout(ctx, time.Second)
			f := h.keeper().measure(mctx, root)
			mcancel()
			if !f.At.IsZero() {
				return
			}
			time.Sleep(100 * time.Millisecond)
		}
	})

	// Rounds: 1 % of the files change (by a child process), then the
	// re-measure of the five folders and du of each, in alternating order.
	// Each round but the last leaves a second between the changes and the
	// re-measure, as between two runs of a check; the last measures right
	// after the changes (du after), what a run amid a burst pays.
	changes := files / 100
	rounds := make([]remeasureRound, benchEnvInt("DIRSIZE_ROUNDS", 3)+1)
	same, sameAtOnce := 1.0, 1.0 // every figure equal to du's: in the end, and in the round
	minRatio, minRatioCPU := math.Inf(1), math.Inf(1)
	for i := range rounds {
		now, gap, n := i == len(rounds)-1, time.Second, strconv.Itoa(i+1)
		if now {
			gap, n = 0, "now"
		}
		r := runRound(b, checks, tree, changes, uint64(benchEnvInt("DIRSIZE_SEED", 0)+i+1), i%2 == 1 && !now, gap)
		differ := false
		for j, f := range folders {
			if r.bytes[j] != r.duBytes[j] {
				differ, sameAtOnce = true, 0
				benchLogf(b, "round %s, %s: re-measure %d B, du -sxB1 %d B; again once writeback is due (%s)", n, f, r.bytes[j], r.duBytes[j], r.summaries[j])
			}
		}
		if differ {
			bytes, duBytes := r.afterWriteback(b, checks)
			for j, f := range folders {
				if bytes[j] != duBytes[j] {
					same = 0
					benchErrorf(b, "round %s, %s, once writeback was due: %d B, du -sxB1 %d B", n, f, bytes[j], duBytes[j])
				}
			}
		}
		rounds[i] = r
		ratio, ratioCPU := ms(r.du)/ms(r.wall), ms(r.duCPU)/ms(r.cpu())
		if !now {
			minRatio, minRatioCPU = min(minRatio, ratio), min(minRatioCPU, ratioCPU)
		}
		b.ReportMetric(ms(r.wall), "remeasure-ms-r"+n)
		b.ReportMetric(ms(r.cpu()), "remeasure-cpu-ms-r"+n)
		b.ReportMetric(ms(r.du), "du-ms-r"+n)
		b.ReportMetric(ms(r.duCPU), "du-cpu-ms-r"+n)
		b.ReportMetric(ratio, "du-over-remeasure-r"+n)
		b.ReportMetric(ratioCPU, "du-over-remeasure-cpu-r"+n)
		b.ReportMetric(ms(r.eventsCPU), "events-cpu-ms-r"+n)
		b.ReportMetric(ms(r.allCPU), "all-cpu-ms-r"+n)
		b.ReportMetric(ms(r.duCPU)/ms(r.allCPU), "du-over-all-cpu-r"+n)
		b.ReportMetric(r.load1, "load1-r"+n)
		benchLogf(b, "round %s (du %s, re-measure %s after the changes): re-measure of the five folders %.1f ms (CPU %.1f ms: user %.1f, sys %.1f; %d page faults, %d GCs), events and lookups meanwhile %.1f ms CPU, the round's in all (look-ups after writeback too) %.1f ms; du -sxB1 of the five %.0f ms (%.0f ms CPU): %.1f× (%.1f× CPU; %.1f× the round's CPU), load %.2f",
			n, map[bool]string{true: "first", false: "after"}[r.duFirst], gap, ms(r.wall), ms(r.cpu()), ms(r.user), ms(r.sys),
			r.minflt, r.gcs, ms(r.eventsCPU), ms(r.allCPU), ms(r.du), ms(r.duCPU), ratio, ratioCPU, ms(r.duCPU)/ms(r.allCPU), r.load1)
	}
	last := rounds[len(rounds)-2] // the last with a gap
	b.ReportMetric(float64(fig.Files), "files")
	b.ReportMetric(float64(fig.Dirs), "folders")
	b.ReportMetric(ms(oneShot), "oneshot-walk-ms")
	b.ReportMetric(ms(firstWalk), "first-walk-ms")
	b.ReportMetric(ms(throttled), "first-walk-throttled-ms")
	b.ReportMetric(float64(changes), "changed-files")
	b.ReportMetric(float64(len(rounds)-1), "rounds") // with a gap
	// CPU time (user + system, every thread) is what a loaded machine does
	// not blur: the wall times include waiting for a core.
	b.ReportMetric(minRatio, "du-over-remeasure-min")
	b.ReportMetric(minRatioCPU, "du-over-remeasure-cpu-min")
	b.ReportMetric(same, "same-bytes")
	b.ReportMetric(sameAtOnce, "same-bytes-at-once")
	b.ReportMetric(float64(last.bytes[0]), "bytes")
	b.ReportMetric(treeBytes/float64(fig.Files), "heap-B/file") // heap and arena
	b.ReportMetric(float64(ms1.HeapInuse-ms0.HeapInuse)/float64(fig.Files), "go-heap-B/file")
	b.ReportMetric(float64(rssFull-rssEmpty)/float64(fig.Files), "peak-rss-B/file")
	b.ReportMetric(float64(rssFull)/(1<<20), "child-peak-rss-MiB")
	b.ReportMetric(float64(rssEmpty)/(1<<20), "child-empty-peak-rss-MiB")
	benchLogf(b, "tree: %.0f files, %d folders (%.0f entries) under %s", float64(fig.Files), fig.Dirs, entries, root)
	for j, f := range folders {
		benchLogf(b, "%s: %d B, du -sxB1 %d B", f, last.bytes[j], last.duBytes[j])
	}
}

// indexChildRSS runs BenchmarkDirsizeIndexChild on root's folders in a
// child process and returns the child's peak RSS in bytes.
func indexChildRSS(b *testing.B, root string, folders []string) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkDirsizeIndexChild$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), "DIRSIZE_CHILD_ROOT="+root, fmt.Sprintf("DIRSIZE_CHILD_FOLDERS=%q", folders))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("index child: %v\n%s", err, out)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

// BenchmarkDirsizeIndexChild is BenchmarkDirsize's child: it starts the
// checks of $DIRSIZE_CHILD_ROOT's declared folders as the daemon does,
// measures each once, and exits.
func BenchmarkDirsizeIndexChild(b *testing.B) {
	root := os.Getenv("DIRSIZE_CHILD_ROOT")
	if root == "" {
		b.Skip("run by BenchmarkDirsize only")
	}
	var folders []string
	fmt.Sscanf(os.Getenv("DIRSIZE_CHILD_FOLDERS"), "%q", &folders)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var checks []Check
	for _, f := range append([]string{root}, folders...) {
		c, err := testProbes.New("dirsize", []string{"-p", f, "--rate", "0", "-t", "600"})
		must(b, err)
		c.(Starter).Start(ctx)
		checks = append(checks, c)
	}
	var files float64
	for _, c := range checks {
		r := c.Run(ctx)
		for ; r.Status != OK; r = c.Run(ctx) {
			if !r.Perfdata[0].NoValue {
				b.Fatalf("child: %s", r)
			}
			time.Sleep(50 * time.Millisecond)
		}
		if files == 0 {
			files = float64(measured(b, c.(*timed).check.(*dirsizeCheck)).Files)
		}
	}
	var m runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&m)
	if p := os.Getenv("DIRSIZE_HEAPPROF"); p != "" { // a diagnosis only
		f, err := os.Create(p)
		must(b, err)
		must(b, pprof.WriteHeapProfile(f))
		f.Close()
	}
	b.ReportMetric(float64(m.HeapInuse+uint64(dirArenaBytes.Load()))/files, "heap-inuse-B/file") // and the arena
	b.ReportMetric(float64(m.HeapAlloc)/files, "heap-alloc-B/file")
}

// processCPU is this process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

package checkscript

import (
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchEnvInt reads a positive integer from the environment, else def.
func benchEnvInt(name string, def int) int {
	if n, err := strconv.Atoi(os.Getenv(name)); err == nil && n > 0 {
		return n
	}
	return def
}

// BenchmarkDirsize measures, in one run on one generated tree, what the
// dirsize row of deploy/bench/README.md compares: the first walk (unthrottled, and at the
// default --rate), a re-measure after 1% of the files changed, and GNU du
// -sB1 / -sxB1 on the same tree right after, plus the index's memory per
// file. The tree: $DIRSIZE_FILES files (500,000) in $DIRSIZE_DIRS folders
// (5,000) of 10 top folders, sizes 0–6,000 bytes, 1% hard-linked into a
// second folder (as a mail store's deduplicated messages), under $TMPDIR,
// deleted at the end.
//
// Run once: go test -run '^$' -bench '^BenchmarkDirsize$' -benchtime 1x.
func BenchmarkDirsize(b *testing.B) {
	files := benchEnvInt("DIRSIZE_FILES", 500000)
	dirs := benchEnvInt("DIRSIZE_DIRS", 5000)
	root := filepath.Join(b.TempDir(), "store")
	if keep := os.Getenv("DIRSIZE_TREE"); keep != "" {
		// A diagnosis only: the tree of an earlier run, changed by its
		// rounds, kept for the next (made there when missing).
		root = keep
	}
	if _, err := os.Stat(root); err != nil {
		makeBenchTree(b, root, files, dirs)
	}
	b.Logf("tree: %d files, %d folders under %s", files, dirs, root)

	clock := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	runDu(b, "-sxB1", root) // warm the caches once, for everyone alike

	// One-shot walk, and the index's first walk, unthrottled.
	oneShot := clock(func() {
		if _, err := sumTree(context.Background(), root, nil); err != nil {
			b.Fatal(err)
		}
	})
	// Peak RSS: the index alone, in a child process (this test binary, a
	// benchmark that only indexes), less the same child on an empty folder.
	rssFull := indexChildRSS(b, root)
	rssEmpty := indexChildRSS(b, b.TempDir())

	var ms0, ms1 runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms0)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	ctx, cancelRuns := context.WithTimeout(ctx, 600*time.Second) // -t 600
	defer cancelRuns()
	c := newDirsize(b, "-p", root, "--rate", "0")
	c.Start(ctx)
	var first Result
	firstWalk := clock(func() { first = c.Run(ctx) })
	runtime.GC()
	runtime.ReadMemStats(&ms1)
	keeper := c.keeper
	entries := float64(keeper.latestAnswer().Files + keeper.latestAnswer().Dirs)
	if first.Status != OK || len(first.Perfdata) != 1 || first.Perfdata[0].NoValue {
		b.Fatalf("first walk: %s", first)
	}

	// The first walk at the default rate (a second index, then dropped).
	throttled, err := testProbes.New("dirsize", []string{"-p", root, "-t", "600"})
	must(b, err)
	tctx, tcancel := context.WithCancel(ctx)
	throttled.(Starter).Start(tctx)
	throttledWalk := clock(func() { throttled.Run(tctx) })
	tcancel()

	// Rounds: 1% of the files change (appends, creates, deletes, renames
	// to another folder, new hard links), made by a child process, then
	// the re-measure and du, in alternating order.
	changes := files / benchEnvInt("DIRSIZE_CHANGE_DIVISOR", 100)
	// Each round but the last leaves a second between the changes and
	// the re-measure, as between two runs of a check; the last measures
	// right after the changes (du after), what a run amid a burst pays.
	rounds := make([]remeasureRound, benchEnvInt("DIRSIZE_ROUNDS", 3)+1)
	same := 1.0
	minRatio, minRatioCPU := math.Inf(1), math.Inf(1)
	for i := range rounds {
		now, gap, n := i == len(rounds)-1, time.Second, strconv.Itoa(i+1)
		if now {
			gap, n = 0, "now"
		}
		// $DIRSIZE_SEED: other files change on a kept tree.
		r := runRound(b, c, root, files, dirs, changes, benchEnvInt("DIRSIZE_SEED", 0)+i+1, i%2 == 1 && !now, gap)
		rounds[i] = r
		if r.bytes != r.duxBytes || r.bytes != r.duBytes {
			same = 0
			b.Errorf("round %s: re-measure %d B (%s), du -sB1 %d B, du -sxB1 %d B", n, r.bytes, r.result, r.duBytes, r.duxBytes)
		}
		ratio, ratioCPU := ms(r.dux)/ms(r.wall), ms(r.duxCPU)/ms(r.cpu())
		if !now {
			minRatio, minRatioCPU = min(minRatio, ratio), min(minRatioCPU, ratioCPU)
		}
		b.ReportMetric(ms(r.wall), "remeasure-ms-r"+n)
		b.ReportMetric(ms(r.cpu()), "remeasure-cpu-ms-r"+n)
		b.ReportMetric(ms(r.dux), "du-sxB1-ms-r"+n)
		b.ReportMetric(ms(r.duxCPU), "du-sxB1-cpu-ms-r"+n)
		b.ReportMetric(ratio, "du-over-remeasure-r"+n)
		b.ReportMetric(ratioCPU, "du-over-remeasure-cpu-r"+n)
		b.ReportMetric(ms(r.eventsCPU), "events-cpu-ms-r"+n)
		b.ReportMetric(ms(r.duxCPU)/(ms(r.eventsCPU)+ms(r.cpu())), "du-over-all-cpu-r"+n)
		b.ReportMetric(r.load1, "load1-r"+n)
		b.Logf("round %s (du %s, re-measure %s after the changes): re-measure %.1f ms (CPU %.1f ms: user %.1f, sys %.1f; %d page faults, %d/%d voluntary/forced switches, %d GCs), events and lookups meanwhile %.1f ms CPU; du -sB1 %.0f ms, du -sxB1 %.0f ms (%.0f ms CPU): %.1f× (%.1f× CPU; %.1f× with the CPU meanwhile), load %.2f",
			n, map[bool]string{true: "first", false: "after"}[r.duFirst], gap, ms(r.wall), ms(r.cpu()), ms(r.user), ms(r.sys),
			r.minflt, r.nvcsw, r.nivcsw, r.gcs, ms(r.eventsCPU), ms(r.du), ms(r.dux), ms(r.duxCPU), ratio, ratioCPU,
			ms(r.duxCPU)/(ms(r.eventsCPU)+ms(r.cpu())), r.load1)
	}
	last := rounds[len(rounds)-2] // the last with a gap
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(dirs), "folders")
	b.ReportMetric(ms(oneShot), "oneshot-walk-ms")
	b.ReportMetric(ms(firstWalk), "first-walk-ms")
	b.ReportMetric(ms(throttledWalk), "first-walk-throttled-ms")
	b.ReportMetric(float64(changes), "changed-files")
	b.ReportMetric(float64(len(rounds)-1), "rounds") // with a gap
	// CPU time (user + system, every thread) is what a loaded machine does
	// not blur: the wall times include waiting for a core.
	b.ReportMetric(minRatio, "du-over-remeasure-min")
	b.ReportMetric(minRatioCPU, "du-over-remeasure-cpu-min")
	b.ReportMetric(ms(last.du), "du-sB1-ms")
	b.ReportMetric(same, "same-bytes")
	b.ReportMetric(float64(last.bytes), "bytes")
	b.ReportMetric(float64(ms1.HeapInuse-ms0.HeapInuse)/entries, "heap-B/entry")
	b.ReportMetric(float64(rssFull-rssEmpty)/entries, "peak-rss-B/entry")
	b.ReportMetric(float64(rssFull)/(1<<20), "child-peak-rss-MiB")
	b.ReportMetric(float64(rssEmpty)/(1<<20), "child-empty-peak-rss-MiB")
	b.Logf("first: %s", first)
	b.Logf("again: %s", last.result)
}

// makeBenchTree writes BenchmarkDirsize's tree: files of 0–6,000 bytes
// spread over dirs folders, 1% hard-linked into another folder.
func makeBenchTree(b *testing.B, root string, files, dirs int) {
	rng := rand.New(rand.NewPCG(1, 2))
	for d := 0; d < dirs; d++ {
		must(b, os.MkdirAll(benchDir(root, d), 0o755))
	}
	buf := make([]byte, 6001)
	for i := 0; i < files; i++ {
		name := benchFile(root, dirs, i)
		must(b, os.WriteFile(name, buf[:rng.IntN(len(buf))], 0o644))
		if i%100 == 1 {
			must(b, os.Link(name, filepath.Join(benchDir(root, (i+7)%dirs), strconv.Itoa(i)+".link")))
		}
	}
}

// benchDir and benchFile name the generated tree's folders and files.
func benchDir(root string, i int) string {
	return filepath.Join(root, strconv.Itoa(i%10), strconv.Itoa(i))
}

func benchFile(root string, dirs, i int) string {
	return filepath.Join(benchDir(root, i%dirs), strconv.Itoa(i)+".msg")
}

// BenchmarkDirsizeChangeChild is BenchmarkDirsize's child that changes the
// tree: $DIRSIZE_CHANGE = root:files:folders:changes:seed.
func BenchmarkDirsizeChangeChild(b *testing.B) {
	spec := strings.Split(os.Getenv("DIRSIZE_CHANGE"), ":")
	if len(spec) != 5 {
		b.Skip("run by BenchmarkDirsize only")
	}
	root := spec[0]
	files, _ := strconv.Atoi(spec[1])
	dirs, _ := strconv.Atoi(spec[2])
	changes, _ := strconv.Atoi(spec[3])
	seed, _ := strconv.Atoi(spec[4])
	rng := rand.New(rand.NewPCG(3, uint64(seed)))
	buf := make([]byte, 6001)
	for i := 0; i < changes; i++ {
		f := benchFile(root, dirs, rng.IntN(files))
		switch i % 5 {
		case 0:
			if fh, err := os.OpenFile(f, os.O_APPEND|os.O_WRONLY, 0); err == nil {
				fh.Write(buf[:4096])
				fh.Close()
			}
		case 1:
			must(b, os.WriteFile(filepath.Join(benchDir(root, rng.IntN(dirs)), fmt.Sprintf("new-%d.msg", i)), buf[:rng.IntN(len(buf))], 0o644))
		case 2:
			os.Remove(f)
		case 3:
			os.Rename(f, filepath.Join(benchDir(root, rng.IntN(dirs)), fmt.Sprintf("moved-%d.msg", i)))
		case 4:
			os.Link(f, filepath.Join(benchDir(root, rng.IntN(dirs)), fmt.Sprintf("link-%d.msg", i)))
		}
	}
}

// indexChildRSS runs BenchmarkDirsizeIndexChild on root in a child
// process and returns the child's peak RSS in bytes.
func indexChildRSS(b *testing.B, root string) int64 {
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkDirsizeIndexChild$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), "DIRSIZE_CHILD_ROOT="+root)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("index child: %v\n%s", err, out)
	}
	return cmd.ProcessState.SysUsage().(*syscall.Rusage).Maxrss << 10
}

// BenchmarkDirsizeIndexChild is BenchmarkDirsize's child: it builds the
// index of $DIRSIZE_CHILD_ROOT as the daemon does, measures once, exits.
func BenchmarkDirsizeIndexChild(b *testing.B) {
	root := os.Getenv("DIRSIZE_CHILD_ROOT")
	if root == "" {
		b.Skip("run by BenchmarkDirsize only")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	c, err := testProbes.New("dirsize", []string{"-p", root, "--rate", "0", "-t", "600"})
	must(b, err)
	c.(Starter).Start(ctx)
	if r := c.Run(ctx); r.Status != OK || r.Perfdata[0].NoValue {
		b.Fatalf("child: %s", r)
	}
}

// processCPU is this process's user + system CPU time so far.
func processCPU() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func ms(d time.Duration) float64 { return float64(d.Microseconds()) / 1000 }

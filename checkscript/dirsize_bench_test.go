package checkscript

import (
	"context"
	"fmt"
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
// README's dirsize row compares: the first walk (unthrottled, and at the
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
	rng := rand.New(rand.NewPCG(1, 2))
	dirOf := func(i int) string { return benchDir(root, i) }
	for d := 0; d < dirs; d++ {
		must(b, os.MkdirAll(dirOf(d), 0o755))
	}
	buf := make([]byte, 6001)
	name := func(i int) string { return benchFile(root, dirs, i) }
	for i := 0; i < files; i++ {
		must(b, os.WriteFile(name(i), buf[:rng.IntN(len(buf))], 0o644))
		if i%100 == 1 {
			must(b, os.Link(name(i), filepath.Join(dirOf((i+7)%dirs), strconv.Itoa(i)+".link")))
		}
	}
	b.Logf("tree: %d files, %d folders under %s", files, dirs, root)

	clock := func(f func()) time.Duration {
		start := time.Now()
		f()
		return time.Since(start)
	}
	var duCPU time.Duration // of the last du
	du := func(flag string) (uint64, time.Duration) {
		var out []byte
		d := clock(func() {
			cmd := exec.Command("du", flag, root)
			var err error
			out, err = cmd.Output()
			must(b, err)
			duCPU = cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
		})
		var n uint64
		fmt.Sscan(string(out), &n)
		return n, d
	}
	du("-sxB1") // warm the caches once, for everyone alike

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

	// 1% of the files change (appends, creates, deletes, renames to another
	// folder, new hard links), made by a child process: this process's CPU
	// meanwhile is the index's reading of the events, as between two runs.
	changes := files / benchEnvInt("DIRSIZE_CHANGE_DIVISOR", 100)
	cpuEvents := processCPU()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkDirsizeChangeChild$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), fmt.Sprintf("DIRSIZE_CHANGE=%s:%d:%d:%d", root, files, dirs, changes))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("change child: %v\n%s", err, out)
	}
	time.Sleep(time.Second) // the reader has read the events by then
	eventsCPU := processCPU() - cpuEvents
	// The throttled index above is garbage now: collect it here rather
	// than in the middle of the re-measure.
	runtime.GC()
	var again Result
	cpu0 := processCPU()
	remeasure := clock(func() { again = c.Run(ctx) })
	remeasureCPU := processCPU() - cpu0
	duBytes, duTime := du("-sB1")
	duxBytes, duxTime := du("-sxB1")
	duxCPU := duCPU
	got := uint64(again.Perfdata[0].Value)
	if again.Status != OK || got != duxBytes {
		b.Errorf("re-measure %d B (%s), du -sxB1 %d B", got, again, duxBytes)
	}
	same := 0.0
	if got == duxBytes && got == duBytes {
		same = 1
	}
	b.ReportMetric(float64(files), "files")
	b.ReportMetric(float64(dirs), "folders")
	b.ReportMetric(ms(oneShot), "oneshot-walk-ms")
	b.ReportMetric(ms(firstWalk), "first-walk-ms")
	b.ReportMetric(ms(throttledWalk), "first-walk-throttled-ms")
	b.ReportMetric(float64(changes), "changed-files")
	b.ReportMetric(ms(remeasure), "remeasure-ms")
	b.ReportMetric(ms(duTime), "du-sB1-ms")
	b.ReportMetric(ms(duxTime), "du-sxB1-ms")
	b.ReportMetric(ms(duxTime)/ms(remeasure), "du-over-remeasure")
	// CPU time (user + system, every thread) is what a loaded machine does
	// not blur: the wall times above include waiting for a core.
	b.ReportMetric(ms(remeasureCPU), "remeasure-cpu-ms")
	b.ReportMetric(ms(duxCPU), "du-sxB1-cpu-ms")
	b.ReportMetric(ms(duxCPU)/ms(remeasureCPU), "du-over-remeasure-cpu")
	b.ReportMetric(ms(eventsCPU), "events-cpu-ms")
	b.ReportMetric(ms(duxCPU)/(ms(remeasureCPU)+ms(eventsCPU)), "du-over-events-and-remeasure-cpu")
	b.ReportMetric(same, "same-bytes")
	b.ReportMetric(float64(got), "bytes")
	b.ReportMetric(float64(ms1.HeapInuse-ms0.HeapInuse)/entries, "heap-B/entry")
	b.ReportMetric(float64(rssFull-rssEmpty)/entries, "peak-rss-B/entry")
	b.ReportMetric(float64(rssFull)/(1<<20), "child-peak-rss-MiB")
	b.ReportMetric(float64(rssEmpty)/(1<<20), "child-empty-peak-rss-MiB")
	b.Logf("first: %s", first)
	b.Logf("again: %s", again)
}

// benchDir and benchFile name the generated tree's folders and files.
func benchDir(root string, i int) string {
	return filepath.Join(root, strconv.Itoa(i%10), strconv.Itoa(i))
}

func benchFile(root string, dirs, i int) string {
	return filepath.Join(benchDir(root, i%dirs), strconv.Itoa(i)+".msg")
}

// BenchmarkDirsizeChangeChild is BenchmarkDirsize's child that changes the
// tree: $DIRSIZE_CHANGE = root:files:folders:changes.
func BenchmarkDirsizeChangeChild(b *testing.B) {
	spec := strings.Split(os.Getenv("DIRSIZE_CHANGE"), ":")
	if len(spec) != 4 {
		b.Skip("run by BenchmarkDirsize only")
	}
	root := spec[0]
	files, _ := strconv.Atoi(spec[1])
	dirs, _ := strconv.Atoi(spec[2])
	changes, _ := strconv.Atoi(spec[3])
	rng := rand.New(rand.NewPCG(3, 4))
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

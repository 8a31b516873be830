package checkscript

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strconv"
	"syscall"
	"testing"
	"time"
)

// remeasureRound is one round of BenchmarkDirsize after the first walk:
// 1 % of the files change, then the five folders are re-measured and
// du -sxB1 runs on each, in an order that alternates between rounds (so
// neither always runs on the caches the other warmed).
type remeasureRound struct {
	duFirst bool
	// The re-measure of the five folders: wall, CPU (user + system, every
	// thread) and what else this process did meanwhile.
	wall, user, sys time.Duration
	minflt          int64 // page faults
	gcs             uint32
	// eventsCPU: this process's CPU while the child made the changes and
	// the gap after, reading and folding their events, looking names up.
	eventsCPU time.Duration
	// allCPU: this process's CPU from the changes to the end of the round,
	// the look-ups after the kernel's writeback included.
	allCPU         time.Duration
	du, duCPU      time.Duration // du -sxB1 of the five folders, one after the other
	bytes, duBytes []uint64
	summaries      []string // the re-measure's outputs
	load1          float64  // load average before the round
	changed        time.Time
}

// cpu is the re-measure's CPU time.
func (r remeasureRound) cpu() time.Duration { return r.user + r.sys }

// runRound changes the tree (seed picks which files) and measures it, gap
// after the changes (du first: after du).
func runRound(b *testing.B, checks []*dirsizeCheck, tree mailstore, changes int, seed uint64, duFirst bool, gap time.Duration) remeasureRound {
	ctx, cancel := context.WithTimeout(context.Background(), 600*time.Second) // -t 600
	defer cancel()
	r := remeasureRound{duFirst: duFirst, load1: loadAverage()}
	stopEvents := startPerf(b, fmt.Sprintf("events-%d", seed))
	cpuEvents := processCPU()
	cmd := exec.Command(os.Args[0], "-test.run=^$", "-test.bench=^BenchmarkDirsizeChangeChild$", "-test.benchtime=1x")
	cmd.Env = append(os.Environ(), fmt.Sprintf("DIRSIZE_CHANGE=%d:%d:%d:%s", tree.files, changes, seed, tree.root))
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("change child: %v\n%s", err, out)
	}
	r.changed = time.Now()
	time.Sleep(gap)
	r.eventsCPU = processCPU() - cpuEvents
	stopEvents()
	dus := func() {
		// The round's writes written back first (the kernel would within
		// 35 s): du's 40-odd seconds then walk a tree that stays put.
		syscall.Sync()
		for _, c := range checks {
			n, wall, cpu := runDu(b, "-sxB1", c.path)
			r.duBytes, r.du, r.duCPU = append(r.duBytes, n), r.du+wall, r.duCPU+cpu
		}
	}
	if duFirst {
		dus()
	}
	// Whatever the walks left is garbage now: collect it here rather
	// than in the middle of the re-measure.
	runtime.GC()
	var ms0, ms1 runtime.MemStats
	runtime.ReadMemStats(&ms0)
	stop := startPerf(b, fmt.Sprintf("remeasure-%d", seed))
	var ru0, ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	start := time.Now()
	results := make([]Result, len(checks))
	for i, c := range checks {
		results[i] = c.Run(ctx)
	}
	r.wall = time.Since(start)
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	stop()
	runtime.ReadMemStats(&ms1)
	r.user = time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano())
	r.sys = time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano())
	r.minflt = ru1.Minflt - ru0.Minflt
	r.gcs = ms1.NumGC - ms0.NumGC
	if !duFirst {
		dus()
	}
	for _, res := range results {
		r.bytes, r.summaries = append(r.bytes, remeasuredBytes(b, res)), append(r.summaries, res.Summary)
	}
	waitWriteback(r.changed) // du lasts longer: seldom waits
	r.allCPU = processCPU() - cpuEvents
	return r
}

// remeasuredBytes is the figure of a re-measure's result, which must be
// one.
func remeasuredBytes(b *testing.B, res Result) uint64 {
	if res.Status != OK || len(res.Perfdata) != 1 || res.Perfdata[0].NoValue {
		b.Fatalf("re-measure: %s", res)
	}
	return uint64(res.Perfdata[0].Value)
}

// waitWriteback waits until the keeper's look-ups after the kernel's
// writeback of changes made at changed are due (dirtree_writeback.go).
func waitWriteback(changed time.Time) {
	time.Sleep(time.Until(changed.Add(writebackDelay() + time.Second)))
}

// afterWriteback measures the folders of checks again, and du each, once
// the look-ups after writeback of the round's changes are due: the
// figures must be equal by then.
func (r remeasureRound) afterWriteback(b *testing.B, checks []*dirsizeCheck) (bytes, duBytes []uint64) {
	waitWriteback(r.changed)
	for _, c := range checks {
		n, _, _ := runDu(b, "-sxB1", c.path)
		bytes, duBytes = append(bytes, remeasuredBytes(b, c.Run(context.Background()))), append(duBytes, n)
	}
	return bytes, duBytes
}

// runDu runs GNU du with flag on root: its figure, wall and CPU time.
func runDu(b *testing.B, flag, root string) (uint64, time.Duration, time.Duration) {
	start := time.Now()
	cmd := exec.Command("du", flag, root)
	out, err := cmd.Output()
	wall := time.Since(start)
	must(b, err)
	var n uint64
	fmt.Sscan(string(out), &n)
	return n, wall, cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime()
}

// loadAverage is the 1-minute load average (0 when unreadable).
func loadAverage() float64 {
	var l float64
	if b, err := os.ReadFile("/proc/loadavg"); err == nil {
		fmt.Sscan(string(b), &l)
	}
	return l
}

// startPerf, when $DIRSIZE_PERF names a folder, attaches perf stat (system
// calls, page faults, context switches) and perf record (call graphs at
// 20 kHz) to this process for what (a phase of a round); the returned
// function stops them. A diagnosis only: perf slows what it watches.
func startPerf(b *testing.B, what string) func() {
	stopProfile := startProfile(b, what)
	threads0 := threadTimes()
	dir := os.Getenv("DIRSIZE_PERF")
	if dir == "" {
		return func() {
			stopProfile()
			if os.Getenv("DIRSIZE_PPROF") != "" {
				benchLogf(b, "%s: threads' CPU (ns, schedstat): %v", what, threadDeltas(threads0, threadTimes()))
			}
		}
	}
	pid := strconv.Itoa(os.Getpid())
	name := func(kind string) string { return filepath.Join(dir, kind+"-"+what) }
	cmds := []*exec.Cmd{
		exec.Command("perf", "stat", "-e", "raw_syscalls:sys_enter,page-faults,context-switches,task-clock", "-p", pid, "-o", name("stat")),
		exec.Command("perf", "record", "-q", "-e", "cpu-clock", "-F", "20000", "-g", "-p", pid, "-o", name("record")),
	}
	for _, cmd := range cmds {
		must(b, cmd.Start())
	}
	time.Sleep(time.Second) // attached by then
	return func() {
		stopProfile()
		benchLogf(b, "%s: threads' CPU (ns, schedstat): %v", what, threadDeltas(threads0, threadTimes()))
		for _, cmd := range cmds {
			cmd.Process.Signal(os.Interrupt)
			cmd.Wait()
		}
	}
}

// startProfile, when $DIRSIZE_PPROF names a folder, writes a CPU profile
// of this process alone (at 4 kHz) for what; the returned function stops it.
func startProfile(b *testing.B, what string) func() {
	dir := os.Getenv("DIRSIZE_PPROF")
	if dir == "" {
		return func() {}
	}
	f, err := os.Create(filepath.Join(dir, what+".pprof"))
	must(b, err)
	runtime.SetCPUProfileRate(4000) // before StartCPUProfile's 100 Hz
	must(b, pprof.StartCPUProfile(f))
	return func() {
		pprof.StopCPUProfile()
		f.Close()
	}
}

// threadTimes reads every thread's run time (ns) and run count from
// /proc/self/task/*/schedstat.
func threadTimes() map[string][2]int64 {
	out := map[string][2]int64{}
	tasks, _ := os.ReadDir("/proc/self/task")
	for _, t := range tasks {
		raw, err := os.ReadFile("/proc/self/task/" + t.Name() + "/schedstat")
		if err != nil {
			continue
		}
		var run, wait, n int64
		fmt.Sscan(string(raw), &run, &wait, &n)
		out[t.Name()] = [2]int64{run, n}
	}
	return out
}

// threadDeltas lists the threads that ran between two threadTimes, as
// "tid:ns/runs".
func threadDeltas(a, b map[string][2]int64) []string {
	var out []string
	for tid, v := range b {
		if d := v[0] - a[tid][0]; d > 0 {
			out = append(out, fmt.Sprintf("%s:%d/%d", tid, d, v[1]-a[tid][1]))
		}
	}
	return out
}

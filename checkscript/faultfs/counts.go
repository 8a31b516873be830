package faultfs

import (
	"os"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// Counts is what a leak under faults grows: the goroutines of this
// process, and the threads and open descriptors of a process, read from
// /proc.
type Counts struct {
	Goroutines, Threads, FDs int
}

// Grew reports whether c has more of anything than before plus slack.
func (c Counts) Grew(before Counts, slack int) bool {
	return c.Goroutines > before.Goroutines+slack || c.Threads > before.Threads+slack || c.FDs > before.FDs+slack
}

// CountSelf counts this process, once the goroutines that were ending have
// had a moment to end.
func CountSelf(t testing.TB) Counts {
	t.Helper()
	time.Sleep(50 * time.Millisecond)
	runtime.GC()
	c := CountProcess(t, os.Getpid())
	c.Goroutines = runtime.NumGoroutine()
	return c
}

// CountProcess reads the threads and open descriptors of process pid
// (Goroutines is left 0: only a process knows its own).
func CountProcess(t testing.TB, pid int) Counts {
	t.Helper()
	proc := "/proc/" + strconv.Itoa(pid)
	status, err := os.ReadFile(proc + "/status")
	if err != nil {
		t.Fatal(err)
	}
	var c Counts
	for _, line := range strings.Split(string(status), "\n") {
		if v, ok := strings.CutPrefix(line, "Threads:"); ok {
			c.Threads, _ = strconv.Atoi(strings.TrimSpace(v))
		}
	}
	fds, err := os.ReadDir(proc + "/fd")
	if err != nil {
		t.Fatal(err)
	}
	c.FDs = len(fds)
	return c
}

package checkscript

import (
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"

	"github.com/zextras/carbonio-health/checkscript/faultfs"
)

// dirsize on a real FUSE mount that fails on demand (faultfs): each fault
// is a status whose output names it, never a figure that is silently
// wrong, and the check is OK with du's figure again once the fault ends.

// dirFaults are the errors a mount may answer below the folder, with the
// text the output names.
var dirFaults = []struct {
	fault faultfs.Fault
	text  string
}{
	{faultfs.EIO, "Input/output error"},
	{faultfs.ESTALE, "Stale file handle"},
	{faultfs.EACCES, "Permission denied"},
}

// waitDu runs c until it answers OK with du's figure of path (or fails).
func waitDu(t *testing.T, c Check, path, step string) Result {
	t.Helper()
	for end := time.Now().Add(30 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := runDirsize(t, c)
		if r.Status == OK && len(r.Perfdata) == 1 && !r.Perfdata[0].NoValue && uint64(r.Perfdata[0].Value) == duBytes(t, path) {
			return r
		}
		if time.Now().After(end) {
			t.Fatalf("%s: %s, du -sxB1 %d", step, r, duBytes(t, path))
		}
	}
}

// The folder on a filesystem inotify cannot follow (FUSE here; NFS, SMB
// alike): every folder is read again at each run, and said so; an error
// below it (EIO, ESTALE, EACCES) is UNKNOWN naming the folder, an error on
// the folder itself CRITICAL, a hang UNKNOWN naming where it hangs (at
// once for the runs after the first); each clears when the fault ends.
func TestDirsizeFaults(t *testing.T) {
	f := faultfs.Mount(t)
	makeTree(t, f.Backing("store"))
	store := f.Path("store")
	defer func(old time.Duration) { dirStuckAfter = old }(dirStuckAfter)
	dirStuckAfter = 500 * time.Millisecond
	c := startDirsize(t, "-p", store, "--rate", "0", "-t", "2")
	r := waitDu(t, c, store, "on FUSE")
	if !strings.Contains(r.Summary, "folders on a FUSE filesystem, whose changes made elsewhere inotify does not see, re-read at every run") {
		t.Errorf("not said that inotify does not follow FUSE: %s", r)
	}
	writeFile(t, f.Backing("store/d0/made-elsewhere"), 50000) // no event reaches the mount
	waitDu(t, c, store, "changed below the mount")
	for _, df := range dirFaults {
		f.Set(t, "store/d1", df.fault)
		start := time.Now()
		r := runDirsize(t, c)
		want := "folders not fully readable (first: " + store + "/d1: " + df.text + ")"
		if r.Status != Unknown || !strings.Contains(r.Summary, want) || !strings.Contains(r.SteadyString(), want) {
			t.Errorf("%s below: got %s (steady %s), want UNKNOWN naming it", df.fault, r, r.SteadyString())
		}
		seen := time.Since(start)
		f.Set(t, "store/d1", faultfs.None)
		start = time.Now()
		waitDu(t, c, store, "after "+df.fault.String()+" below")
		t.Logf("%s below: seen by a run of %s, cleared by the next (%s)", df.fault, seen.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))

		f.Set(t, "store", df.fault)
		if r := runDirsize(t, c); r.Status != Critical || !strings.Contains(r.Summary, store+" is not accessible") {
			t.Errorf("%s on the folder: got %s, want CRITICAL", df.fault, r)
		}
		f.Set(t, "store", faultfs.None)
		start = time.Now()
		waitDu(t, c, store, "after "+df.fault.String()+" on the folder")
		t.Logf("%s on the folder: cleared after %s (a new walk)", df.fault, time.Since(start).Round(time.Millisecond))
	}
	// The same fault a thousand times: nothing is left behind.
	g0, th0, fd0 := procCounts(t)
	for i := 0; i < 1000; i++ {
		f.Set(t, "store/d1", faultfs.EIO)
		runDirsize(t, c)
		f.Set(t, "store/d1", faultfs.None)
	}
	waitDu(t, c, store, "after 1,000 EIO below")
	g1, th1, fd1 := procCounts(t)
	t.Logf("1,000 EIO below: goroutines %d → %d, threads %d → %d, fds %d → %d", g0, g1, th0, th1, fd0, fd1)
	if g1 > g0+2 || fd1 > fd0 {
		t.Errorf("1,000 EIO below left goroutines %d → %d, fds %d → %d", g0, g1, fd0, fd1)
	}

	f.Set(t, "store/d2", faultfs.Hang)
	start := time.Now()
	r = runDirsize(t, c) // the keeper re-reads every folder at each run: this one gets it stuck
	first := time.Since(start)
	f.WaitHung(t, 1)
	g0, th0, fd0 = procCounts(t)
	start = time.Now()
	for i := 0; i < 1000; i++ {
		r = runDirsize(t, c)
		// Named: the folder whose names it reads (the stat of store/d2
		// hangs), or store/d2 itself once in it.
		if r.Status != Unknown || !strings.Contains(r.Summary, "no answer from the filesystem for") ||
			(!strings.Contains(r.SteadyString(), "no answer from the filesystem (reading "+store+")") &&
				!strings.Contains(r.SteadyString(), "no answer from the filesystem (reading "+store+"/d2)")) {
			t.Fatalf("hung below: %s (steady %s)", r, r.SteadyString())
		}
	}
	later := time.Since(start) / 1000
	g1, th1, fd1 = procCounts(t)
	if now, _ := f.Hung(t); now != 1 || g1 > g0+2 || fd1 > fd0 {
		t.Errorf("1,000 runs under a hang: %d calls hung, goroutines %d → %d, fds %d → %d", now, g0, g1, fd0, fd1)
	}
	start = time.Now()
	f.Set(t, "store/d2", faultfs.None)
	waitDu(t, c, store, "after the hang")
	t.Logf("hang below: the first run answered after %s (-t 2, the hang named at %s), each of 1,000 later runs after %s; one call hung all along; goroutines %d → %d, threads %d → %d, fds %d → %d; cleared %s after the release",
		first.Round(time.Millisecond), dirStuckAfter, later.Round(time.Microsecond), g0, g1, th0, th1, fd0, fd1, time.Since(start).Round(time.Millisecond))
}

// procCounts reads this process's goroutines, threads and descriptors.
func procCounts(t *testing.T) (goroutines, threads, fds int) {
	t.Helper()
	status, err := os.ReadFile("/proc/self/status")
	must(t, err)
	for _, line := range strings.Split(string(status), "\n") {
		if n, ok := strings.CutPrefix(line, "Threads:"); ok {
			threads, _ = strconv.Atoi(strings.TrimSpace(n))
		}
	}
	entries, err := os.ReadDir("/proc/self/fd")
	must(t, err)
	return runtime.NumGoroutine(), threads, len(entries)
}

// A filesystem mounted below the folder that hangs is never looked at
// (du -x would hang on it: it stats every name), whether it was there at
// the walk or mounted after: the figure is du's without it.
func TestDirsizeHungMountBelow(t *testing.T) {
	f := faultfs.Mount(t)
	root := t.TempDir()
	makeTree(t, root)
	at := filepath.Join(root, "d1/nfs")
	must(t, os.Mkdir(at, 0o755))
	// Without what is mounted on it: du -x leaves the mount point out.
	var st unix.Stat_t
	must(t, unix.Stat(at, &st))
	want := duBytes(t, root) - uint64(st.Blocks)*512
	mount := func() {
		t.Helper()
		if err := unix.Mount(f.Path(""), at, "", unix.MS_BIND, ""); err != nil {
			t.Fatalf("bind mount of the FUSE mount: %v", err)
		}
	}
	mount()
	f.Set(t, "", faultfs.Hang)
	t.Cleanup(func() {
		f.Set(t, "", faultfs.None)
		unix.Unmount(at, unix.MNT_DETACH)
	})
	one, err := testProbes.New("dirsize", []string{"-p", root, "--rate", "0", "-t", "5"})
	must(t, err)
	if got := bytesOf(t, runDirsize(t, one)); got != want {
		t.Errorf("one-shot, hung mount below: %d, want %d", got, want)
	}
	c := startDirsize(t, "-p", root, "--rate", "0", "-t", "5")
	if got := bytesOf(t, runMeasured(t, c)); got != want {
		t.Errorf("hung mount below at the walk: %d, want %d", got, want)
	}
	must(t, unix.Unmount(at, unix.MNT_DETACH))
	for end := time.Now().Add(10 * time.Second); bytesOf(t, runDirsize(t, c)) != duBytes(t, root); time.Sleep(50 * time.Millisecond) {
		if time.Now().After(end) {
			t.Fatalf("unmounted: %d, du %d", bytesOf(t, runDirsize(t, c)), duBytes(t, root))
		}
	}
	mount()
	for end := time.Now().Add(10 * time.Second); ; time.Sleep(50 * time.Millisecond) {
		r := runDirsize(t, c)
		if r.Status == OK && uint64(r.Perfdata[0].Value) == want {
			break
		}
		if time.Now().After(end) {
			t.Fatalf("hung mount below, mounted after the walk: %s, want %d", r, want)
		}
	}
	if now, _ := f.Hung(t); now != 0 {
		t.Errorf("%d calls hung on the mount below: it was looked at", now)
	}
}

// Package faultfs is a FUSE filesystem for tests: a passthrough of a
// temporary folder that, on demand and per path, hangs (until released),
// answers EIO, ESTALE or EACCES, or behaves normally. It is the real kernel
// object behind the node-side fault tests (a dead NFS server, a failing
// disk, a folder the daemon may not read), built on github.com/hanwen/go-fuse.
//
// A test mounts one with Mount, works on the files through Backing (never
// faulted) and points the code under test at Path (through the mount):
//
//	f := faultfs.Mount(t)
//	os.Mkdir(f.Backing("store"), 0o755)
//	f.Set(t, "store", faultfs.Hang)  // every call under <mount>/store blocks
//	f.WaitHung(t, 1)                 // until the code under test is stuck in one
//	f.Set(t, "store", faultfs.None)  // releases it; the folder answers again
//
// A fault set on a path applies to that path and everything below it (the
// root, "", is the whole mount), the nearest one winning; it covers the
// calls that resolve or read the path: lookup, getattr/statx, statfs, open,
// opendir/readdir, readlink, getxattr, and the calls that change a folder
// (create, mkdir, mknod, unlink, rmdir, rename, symlink, link) by the
// folder's path. Entries and attributes are not cached by the kernel, so a
// fault is seen by the next call. A call already past its open (a read of
// an open file) is not faulted.
//
// Lifetime: the filesystem is served by a process of its own, the test
// binary re-executed (see Main and server.go for why), which lives until the
// test's cleanup: that releases every hung call, unmounts (lazily, if the
// kernel still holds it busy) and waits for the server to end, whether the
// test passed or failed. A test binary that dies before its cleanup (go
// test's -timeout, a kill) closes the server's pipe, and the server does the
// same; a server killed too leaves a dead mount (its calls answer ENOTCONN),
// which the next Mount of any test detaches (its fsname names the process
// that served it).
//
// Only _test.go files import this package (`make lint` checks it). Mounting
// needs root and /dev/fuse: the mount is direct (mount(2)), so no fusermount
// is needed.
package faultfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// FS is one mounted fault filesystem, seen from the test: its paths, and
// the commands to its server.
type FS struct {
	dir     string // the mount point
	backing string // the folder it passes through to

	mu    sync.Mutex // one command at a time
	cmd   *exec.Cmd
	in    io.WriteCloser
	out   *bufio.Scanner
	ended chan struct{} // closed when the server exited
	// killed says a test killed the server on purpose.
	killed bool
}

// fsType is the filesystem type the kernel shows: "fuse.faultfs".
const fsType = "faultfs"

// Mount mounts a new fault filesystem over a temporary folder, served by
// the test binary re-executed (the package's TestMain calls Main), and
// unmounts it at the test's cleanup. It fails the test when the mount is
// impossible under `make test` (CARBONIO_HEALTH_INTEGRATION=1), and skips
// it otherwise (not root, no /dev/fuse).
func Mount(t testing.TB) *FS {
	t.Helper()
	sweepDead(t)
	f := &FS{backing: t.TempDir(), dir: t.TempDir(), ended: make(chan struct{})}
	f.cmd = exec.Command(os.Args[0], "-test.run=^$") // a binary without the hook runs nothing
	f.cmd.Env = append(os.Environ(), serveEnv+"="+f.dir, backingEnv+"="+f.backing)
	f.cmd.Stderr = os.Stderr
	var err error
	if f.in, err = f.cmd.StdinPipe(); err != nil {
		t.Fatalf("faultfs: %v", err)
	}
	stdout, err := f.cmd.StdoutPipe()
	if err != nil {
		t.Fatalf("faultfs: %v", err)
	}
	f.out = bufio.NewScanner(stdout)
	if err := f.cmd.Start(); err != nil {
		t.Fatalf("faultfs: start the server: %v", err)
	}
	go func() {
		_ = f.cmd.Wait()
		close(f.ended)
	}()
	if first := f.readLine(); first != "mounted" {
		_ = f.cmd.Process.Kill()
		<-f.ended
		if first == "" {
			first = "no answer (does the package's TestMain call faultfs.Main?)"
		}
		msg := fmt.Sprintf("faultfs: cannot mount a FUSE filesystem on %s (needs root and /dev/fuse): %s", f.dir, first)
		if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
			t.Fatal(msg)
		}
		t.Skip(msg)
	}
	t.Cleanup(func() { f.close(t) })
	return f
}

// Path returns rel's path through the mount (what the code under test
// reads); rel is slash-separated and relative to the root.
func (f *FS) Path(rel string) string { return filepath.Join(f.dir, filepath.FromSlash(rel)) }

// Backing returns rel's path in the folder under the mount, to create or
// change files without going through the faults.
func (f *FS) Backing(rel string) string { return filepath.Join(f.backing, filepath.FromSlash(rel)) }

// Set gives rel (and everything below it) the fault k; None clears it.
// Calls hung on rel's previous Hang are released and go on under k.
// Call it from the test's goroutine.
func (f *FS) Set(t testing.TB, rel string, k Fault) {
	t.Helper()
	f.do(t, fmt.Sprintf("set %s /%s", k, clean(rel)))
}

// Clear removes every fault and releases every hung call.
func (f *FS) Clear(t testing.TB) {
	t.Helper()
	f.do(t, "clear")
}

// Hung returns the number of calls blocked in a Hang right now, and of
// calls that ever entered one.
func (f *FS) Hung(t testing.TB) (now, total int) {
	t.Helper()
	ans := f.do(t, "hung")
	if _, err := fmt.Sscanf(ans, "hung %d %d", &now, &total); err != nil {
		t.Fatalf("faultfs: answer %q: %v", ans, err)
	}
	return now, total
}

// WaitHung waits until at least n calls are blocked in a Hang (the code
// under test is stuck), failing the test after a minute.
func (f *FS) WaitHung(t testing.TB, n int) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		now, _ := f.Hung(t)
		if now >= n {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("faultfs: %d calls hung after a minute, waited for %d", now, n)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// do sends one command and returns the server's answer.
func (f *FS) do(t testing.TB, line string) string {
	t.Helper()
	f.mu.Lock()
	defer f.mu.Unlock()
	if _, err := io.WriteString(f.in, line+"\n"); err != nil {
		t.Fatalf("faultfs: %s: %v", line, err)
	}
	ans := f.readLine()
	if ans == "" || strings.HasPrefix(ans, "error") {
		t.Fatalf("faultfs: %s: %q", line, ans)
	}
	return ans
}

// readLine returns the server's next line, "" when it ended.
func (f *FS) readLine() string {
	if f.out.Scan() {
		return f.out.Text()
	}
	return ""
}

// close ends the server: it releases every hung call, unmounts and exits.
// A server that does not end within a minute is killed (its mount dies
// with it, and the next Mount detaches it).
func (f *FS) close(t testing.TB) {
	_ = f.in.Close()
	select {
	case <-f.ended:
	case <-time.After(time.Minute):
		t.Errorf("faultfs: the server of %s did not end; killing it", f.dir)
		_ = f.cmd.Process.Kill()
		<-f.ended
		_ = syscall.Unmount(f.dir, syscall.MNT_DETACH)
	}
	if f.cmd.ProcessState != nil && !f.cmd.ProcessState.Success() && !f.killed {
		t.Errorf("faultfs: the server of %s ended with %v", f.dir, f.cmd.ProcessState)
	}
}

// sweepDead detaches the mounts that faultfs processes no longer alive
// left behind (killed before their cleanup). Live ones, including other
// tests' hung mounts, are not touched, nor even looked at.
func sweepDead(t testing.TB) {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return
	}
	for _, line := range strings.Split(string(b), "\n") {
		mountPoint, source, ok := parseMountinfo(line)
		if !ok || !strings.HasPrefix(source, "faultfs-") {
			continue
		}
		var pid int
		if _, err := fmt.Sscanf(source, "faultfs-%d", &pid); err != nil || pid <= 0 {
			continue
		}
		if syscall.Kill(pid, 0) != syscall.ESRCH {
			continue // its server lives (or may: not ours to judge)
		}
		if err := syscall.Unmount(mountPoint, syscall.MNT_DETACH); err == nil {
			t.Logf("faultfs: detached %s, left behind by process %d", mountPoint, pid)
		}
	}
}

// parseMountinfo returns the mount point and the source of one line of
// /proc/self/mountinfo when its filesystem type is fuse.faultfs.
func parseMountinfo(line string) (mountPoint, source string, ok bool) {
	// 36 35 0:40 / /tmp/x rw,nosuid - fuse.faultfs faultfs-123 rw,...
	before, after, found := strings.Cut(line, " - ")
	if !found {
		return "", "", false
	}
	fields, tail := strings.Fields(before), strings.Fields(after)
	if len(fields) < 5 || len(tail) < 2 || tail[0] != "fuse."+fsType {
		return "", "", false
	}
	return unescapeMountinfo(fields[4]), tail[1], true
}

// unescapeMountinfo undoes the octal escapes (\040 for a space) of
// /proc/self/mountinfo.
func unescapeMountinfo(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			var c int
			if _, err := fmt.Sscanf(s[i+1:i+4], "%3o", &c); err == nil {
				b.WriteByte(byte(c))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

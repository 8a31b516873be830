package faultfs

import (
	"bufio"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestFaults: each fault answers what it says on stat, statfs, open and
// readdir, for the path and below it only, and None passes through.
func TestFaults(t *testing.T) {
	f := Mount(t)
	for _, d := range []string{"a/b", "c"} {
		if err := os.MkdirAll(f.Backing(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	if err := os.WriteFile(f.Backing("a/b/file"), []byte("x"), 0o644); err != nil {
		t.Fatal(err)
	}
	calls := map[string]func(p string) error{
		"stat": func(p string) error { _, err := os.Stat(p); return err },
		"statfs": func(p string) error {
			var st unix.Statfs_t
			return unix.Statfs(p, &st)
		},
		"readdir": func(p string) error { _, err := os.ReadDir(p); return err },
	}
	for _, k := range []Fault{EIO, ESTALE, EACCES} {
		f.Set(t, "a", k)
		for name, call := range calls {
			for _, p := range []string{"a", "a/b"} {
				if err := call(f.Path(p)); !errors.Is(err, k.Errno()) {
					t.Errorf("%s under %s of %s: %v, want %v", name, k, p, err, k.Errno())
				}
			}
			if err := call(f.Path("c")); err != nil {
				t.Errorf("%s of c, a sibling of the fault: %v", name, err)
			}
		}
		if _, err := os.ReadFile(f.Path("a/b/file")); !errors.Is(err, k.Errno()) {
			t.Errorf("read under %s: %v", k, err)
		}
		f.Set(t, "a", None)
		for name, call := range calls {
			if err := call(f.Path("a/b")); err != nil {
				t.Errorf("%s after the fault: %v", name, err)
			}
		}
	}
	f.Set(t, "", EIO) // the whole mount
	if _, err := os.Stat(f.Path("")); !errors.Is(err, syscall.EIO) {
		t.Errorf("stat of the root under EIO: %v", err)
	}
	f.Clear(t)
	if b, err := os.ReadFile(f.Path("a/b/file")); err != nil || string(b) != "x" {
		t.Errorf("read after Clear: %q %v", b, err)
	}
}

// TestHang: a call blocks until the fault changes, then goes on under the
// new one.
func TestHang(t *testing.T) {
	f := Mount(t)
	if err := os.Mkdir(f.Backing("d"), 0o755); err != nil {
		t.Fatal(err)
	}
	f.Set(t, "d", Hang)
	done := make(chan error, 1)
	go func() {
		var st unix.Statfs_t
		done <- unix.Statfs(f.Path("d"), &st)
	}()
	f.WaitHung(t, 1)
	select {
	case err := <-done:
		t.Fatalf("statfs returned under a hang: %v", err)
	default:
	}
	f.Set(t, "d", EIO)
	if err := <-done; !errors.Is(err, syscall.EIO) {
		t.Fatalf("statfs released into EIO: %v", err)
	}
	if now, total := f.Hung(t); now != 0 || total != 1 {
		t.Fatalf("hung now %d, ever %d; want 0, 1", now, total)
	}
}

// TestCleanupReleasesHungCalls: a test that ends with a call still hung
// (as one that fails midway) leaves no mount and no blocked call behind.
func TestCleanupReleasesHungCalls(t *testing.T) {
	var dir string
	done := make(chan error, 1)
	t.Run("leaves a call hung", func(t *testing.T) {
		f := Mount(t)
		dir = f.Path("")
		f.Set(t, "", Hang)
		go func() {
			_, err := os.Stat(f.Path("x"))
			done <- err
		}()
		f.WaitHung(t, 1)
	})
	<-done // released by the cleanup (the answer does not matter)
	if mounted(t, dir) {
		t.Fatalf("%s is still mounted after the test's cleanup", dir)
	}
}

func mounted(t *testing.T, dir string) bool {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(b), "\n") {
		if mp, _, ok := parseMountinfo(line); ok && mp == dir {
			return true
		}
	}
	return false
}

func TestParseMountinfo(t *testing.T) {
	for _, c := range []struct {
		line, mp, src string
		ok            bool
	}{
		{"36 35 0:40 / /tmp/a\\040b rw,nosuid - fuse.faultfs faultfs-123 rw,user_id=0", "/tmp/a b", "faultfs-123", true},
		{"36 35 0:40 / /tmp/x rw shared:1 - fuse.faultfs faultfs-9 rw", "/tmp/x", "faultfs-9", true},
		{"36 35 0:40 / /tmp/x rw - fuse.sshfs host: rw", "", "", false},
		{"garbage", "", "", false},
	} {
		mp, src, ok := parseMountinfo(c.line)
		if mp != c.mp || src != c.src || ok != c.ok {
			t.Errorf("%q: %q %q %v", c.line, mp, src, ok)
		}
	}
}

// TestKilledTestLeavesNoMount: a test binary killed with a call hung on
// its mount (go test's -timeout, a kill) ends, and its server unmounts.
func TestKilledTestLeavesNoMount(t *testing.T) {
	if os.Getenv("FAULTFS_HELPER") == "1" {
		f := Mount(t)
		f.Set(t, "", Hang)
		go func() { _, _ = os.Stat(f.Path("x")) }()
		f.WaitHung(t, 1)
		os.Stdout.WriteString("MOUNTED " + f.Path("") + "\n")
		select {} // killed here
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKilledTestLeavesNoMount$", "-test.v")
	cmd.Env = append(os.Environ(), "FAULTFS_HELPER=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	var dir string
	sc := bufio.NewScanner(out)
	for sc.Scan() {
		if d, ok := strings.CutPrefix(sc.Text(), "MOUNTED "); ok {
			dir = d
			break
		}
	}
	_ = cmd.Process.Kill()
	_ = cmd.Wait() // returns: the hung call was answered
	if dir == "" {
		t.Fatal("the helper did not mount")
	}
	waitUnmounted(t, dir)
	// The killed helper left its TempDir root (<tmp>/TestKilledTestLeavesNoMountN/002 is
	// the mount point): remove that, and nothing above it.
	root := filepath.Dir(dir)
	if !strings.HasPrefix(filepath.Base(root), "TestKilledTestLeavesNoMount") || filepath.Dir(root) != os.TempDir() {
		t.Fatalf("%s is not the helper's TempDir root; not removing it", root)
	}
	if err := os.RemoveAll(root); err != nil {
		t.Error(err)
	}
}

// TestKilledServerLeavesNoMount: a server killed leaves a dead mount; the
// next Mount detaches it.
func TestKilledServerLeavesNoMount(t *testing.T) {
	f := Mount(t)
	f.killed = true
	if err := f.cmd.Process.Kill(); err != nil {
		t.Fatal(err)
	}
	<-f.ended
	if _, err := os.Stat(f.Path("x")); !errors.Is(err, syscall.ENOTCONN) {
		t.Fatalf("stat on the dead mount: %v, want ENOTCONN", err)
	}
	if !mounted(t, f.Path("")) {
		t.Fatal("the dead mount is already gone (the test proves nothing)")
	}
	Mount(t)
	if mounted(t, f.Path("")) {
		t.Fatal("the dead mount is still there after a new Mount")
	}
}

func waitUnmounted(t *testing.T, dir string) {
	deadline := time.Now().Add(time.Minute)
	for mounted(t, dir) {
		if time.Now().After(deadline) {
			t.Fatalf("%s is still mounted a minute after its test ended", dir)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

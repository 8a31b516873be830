package faultfs

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strings"
	"syscall"
	"time"

	"github.com/hanwen/go-fuse/v2/fs"
	"github.com/hanwen/go-fuse/v2/fuse"
)

// The server runs in a process of its own (the test binary re-executed,
// through Main), never in the process whose calls it hangs: a process
// killed with a call hung on a mount it serves itself can never end (the
// call waits uninterruptibly for an answer its own dead threads will not
// give) and leaves its mount for good. A server of its own ends when its
// test ends, is killed or dies: it reads its commands on stdin, and its
// end of the pipe closing (or SIGKILL on the test's death) ends it.

// Environment of the server process.
const (
	serveEnv   = "CARBONIO_HEALTH_FAULTFS_SERVE"   // the mount point
	backingEnv = "CARBONIO_HEALTH_FAULTFS_BACKING" // the folder under it
)

// Main serves a fault filesystem and exits when the test binary was
// re-executed by Mount to do so, and returns at once otherwise. A package
// whose tests call Mount calls it first thing in its TestMain:
//
//	func TestMain(m *testing.M) {
//		faultfs.Main()
//		os.Exit(m.Run())
//	}
func Main() {
	dir := os.Getenv(serveEnv)
	if dir == "" {
		return
	}
	if err := serve(dir, os.Getenv(backingEnv), os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stdout, "error", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// serve mounts backing's passthrough on dir, answers commands on in until
// it closes, then releases every hung call and unmounts.
//
// Commands, one a line, each answered by one line ("ok", "hung N T", or
// "error TEXT"): "set FAULT PATH" (PATH relative to the root, "/" for it),
// "clear", "hung" (calls hung now and ever). The first line out is
// "mounted" once the filesystem answers.
func serve(dir, backing string, in io.Reader, out io.Writer) error {
	tb := &table{faults: map[string]*fault{}}
	server, err := mount(dir, backing, tb)
	if err != nil {
		return err
	}
	fmt.Fprintln(out, "mounted")
	sc := bufio.NewScanner(in)
	for sc.Scan() {
		fmt.Fprintln(out, command(tb, sc.Text()))
	}
	tb.clear()
	return unmount(server, dir)
}

// unmountWait bounds how long go-fuse's Unmount may take before the mount
// is detached instead.
const unmountWait = 10 * time.Second

// unmount ends the mount. Where it is still busy (a caller holds a file
// open there), or go-fuse's Unmount does not return (it waits for its
// request loops; seen once, under CI load, past the client's minute), the
// mount is detached: this process's exit then closes /dev/fuse, which ends
// the connection and answers any request left.
func unmount(server *fuse.Server, dir string) error {
	done := make(chan error, 1)
	go func() {
		err := server.Unmount()
		if err == nil {
			server.Wait()
		}
		done <- err
	}()
	select {
	case err := <-done:
		if err == nil {
			return nil
		}
	case <-time.After(unmountWait):
		fmt.Fprintf(os.Stderr, "faultfs: the unmount of %s did not end within %s; detaching it\n", dir, unmountWait)
	}
	// EINVAL: the unmount went through and only its loops were waited for.
	if err := syscall.Unmount(dir, syscall.MNT_DETACH); err != nil && err != syscall.EINVAL {
		return fmt.Errorf("detach %s: %w", dir, err)
	}
	return nil
}

// command runs one command line and returns its answer.
func command(tb *table, line string) string {
	f := strings.Fields(line)
	switch {
	case len(f) == 3 && f[0] == "set":
		k, ok := parseFault(f[1])
		if !ok {
			return "error unknown fault " + f[1]
		}
		tb.set(f[2], k)
		return "ok"
	case len(f) == 1 && f[0] == "clear":
		tb.clear()
		return "ok"
	case len(f) == 1 && f[0] == "hung":
		now, total := tb.counts()
		return fmt.Sprintf("hung %d %d", now, total)
	}
	return fmt.Sprintf("error unknown command %q", line)
}

// mount serves backing's passthrough with tb's faults on dir. Entries and
// attributes are not cached, so every call reaches the fault table.
func mount(dir, backing string, tb *table) (*fuse.Server, error) {
	var st syscall.Stat_t
	if err := syscall.Stat(backing, &st); err != nil {
		return nil, fmt.Errorf("backing folder: %w", err)
	}
	root := &fs.LoopbackRoot{Path: backing, Dev: st.Dev}
	root.NewNode = func(r *fs.LoopbackRoot, _ *fs.Inode, _ string, _ *syscall.Stat_t) fs.InodeEmbedder {
		return &node{LoopbackNode: fs.LoopbackNode{RootData: r}, faults: tb}
	}
	root.RootNode = root.NewNode(root, nil, "", &st)
	zero := time.Duration(0)
	return fs.Mount(dir, root.RootNode, &fs.Options{
		EntryTimeout:    &zero,
		AttrTimeout:     &zero,
		NegativeTimeout: &zero,
		MountOptions: fuse.MountOptions{
			Name:              fsType,
			FsName:            fmt.Sprintf("faultfs-%d", os.Getpid()),
			AllowOther:        true,
			DirectMountStrict: true,
		},
	})
}

package checkscript

import (
	"context"
	"net"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript/faultfs"
)

// The probes that read paths, on a real FUSE mount that fails on demand
// (faultfs): each fault is a CRITICAL whose output names it, and the probe
// is OK again once the fault ends.

// pathFaults are the errors a mount may answer, with the text the probes
// print for each.
var pathFaults = []struct {
	fault faultfs.Fault
	text  string
}{
	{faultfs.EIO, "Input/output error"},
	{faultfs.ESTALE, "Stale file handle"},
	{faultfs.EACCES, "Permission denied"},
}

// faultyFolder mounts a fault filesystem with one folder, "store", in it.
func faultyFolder(t *testing.T) (*faultfs.FS, string) {
	t.Helper()
	f := faultfs.Mount(t)
	if err := os.Mkdir(f.Backing("store"), 0o755); err != nil {
		t.Fatal(err)
	}
	return f, f.Path("store")
}

func TestDiskFaults(t *testing.T) {
	f, store := faultyFolder(t)
	disk := newProbe(t, "disk", "-w", "0%", "-c", "0%", "-p", store)
	for _, pf := range pathFaults {
		f.Set(t, "store", pf.fault)
		r := disk.Run(context.Background())
		want := "DISK CRITICAL - " + store + " is not accessible: " + pf.text
		if r.String() != want || r.SteadyString() != want {
			t.Errorf("%s: got %q, steady %q; want %q", pf.fault, r, r.SteadyString(), want)
		}
		f.Set(t, "store", faultfs.None)
		if r := disk.Run(context.Background()); r.Status != OK {
			t.Errorf("after %s: %s", pf.fault, r)
		}
	}
}

func TestSocketFaults(t *testing.T) {
	f := faultfs.Mount(t)
	if err := os.Mkdir(f.Backing("run"), 0o755); err != nil {
		t.Fatal(err)
	}
	l, err := net.Listen("unix", f.Backing("run/x.sock")) // a socket file, stat'ed through the mount
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	sock := f.Path("run/x.sock")
	probe := newProbe(t, "socket", "-p", sock, "-t", "0.2")
	// Through FUSE, stat shows the mount's inode, not the one the socket is
	// bound to: present, and whether anyone listens is unknown.
	if r := probe.Run(context.Background()); !strings.HasPrefix(r.String(), "SOCKET OK - "+sock+" is present (whether a process listens is unknown: ") {
		t.Fatalf("before any fault: %s", r)
	}
	for _, pf := range pathFaults {
		f.Set(t, "run", pf.fault)
		if r, want := probe.Run(context.Background()), "SOCKET CRITICAL - "+sock+" is not accessible: "+pf.text; r.String() != want {
			t.Errorf("%s: got %q, want %q", pf.fault, r, want)
		}
		f.Set(t, "run", faultfs.None)
		if r := probe.Run(context.Background()); r.Status != OK {
			t.Errorf("after %s: %s", pf.fault, r)
		}
	}
	f.Set(t, "run", faultfs.Hang)
	r := probe.Run(context.Background())
	hung := "SOCKET CRITICAL - " + sock + " is not accessible: stat hung (no answer within 0.2 seconds"
	if !strings.HasPrefix(r.String(), hung+", since ") || r.SteadyString() != hung+")" {
		t.Errorf("hang: got %q, steady %q", r, r.SteadyString())
	}
	f.Set(t, "run", faultfs.None)
	waitOK(t, probe)
}

// TestDiskHang: a statfs that hangs is CRITICAL after the timeout, and at
// once on the runs that follow while it still hangs (one blocked call, not
// one per run); OK once the mount answers. Over 1,000 runs under a hang and
// 1,000 hangs each released, the process holds no more goroutines, threads
// or descriptors than before (counted in /proc).
func TestDiskHang(t *testing.T) {
	f, store := faultyFolder(t)
	disk := newProbe(t, "disk", "-w", "0%", "-c", "0%", "-p", store, "-t", "0.2")
	if r := disk.Run(context.Background()); r.Status != OK {
		t.Fatalf("before the hang: %s", r)
	}
	f.Set(t, "store", faultfs.Hang)
	hung := "DISK CRITICAL - " + store + " is not accessible: statfs hung (no answer within 0.2 seconds"
	r := disk.Run(context.Background())
	if !strings.HasPrefix(r.String(), hung+", since ") || r.SteadyString() != hung+")" {
		t.Fatalf("hang: got %q, steady %q", r, r.SteadyString())
	}
	f.WaitHung(t, 1)
	before := faultfs.CountSelf(t)
	for range 1000 {
		if r2 := disk.Run(context.Background()); r2.String() != r.String() {
			t.Fatalf("a later run under the same hang: %q, want %q", r2, r)
		}
	}
	if now, total := f.Hung(t); now != 1 || total != 1 {
		t.Errorf("1,000 runs under a hang: %d calls hung now, %d ever; want 1, 1", now, total)
	}
	f.Set(t, "store", faultfs.None)
	waitOK(t, disk)
	for range 1000 { // 1,000 hangs, each given up on after 5 ms, then released
		f.Set(t, "store", faultfs.Hang)
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Millisecond)
		r := disk.Run(ctx)
		cancel()
		if r.Status != Critical {
			t.Fatalf("hang: %s", r)
		}
		f.Set(t, "store", faultfs.None)
		waitOK(t, disk)
	}
	after := faultfs.CountSelf(t)
	t.Logf("before %+v, after %+v (1,000 runs under a hang, then 1,000 hangs)", before, after)
	if after.Grew(before, 2) {
		t.Errorf("the process grew: before %+v, after %+v", before, after)
	}
}

// newProbe builds a light probe from its command-line arguments.
func newProbe(t *testing.T, name string, args ...string) Check {
	t.Helper()
	c, err := Light.New(name, args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// waitOK runs c until it is OK (a released call may still be on its way
// out of the kernel), failing after a minute.
func waitOK(t *testing.T, c Check) {
	t.Helper()
	deadline := time.Now().Add(time.Minute)
	for {
		r := c.Run(context.Background())
		if r.Status == OK {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("not OK a minute after the fault ended: %s", r)
		}
		time.Sleep(time.Millisecond)
	}
}

package registrar

import (
	"context"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript/faultfs"
	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestDaemonFolderFaults: the folders of a disk service (the mandatory
// store, the optional backup, followed with if_present) on a real FUSE
// mount that fails on demand, a real agent, the daemon in-process. Each
// fault of the backup folder (EIO, ESTALE, EACCES, a hang) keeps its
// service registered, turns its check critical with the fault named, and
// clears when the fault ends; while the folder hangs, the daemon's loop
// still answers (a service deregistered by hand comes back) and stopping
// it (what SIGTERM does) ends it at once.
func TestDaemonFolderFaults(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	f := faultfs.Mount(t)
	for _, d := range []string{"store", "backup"} {
		if err := os.Mkdir(f.Backing(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	store, backup := f.Path("store"), f.Path("backup")
	dir := t.TempDir()
	if err := os.WriteFile(dir+"/node.hcl", []byte(presenceDecl(store, backup)), 0o644); err != nil {
		t.Fatal(err)
	}
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}, DeferPresence: true}
	w := &testWriter{t: t}
	d := &Daemon{Client: n.client, Log: loggerTo(t, w), Load: func() (*hcl.Plan, error) { return hcl.Load(opts) }}
	run := startDaemon(t, d)

	const storeID, backupID = "carbonio-health:t:store", "carbonio-health:t:backup"
	has := func(id string) bool { _, ok := owned(t, n.client)[id]; return ok }
	status := func(id string) (string, string) { return checkStatus(t, n.client, id+":disk") }
	consultest.Eventually(t, "both checks passing", func() bool {
		s1, _ := status(storeID)
		s2, _ := status(backupID)
		return s1 == api.HealthPassing && s2 == api.HealthPassing
	})

	faults := []struct {
		fault faultfs.Fault
		text  string
	}{
		{faultfs.EIO, "is not accessible: Input/output error"},
		{faultfs.ESTALE, "is not accessible: Stale file handle"},
		{faultfs.EACCES, "is not accessible: Permission denied"},
		{faultfs.Hang, "is not accessible: statfs hung (no answer within 10 seconds)"},
	}
	for _, ft := range faults {
		start := time.Now()
		f.Set(t, "backup", ft.fault)
		consultest.Eventually(t, ft.fault.String()+" named by the backup's check", func() bool {
			if !has(backupID) {
				t.Fatalf("%s: the backup service was deregistered, taking its alarm with it", ft.fault)
			}
			st, out := status(backupID)
			return st == api.HealthCritical && strings.Contains(out, ft.text)
		})
		seen := time.Since(start)
		if ft.fault == faultfs.Hang {
			// The loop is not stuck behind the hung folder: a service
			// removed by hand is registered again.
			if err := n.client.Agent().ServiceDeregister(storeID); err != nil {
				t.Fatal(err)
			}
			consultest.Eventually(t, "the store registered again while the backup hangs", func() bool { return has(storeID) })
		}
		start = time.Now()
		f.Set(t, "backup", faultfs.None)
		consultest.Eventually(t, "the backup's check passing after "+ft.fault.String(), func() bool {
			st, _ := status(backupID)
			return st == api.HealthPassing
		})
		t.Logf("%s: seen critical after %s, passing again %s after it ended", ft.fault, seen.Round(time.Millisecond), time.Since(start).Round(time.Millisecond))
	}

	// Stopped while the store hangs: Run returns at once.
	f.Set(t, "store", faultfs.Hang)
	consultest.Eventually(t, "the store's check named hung", func() bool {
		st, out := status(storeID)
		return st == api.HealthCritical && strings.Contains(out, "statfs hung")
	})
	f.WaitHung(t, 1)
	start := time.Now()
	if err := run.Stop(t); err != nil {
		t.Fatal(err)
	}
	t.Logf("stopped %s after the stop, with a statfs hung", time.Since(start).Round(time.Millisecond))
}

// TestPresenceFaults: a path that answers an error, or hangs, is present
// (only ENOENT and ENOTDIR mean absent); a hung one costs one blocked stat
// however often it is looked at, and a stopped daemon's look returns at
// once.
func TestPresenceFaults(t *testing.T) {
	f := faultfs.Mount(t)
	if err := os.Mkdir(f.Backing("backup"), 0o755); err != nil {
		t.Fatal(err)
	}
	w := &testWriter{t: t}
	d := &Daemon{Log: loggerTo(t, w)}
	ctx := t.Context()
	for _, c := range []struct {
		path  string
		fault faultfs.Fault
		want  bool
	}{
		{"backup", faultfs.None, true},
		{"missing", faultfs.None, false},
		{"backup/file/x", faultfs.None, false}, // ENOTDIR once file exists
		{"backup", faultfs.EIO, true},
		{"backup", faultfs.ESTALE, true},
		{"backup", faultfs.EACCES, true},
	} {
		f.Set(t, "backup", c.fault)
		if got := d.pathExists(ctx, f.Path(c.path)); got != c.want {
			t.Errorf("%s under %s: present %v, want %v", c.path, c.fault, got, c.want)
		}
		f.Set(t, "backup", faultfs.None)
		if c.path == "missing" {
			if err := os.WriteFile(f.Backing("backup/file"), nil, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
	if !w.contains("an if_present path cannot be read") {
		t.Error("the failing path was not logged")
	}

	f.Set(t, "backup", faultfs.Hang)
	if !d.pathExists(ctx, f.Path("backup")) {
		t.Error("a hung path is not present")
	}
	for range 1000 {
		d.pathExists(ctx, f.Path("backup"))
	}
	if now, total := f.Hung(t); now != 1 || total != 1 {
		t.Errorf("1,000 looks at a hung path: %d stats hung now, %d ever; want 1, 1", now, total)
	}
	if d.presenceCalls.Blocked() != 1 {
		t.Errorf("%d stats given up on, want 1", d.presenceCalls.Blocked())
	}
	f.Set(t, "backup", faultfs.None)

	// A look at a newly hung path by a daemon being stopped returns at once.
	f.Set(t, "backup", faultfs.Hang)
	d2 := &Daemon{Log: loggerTo(t, w)}
	stopped, cancel := context.WithCancel(ctx)
	go func() { f.WaitHung(t, 1); cancel() }()
	start := time.Now()
	d2.pathExists(stopped, f.Path("backup"))
	if elapsed := time.Since(start); elapsed >= hcl.PresenceTimeout {
		t.Errorf("the look took %s: not ended by the stop", elapsed)
	}
}

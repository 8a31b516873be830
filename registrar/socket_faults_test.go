package registrar

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/checkscript/faultfs"
	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// The socket check's watch under the faults of its folder, with a real
// agent: a folder removed and created again, a queue overflow, the inotify
// watch limit. The check's interval is 30 s, as in the catalog: what is
// seen sooner is seen by the watch.

const sockCheckID = "carbonio-health:t:db:socket"

// socketDecl declares one socket service with a 30 s TTL check. Its
// recovery is not damped (success_before_passing = 1): these tests are
// about the watch, which must show each change within milliseconds; the
// damping's two results an interval apart are TestDamper's and
// TestDampingSocketFlaps'.
func socketDecl(sock string) string {
	return fmt.Sprintf(`
role "t" {
  service "db" {
    check "socket" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = %q }
      interval = "30s"
      success_before_passing = 1
    }
  }
}
node { roles = ["t"] }
`, sock)
}

// timeUntilCheck polls the agent's view of the socket check every 5 ms until
// cond holds (failing after a minute) and returns how long it took.
func timeUntilCheck(t *testing.T, c *api.Client, what string, cond func(status, output string) bool) time.Duration {
	t.Helper()
	start := time.Now()
	deadline := start.Add(time.Minute)
	for {
		if st, out := checkStatus(t, c, sockCheckID); cond(st, out) {
			return time.Since(start)
		}
		if time.Now().After(deadline) {
			st, out := checkStatus(t, c, sockCheckID)
			t.Fatalf("%s: not seen after a minute (%s: %s)", what, st, out)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

func is(status, part string) func(string, string) bool {
	return func(st, out string) bool { return st == status && strings.Contains(out, part) }
}

// listeners holds the socket each path's socketUp listens on.
var listeners = struct {
	sync.Mutex
	m map[string]net.Listener
}{m: map[string]net.Listener{}}

// socketUp makes path a socket a process listens on, as a daemon's (the
// probe calls a socket file nobody listens on stale, critical). The
// listener stays open until the next socketUp of path or the test's end:
// one at a time, so a test counting this process's descriptors sees none
// pile up. Closing it never removes the file.
func socketUp(t *testing.T, path string) {
	t.Helper()
	l, err := net.Listen("unix", path)
	if err != nil {
		t.Fatal(err)
	}
	l.(*net.UnixListener).SetUnlinkOnClose(false)
	listeners.Lock()
	prev, had := listeners.m[path]
	listeners.m[path] = l
	listeners.Unlock()
	if had {
		prev.Close()
	} else {
		t.Cleanup(func() {
			listeners.Lock()
			defer listeners.Unlock()
			listeners.m[path].Close()
			delete(listeners.m, path)
		})
	}
}

// TestDaemonSocketFolderRecreated: the socket's folder removed and created
// again (systemd's RuntimeDirectory= at every restart), the socket back,
// then lost again: each seen in the agent within milliseconds, not at the
// 30 s interval (9.6 s measured before: the watch died with the folder).
// Then 1,000 such restarts in a row: the daemon follows to the last state
// and holds no more goroutines, threads or descriptors than before.
func TestDaemonSocketFolderRecreated(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	run := filepath.Join(t.TempDir(), "carbonio")
	sock := filepath.Join(run, "mysql.sock")
	if err := os.Mkdir(run, 0o755); err != nil {
		t.Fatal(err)
	}
	socketUp(t, sock)
	load, _ := declDir(t, socketDecl(sock))
	startDaemon(t, &Daemon{Client: n.client, Load: load})
	timeUntilCheck(t, n.client, "passing at the start", is(api.HealthPassing, "is present"))

	var worst time.Duration
	for round := range 5 {
		steps := []struct {
			name string
			act  func()
			want func(string, string) bool
		}{
			{"folder removed", func() { os.RemoveAll(run) }, is(api.HealthCritical, "is not present")},
			{"folder and socket back", func() { os.Mkdir(run, 0o755); socketUp(t, sock) }, is(api.HealthPassing, "is present")},
			{"socket lost again", func() { os.Remove(sock) }, is(api.HealthCritical, "is not present")},
			{"socket back", func() { socketUp(t, sock) }, is(api.HealthPassing, "is present")},
		}
		for _, s := range steps {
			s.act()
			took := timeUntilCheck(t, n.client, fmt.Sprintf("round %d: %s", round, s.name), s.want)
			worst = max(worst, took)
		}
	}
	t.Logf("slowest of 20 changes seen in the agent: %s", worst.Round(time.Millisecond))

	before := faultfs.CountSelf(t)
	for range 1000 {
		os.RemoveAll(run)
		os.Mkdir(run, 0o755)
		socketUp(t, sock)
	}
	os.Remove(sock)
	timeUntilCheck(t, n.client, "the socket lost after 1,000 restarts", is(api.HealthCritical, "is not present"))
	socketUp(t, sock)
	timeUntilCheck(t, n.client, "the socket back after 1,000 restarts", is(api.HealthPassing, "is present"))
	after := faultfs.CountSelf(t)
	t.Logf("before %+v, after %+v (1,000 folder restarts)", before, after)
	if after.Grew(before, 3) {
		t.Errorf("the process grew: before %+v, after %+v", before, after)
	}
}

// Environment of a daemon run in a process of its own (daemonChild).
const (
	childEnv      = "CARBONIO_HEALTH_DAEMON_CHILD" // the declaration's folder
	childAgentEnv = "CARBONIO_HEALTH_DAEMON_CHILD_AGENT"
	childLimitEnv = "CARBONIO_HEALTH_DAEMON_CHILD_WATCH_LIMIT" // the file that, once there, raises the limit
)

// daemonChild runs a Daemon until SIGTERM, when the test binary was
// started by startChild; it returns false at once otherwise. With a watch
// limit file it first sets the user namespace's inotify watch limit to 0,
// and raises it once that file exists.
func daemonChild() bool {
	dir := os.Getenv(childEnv)
	if dir == "" {
		return false
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM)
	defer stop()
	if raise := os.Getenv(childLimitEnv); raise != "" {
		if err := os.WriteFile(userWatchLimit, []byte("0"), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, err)
			os.Exit(2)
		}
		go func() {
			for {
				if _, err := os.Stat(raise); err == nil {
					_ = os.WriteFile(userWatchLimit, []byte("1000"), 0o644)
					return
				}
				time.Sleep(10 * time.Millisecond)
			}
		}()
	}
	cfg := api.DefaultNonPooledConfig()
	cfg.Address = os.Getenv(childAgentEnv)
	client, err := api.NewClient(cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(2)
	}
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}}
	d := &Daemon{Client: client, Log: hclog.New(&hclog.LoggerOptions{Name: "child", Output: os.Stderr, Level: hclog.Debug}),
		Load: func() (*hcl.Plan, error) { return hcl.Load(opts) }}
	if err := d.Run(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	return true
}

// userWatchLimit is the user namespace's inotify watch limit (Linux 5.11+).
const userWatchLimit = "/proc/sys/user/max_inotify_watches"

// startChild runs a daemon in a process of its own (the test binary
// again), with the declaration in dir; raise, when set, runs it in a user
// namespace of its own whose watch limit is 0 until that file exists. The
// process is killed at the test's end if it still runs.
func startChild(t *testing.T, agent *consultest.Agent, dir, raise string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), childEnv+"="+dir, childAgentEnv+"="+agent.Addr)
	if raise != "" {
		cmd.Env = append(cmd.Env, childLimitEnv+"="+raise)
		cmd.SysProcAttr = &syscall.SysProcAttr{
			Cloneflags:  syscall.CLONE_NEWUSER,
			UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
			GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
		}
	}
	cmd.Stderr = &testWriter{t: t}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
	})
	return cmd
}

// sigterm ends the child as systemd stops the daemon and returns how long
// it took to exit.
func sigterm(t *testing.T, cmd *exec.Cmd) time.Duration {
	t.Helper()
	start := time.Now()
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("the daemon ended with %v after SIGTERM", err)
	}
	return time.Since(start)
}

// TestDaemonSocketWatchLimit: the inotify watch limit reached (in a user
// namespace of the daemon's own, whose limit is 0; the machine's is left
// alone): the socket check turns warning and names the limit; once the
// limit is raised the watch is back within 5 s, the check passes, and
// changes are seen at once again.
func TestDaemonSocketWatchLimit(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	sock := filepath.Join(t.TempDir(), "mysql.sock")
	socketUp(t, sock)
	_, decl := declDir(t, socketDecl(sock))
	raise := filepath.Join(t.TempDir(), "raise")
	child := startChild(t, n.agent, filepath.Dir(decl), raise)
	timeUntilCheck(t, n.client, "the limit named", is(api.HealthWarning, "the inotify watch limit is reached (fs.inotify.max_user_watches)"))
	_, out := checkStatus(t, n.client, sockCheckID)
	t.Logf("while the limit is reached: %s", out)
	if err := os.WriteFile(raise, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	took := timeUntilCheck(t, n.client, "passing once the limit is raised", is(api.HealthPassing, "is present"))
	if err := os.Remove(sock); err != nil {
		t.Fatal(err)
	}
	lost := timeUntilCheck(t, n.client, "the socket lost, seen by the watch", is(api.HealthCritical, "is not present"))
	t.Logf("passing %s after the limit was raised; the socket's loss seen in %s; stopped %s after SIGTERM",
		took.Round(time.Millisecond), lost.Round(time.Millisecond), sigterm(t, child).Round(time.Millisecond))
}

// TestDaemonSocketOverflow: the daemon stopped (SIGSTOP) while its socket
// folder sees more events than fs.inotify.max_queued_events, and then the
// socket goes: the kernel drops that event with the overflow. Continued
// (SIGCONT), the daemon looks at every path again and the loss is in the
// agent within milliseconds, not at the 30 s interval.
func TestDaemonSocketOverflow(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	run := t.TempDir()
	sock := filepath.Join(run, "mysql.sock")
	socketUp(t, sock)
	_, decl := declDir(t, socketDecl(sock))
	child := startChild(t, n.agent, filepath.Dir(decl), "")
	timeUntilCheck(t, n.client, "passing at the start", is(api.HealthPassing, "is present"))
	if err := child.Process.Signal(syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	b, err := os.ReadFile("/proc/sys/fs/inotify/max_queued_events")
	if err != nil {
		t.Fatal(err)
	}
	queued, _ := strconv.Atoi(strings.TrimSpace(string(b)))
	for i := range queued + 1000 {
		name := filepath.Join(run, "flood"+strconv.Itoa(i))
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(name)
	}
	if err := os.Remove(sock); err != nil { // after the overflow: this event is dropped
		t.Fatal(err)
	}
	if err := child.Process.Signal(syscall.SIGCONT); err != nil {
		t.Fatal(err)
	}
	took := timeUntilCheck(t, n.client, "the socket's loss after the overflow", is(api.HealthCritical, "is not present"))
	t.Logf("the loss seen %s after SIGCONT; stopped %s after SIGTERM", took.Round(time.Millisecond), sigterm(t, child).Round(time.Millisecond))
}

// TestDaemonSigtermWhileHung: a daemon process (not in-process: a real
// SIGTERM, a real exit) whose disk statfs and if_present stat are hung in
// a FUSE mount ends on SIGTERM, within its bound, with the threads blocked
// in the kernel.
func TestDaemonSigtermWhileHung(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	f := faultfs.Mount(t)
	for _, d := range []string{"store", "backup"} {
		if err := os.Mkdir(f.Backing(d), 0o755); err != nil {
			t.Fatal(err)
		}
	}
	_, decl := declDir(t, presenceDecl(f.Path("store"), f.Path("backup")))
	child := startChild(t, n.agent, filepath.Dir(decl), "")
	consultest.Eventually(t, "the backup's check passing", func() bool {
		st, _ := checkStatus(t, n.client, "carbonio-health:t:backup:disk")
		return st == api.HealthPassing
	})
	f.Set(t, "", faultfs.Hang) // the whole mount
	f.WaitHung(t, 2)
	consultest.Eventually(t, "the backup's check named hung", func() bool {
		st, out := checkStatus(t, n.client, "carbonio-health:t:backup:disk")
		return st == api.HealthCritical && strings.Contains(out, "statfs hung")
	})
	counts := faultfs.CountProcess(t, child.Process.Pid)
	hung, _ := f.Hung(t)
	took := sigterm(t, child)
	after, _ := f.Hung(t)
	t.Logf("stopped %s after SIGTERM with %d calls hung in the mount (%d after the exit); the daemon had %d threads, %d descriptors",
		took.Round(time.Millisecond), hung, after, counts.Threads, counts.FDs)
}

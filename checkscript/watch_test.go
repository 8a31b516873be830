package checkscript

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// TestWatchChanges watches real unix sockets come and go.
func TestWatchChanges(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "clamd.sock")
	events := watch(t, sock)
	var l net.Listener
	steps := []struct {
		name string
		act  func()
		want bool // a notification for sock
	}{
		{"socket created", func() {
			var err error
			if l, err = net.Listen("unix", sock); err != nil {
				t.Fatal(err)
			}
		}, true},
		{"unrelated file in the same folder", func() { os.WriteFile(filepath.Join(dir, "other"), nil, 0o644) }, false},
		{"socket removed", func() { l.Close(); os.Remove(sock) }, true},
	}
	for _, s := range steps {
		drain(events)
		s.act()
		got := waitEvent(events, sock, s.want)
		if got != s.want {
			t.Errorf("%s: notified = %v, want %v", s.name, got, s.want)
		}
	}
}

// watch follows paths until the test ends; notifications go to the
// channel returned.
func watch(t *testing.T, paths ...string) chan string {
	t.Helper()
	events := make(chan string, 1024)
	WatchChanges(t.Context(), paths, WatchHandler{Changed: func(p string) {
		select {
		case events <- p:
		default:
		}
	}})
	return events
}

// TestWatchChangesLateParent: the socket's folder, and the folder above
// it, appear after the start: followed down as they come, at once.
func TestWatchChangesLateParent(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "run", "carbonio")
	sock := filepath.Join(dir, "mysql.sock")
	events := watch(t, sock)
	drain(events)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if !waitEvent(events, sock, true) {
		t.Fatal("no notification after the folder appeared")
	}
	drain(events)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !waitEvent(events, sock, true) {
		t.Fatal("no notification for the socket created in the new folder")
	}
}

// TestWatchFolderRecreated: the socket's folder is removed and created
// again, as systemd's RuntimeDirectory= does at every restart of a
// service; the socket comes back, then goes again: each is seen at once
// (it took the check's interval, 9.6 s, when the watch died with the
// folder), ten times over.
func TestWatchFolderRecreated(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "carbonio")
	sock := filepath.Join(dir, "mysql.sock")
	if err := os.Mkdir(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	events := watch(t, sock)
	var worst time.Duration
	for round := range 10 {
		steps := []struct {
			name string
			act  func()
		}{
			{"folder removed", func() {
				if err := os.RemoveAll(dir); err != nil {
					t.Fatal(err)
				}
			}},
			{"folder created", func() {
				if err := os.Mkdir(dir, 0o755); err != nil {
					t.Fatal(err)
				}
			}},
			{"socket back", func() {
				l, err := net.Listen("unix", sock)
				if err != nil {
					t.Fatal(err)
				}
				l.(*net.UnixListener).SetUnlinkOnClose(false)
				l.Close()
			}},
			{"socket lost again", func() {
				if err := os.Remove(sock); err != nil {
					t.Fatal(err)
				}
			}},
		}
		for _, s := range steps {
			drain(events)
			start := time.Now()
			s.act()
			if !waitEvent(events, sock, true) {
				t.Fatalf("round %d, %s: not notified", round, s.name)
			}
			worst = max(worst, time.Since(start))
		}
	}
	t.Logf("slowest notification over 40 changes: %s", worst)
}

// TestWatchOverflow: while the watcher is held up, the kernel's event
// queue overflows (a real overflow: more events than
// fs.inotify.max_queued_events) and the socket's removal is among the
// lost events: every path is reported changed, and Overflowed is called.
func TestWatchOverflow(t *testing.T) {
	dir := t.TempDir()
	sock := filepath.Join(dir, "clamd.sock")
	if err := os.WriteFile(sock, nil, 0o644); err != nil {
		t.Fatal(err)
	}
	hold := make(chan struct{})
	events := make(chan string, 1024)
	overflowed := make(chan struct{}, 1)
	var once sync.Once
	WatchChanges(t.Context(), []string{sock}, WatchHandler{
		Changed: func(p string) {
			once.Do(func() { <-hold }) // the first event holds the watcher up
			select {
			case events <- p:
			default:
			}
		},
		Overflowed: func() { overflowed <- struct{}{} },
	})
	if err := os.WriteFile(filepath.Join(dir, "first"), nil, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(sock); err != nil { // to be lost in the flood
		t.Fatal(err)
	}
	queued := readSysctl(t, "/proc/sys/fs/inotify/max_queued_events")
	for i := range queued + 1000 { // create + delete: 2 events each, all distinct
		name := filepath.Join(dir, "flood"+strconv.Itoa(i))
		if err := os.WriteFile(name, nil, 0o644); err != nil {
			t.Fatal(err)
		}
		_ = os.Remove(name)
	}
	drain(events)
	close(hold)
	select {
	case <-overflowed:
	case <-time.After(time.Minute):
		t.Fatal("no overflow reported")
	}
	if !waitEvent(events, sock, true) {
		t.Fatal("the socket was not reported changed after the overflow")
	}
}

func readSysctl(t *testing.T, path string) int {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	n, err := strconv.Atoi(strings.TrimSpace(string(b)))
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func TestWatchPaths(t *testing.T) {
	tests := []struct {
		probe string
		args  []string
		want  int
	}{
		{"socket", []string{"-p", "/run/x.sock"}, 1},
		{"load", []string{"-w", "1,1,1", "-c", "2,2,2"}, 0},
	}
	for _, tt := range tests {
		c, err := Light.New(tt.probe, tt.args)
		if err != nil {
			t.Fatal(err)
		}
		w, ok := c.(Watcher)
		if !ok || len(w.WatchPaths()) != tt.want {
			t.Errorf("%s: Watcher %v, paths %v", tt.probe, ok, w)
		}
	}
}

func drain(c chan string) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

// waitEvent reports whether path was notified: waits up to 5 s when one
// is expected, and 300 ms to be confident none comes otherwise.
func waitEvent(c chan string, path string, expected bool) bool {
	wait := 300 * time.Millisecond
	if expected {
		wait = 5 * time.Second
	}
	deadline := time.After(wait)
	for {
		select {
		case p := <-c:
			if p == path {
				return true
			}
		case <-deadline:
			return false
		}
	}
}

// TestWatchLimits: fs.inotify.max_user_watches, then max_user_instances,
// exhausted. The test runs itself again in a user namespace of its own,
// whose limit it sets to 0 (the machine's limits, shared by every process
// of root, are left alone): Blind names the limit; once it is raised the
// watch works again within rewatchPeriod, Blind is told nil, and a socket
// created is seen.
func TestWatchLimits(t *testing.T) {
	for _, tt := range []struct{ name, limit, want string }{
		{"watches", "/proc/sys/user/max_inotify_watches", "the inotify watch limit is reached (fs.inotify.max_user_watches)"},
		{"instances", "/proc/sys/user/max_inotify_instances", "the inotify instance limit is reached (fs.inotify.max_user_instances)"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if os.Getenv("CARBONIO_HEALTH_WATCH_LIMIT_CHILD") != "1" {
				inUserNamespace(t, "^TestWatchLimits$/^"+tt.name+"$")
				return
			}
			watchUnderLimit(t, tt.limit, tt.want)
		})
	}
}

// watchUnderLimit watches a socket with limit set to 0, then raised.
func watchUnderLimit(t *testing.T, limit, want string) {
	if err := os.WriteFile(limit, []byte("0"), 0o644); err != nil {
		t.Fatal(err)
	}
	sock := filepath.Join(t.TempDir(), "clamd.sock")
	blind := make(chan string, 16)
	events := make(chan string, 16)
	WatchChanges(t.Context(), []string{sock}, WatchHandler{
		Changed: func(p string) {
			select {
			case events <- p:
			default:
			}
		},
		Blind: func(err error) {
			text := ""
			if err != nil {
				text = err.Error()
			}
			blind <- text
		},
	})
	if got := <-blind; !strings.Contains(got, want) {
		t.Fatalf("Blind got %q, want it to name %q", got, want)
	}
	if err := os.WriteFile(limit, []byte("1000"), 0o644); err != nil {
		t.Fatal(err)
	}
	select {
	case got := <-blind:
		if got != "" {
			t.Fatalf("Blind got %q once the limit was raised, want nil", got)
		}
	case <-time.After(3 * rewatchPeriod):
		t.Fatal("the watch did not work after the limit was raised")
	}
	drain(events)
	l, err := net.Listen("unix", sock)
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	if !waitEvent(events, sock, true) {
		t.Fatal("the socket's creation was not seen once watched")
	}
}

// inUserNamespace runs the test binary's test run (a -test.run pattern)
// again, as root of a new user namespace (0 mapped to 0), with
// CARBONIO_HEALTH_WATCH_LIMIT_CHILD=1, and fails when it fails.
func inUserNamespace(t *testing.T, run string) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run="+run, "-test.count=1", "-test.v")
	cmd.Env = append(os.Environ(), "CARBONIO_HEALTH_WATCH_LIMIT_CHILD=1")
	cmd.SysProcAttr = &syscall.SysProcAttr{
		Cloneflags:  syscall.CLONE_NEWUSER,
		UidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getuid(), Size: 1}},
		GidMappings: []syscall.SysProcIDMap{{ContainerID: 0, HostID: os.Getgid(), Size: 1}},
	}
	out, err := cmd.CombinedOutput()
	t.Logf("in a user namespace:\n%s", out)
	if err != nil {
		t.Fatalf("%v", err)
	}
}

package checkscript

import (
	"context"
	"net"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// socketFixtures creates, under a fresh directory, a listening socket, a
// dead socket file (its listener closed without unlinking it, as after a
// crash) and a regular file.
func socketFixtures(t *testing.T) (live, dead, regular, missing string) {
	t.Helper()
	dir := t.TempDir()
	live, dead = filepath.Join(dir, "live.sock"), filepath.Join(dir, "dead.sock")
	regular, missing = filepath.Join(dir, "file"), filepath.Join(dir, "missing.sock")
	if len(live) >= 104 { // sun_path is 108 bytes on Linux, 104 on the BSDs
		t.Skipf("temporary directory too deep for a unix socket: %s", dir)
	}

	serveConns(t, listen(t, "unix", live), hangUp)

	dl := listen(t, "unix", dead)
	dl.(*net.UnixListener).SetUnlinkOnClose(false)
	dl.Close()

	if err := os.WriteFile(regular, []byte("not a socket\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	return live, dead, regular, missing
}

func TestSocket(t *testing.T) {
	live, dead, regular, missing := socketFixtures(t)
	linked := filepath.Join(filepath.Dir(live), "link.sock")
	if err := os.Symlink(live, linked); err != nil {
		t.Fatal(err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	tests := []struct {
		name   string
		ctx    context.Context
		args   []string
		status Status
		want   *regexp.Regexp
	}{
		{"present", nil, []string{"-p", live}, OK,
			exact("SOCKET OK - " + live + " is present")},
		{"present, long flag", nil, []string{"--path", live}, OK,
			exact("SOCKET OK - " + live + " is present")},
		// Seen by another path than the one it was bound with (a link, or
		// /proc/PID/root): the listener is matched by device and inode.
		{"present through a link", nil, []string{"-p", linked}, OK,
			exact("SOCKET OK - " + linked + " is present")},
		{"accepting", nil, []string{"-p", live, "-C"}, OK,
			regexp.MustCompile("^" + regexp.QuoteMeta("SOCKET OK - "+live+" accepts connections|time=") + `[0-9.]+s;;;0$`)},
		{"accepting, long flag", nil, []string{"-p", live, "--connect"}, OK,
			regexp.MustCompile(`^SOCKET OK - .* accepts connections\|time=[0-9.]+s;;;0$`)},
		{"missing", nil, []string{"-p", missing}, Critical,
			exact("SOCKET CRITICAL - " + missing + " is not present: No such file or directory")},
		{"missing, connect", nil, []string{"-p", missing, "-C"}, Critical,
			exact("SOCKET CRITICAL - " + missing + " is not present: No such file or directory")},
		{"regular file", nil, []string{"-p", regular}, Critical,
			regexp.MustCompile("^" + regexp.QuoteMeta("SOCKET CRITICAL - "+regular+" is not a socket but a regular file") + "$")},
		{"directory", nil, []string{"-p", filepath.Dir(live)}, Critical,
			regexp.MustCompile(`^SOCKET CRITICAL - .* is not a socket but a directory$`)},
		{"dead socket file, nobody listens", nil, []string{"-p", dead}, Critical,
			exact("SOCKET CRITICAL - " + dead + " is present, but no process listens on it (stale: its daemon is gone)")},
		{"dead socket file, connect", nil, []string{"-p", dead, "-C"}, Critical,
			exact("SOCKET CRITICAL - connect to " + dead + ": Connection refused")},
		{"path through a file", nil, []string{"-p", regular + "/x.sock"}, Critical,
			exact("SOCKET CRITICAL - " + regular + "/x.sock is not accessible: Not a directory")},
		// Which of the stat and the connect gives up first is a race.
		{"deadline already passed", cancelled, []string{"-p", live, "-C"}, Critical,
			regexp.MustCompile("^SOCKET CRITICAL - (" + regexp.QuoteMeta("Socket timeout connecting to "+live) + "|" +
				regexp.QuoteMeta(live+" is not accessible: stat hung (no answer within 10 seconds, since ") + ".*\\))$")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Light.New("socket", tt.args)
			if err != nil {
				t.Fatal(err)
			}
			ctx := tt.ctx
			if ctx == nil {
				ctx = context.Background()
			}
			r := c.Run(ctx)
			if r.Status != tt.status || !tt.want.MatchString(r.String()) {
				t.Errorf("\ngot  %s (%s)\nwant %s (%s)", r, r.Status, tt.want, tt.status)
			}
		})
	}
}

func exact(s string) *regexp.Regexp { return regexp.MustCompile("^" + regexp.QuoteMeta(s) + "$") }

func TestSocketArguments(t *testing.T) {
	tests := []struct {
		args    []string
		wantErr string
	}{
		{nil, "-p PATH is required"},
		{[]string{"-C"}, "-p PATH is required"},
		{[]string{"-p", "/x.sock", "extra"}, `unexpected argument "extra"`},
		{[]string{"-p", "/x.sock", "-C=maybe"}, "invalid boolean"},
	}
	for _, tt := range tests {
		_, err := Light.New("socket", tt.args)
		if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
			t.Errorf("%v: error %v, want %q", tt.args, err, tt.wantErr)
		}
	}
}

// TestMountinfoType: the filesystem type of a device, read from mountinfo,
// and which types stack other filesystems' files under inodes of their own.
func TestMountinfoType(t *testing.T) {
	const mountinfo = `22 1 8:1 / / rw,relatime shared:1 - ext4 /dev/sda1 rw
36 22 0:40 / /run rw,nosuid shared:5 - tmpfs tmpfs rw,mode=755
90 22 0:52 / /tmp/f rw,nosuid,nodev - fuse.faultfs faultfs-123 rw,user_id=0
91 22 0:53 / /var/lib/docker/x rw - overlay overlay rw,lowerdir=/a,upperdir=/b`
	for _, tt := range []struct {
		dev, want string
		stacked   bool
	}{
		{"8:1", "ext4", false},
		{"0:40", "tmpfs", false},
		{"0:52", "fuse.faultfs", true},
		{"0:53", "overlay", true},
		{"0:99", "", false},
	} {
		got := mountinfoType(mountinfo, tt.dev)
		if got != tt.want || stackedFS(got) != tt.stacked {
			t.Errorf("%s: %q (stacked %v), want %q (%v)", tt.dev, got, stackedFS(got), tt.want, tt.stacked)
		}
	}
}

// TestSocketBindThenListen: a daemon binds its socket (the file appears,
// and the socket check's watch runs the probe) and listens a moment later.
// The probe run in between must not call the socket stale; a socket file
// nobody listens on is called stale once it is older than bindGrace.
func TestSocketBindThenListen(t *testing.T) {
	tests := []struct {
		name   string
		listen time.Duration // after bind; 0: never
		status Status
		want   string
	}{
		{"listens 200 ms after bind", 200 * time.Millisecond, OK, "is present"},
		{"never listens", 0, Critical, "is present, but no process listens on it (stale: its daemon is gone)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "d.sock")
			fd, err := unix.Socket(unix.AF_UNIX, unix.SOCK_STREAM|unix.SOCK_CLOEXEC, 0)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { unix.Close(fd) })
			if err := unix.Bind(fd, &unix.SockaddrUnix{Name: path}); err != nil {
				t.Fatal(err)
			}
			if tt.listen > 0 {
				time.AfterFunc(tt.listen, func() { _ = unix.Listen(fd, 1) })
			}
			c, err := Light.New("socket", []string{"-p", path})
			if err != nil {
				t.Fatal(err)
			}
			start := time.Now()
			r := c.Run(context.Background())
			if r.Status != tt.status || r.Summary != path+" "+tt.want {
				t.Errorf("got %s (%s), want %s %s (%s)", r, r.Status, path, tt.want, tt.status)
			}
			t.Logf("answered in %s", time.Since(start).Round(time.Millisecond))
		})
	}
}

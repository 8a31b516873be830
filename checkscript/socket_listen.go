package checkscript

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"
)

// Whether a process listens on a unix socket, asked of the kernel without
// connecting (sock_diag, as `ss -xl` asks). A daemon that dies without
// removing its socket file (SIGKILL, an OOM kill, a crash) leaves the file
// behind: its presence alone would stay OK while nothing answers. The
// kernel lists the listening unix sockets of this network namespace with the
// device and inode of the file each is bound to, which are compared with
// the file's own (the path a socket was bound with differs from the one a
// checker sees it by in another mount namespace or through /proc/PID/root).
// Connecting instead would make a database log an aborted connection at
// every check. On a stacked filesystem (FUSE, overlayfs) stat may show
// another device or inode than the one the kernel bound the socket to: no
// match there proves nothing, and the probe says it cannot tell.

// sock_diag's AF_UNIX request and answer (linux/unix_diag.h).
const (
	udiagShowVFS = 0x2 // UDIAG_SHOW_VFS
	unixDiagVFS  = 1   // UNIX_DIAG_VFS attribute
	tcpListen    = 10  // the listen state
)

// errNoListener says that no process listens on the socket.
var errNoListener = errors.New("no process listens on it")

// bindGrace is how long a socket file just created may go without a
// listener before it is called stale. A daemon binds (which creates the
// file and wakes the socket check's watch) and only then listens: a probe
// run in between finds nobody listening on a healthy daemon's socket, and
// once pushed that false alarm would stand until the next interval and
// its damped recovery. A file older than this (a daemon killed long ago)
// is called stale at once.
const bindGrace = time.Second

// listeningSettled is listening, asked again every few milliseconds while
// the socket file has no listener and is younger than bindGrace (its
// daemon may be between bind and listen), until ctx ends.
func listeningSettled(ctx context.Context, st fs.FileInfo) error {
	err := listening(st)
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !errors.Is(err, errNoListener) || !ok {
		return err
	}
	// The file's ctime is its bind (or a later chmod/chown, also part of
	// a daemon's start); a ctime in the future counts as just now.
	wait := min(bindGrace, bindGrace-time.Since(time.Unix(sys.Ctim.Unix())))
	deadline := time.NewTimer(wait)
	defer deadline.Stop()
	tick := time.NewTicker(10 * time.Millisecond)
	defer tick.Stop()
	for wait > 0 {
		select {
		case <-ctx.Done():
			return err
		case <-deadline.C:
			return listening(st)
		case <-tick.C:
			if err = listening(st); !errors.Is(err, errNoListener) {
				return err
			}
		}
	}
	return err
}

// listening reports whether a process listens on the unix socket whose
// file is st (nil error), or that none does (errNoListener), or why the
// kernel could not say.
func listening(st fs.FileInfo) error {
	sys, ok := st.Sys().(*syscall.Stat_t)
	if !ok {
		return errors.New("no inode to compare")
	}
	socks, err := listeningUnixSockets()
	if err != nil {
		return err
	}
	for _, s := range socks {
		// The kernel gives the inode's low 32 bits (udiag_vfs_ino is a
		// __u32): XFS and btrfs have inode numbers above them.
		if s.ino == uint32(sys.Ino) && s.major == unix.Major(sys.Dev) && s.minor == unix.Minor(sys.Dev) {
			return nil
		}
	}
	if t := fsType(sys.Dev); stackedFS(t) {
		return fmt.Errorf("the socket file is on %s, whose inodes are not the ones the kernel binds sockets to", t)
	}
	return errNoListener
}

// stackedFS reports whether a filesystem type shows files of another
// filesystem under inodes of its own (FUSE, overlayfs).
func stackedFS(typ string) bool {
	return typ == "fuse" || strings.HasPrefix(typ, "fuse.") || typ == "overlay"
}

// fsType is the type of the mounted filesystem with device dev, from
// /proc/self/mountinfo (a read of /proc, which a hung mount cannot block);
// "" when none is found.
func fsType(dev uint64) string {
	b, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	want := fmt.Sprintf("%d:%d", unix.Major(dev), unix.Minor(dev))
	return mountinfoType(string(b), want)
}

// mountinfoType returns the filesystem type of the first line of a
// mountinfo text whose major:minor is dev ("36 35 0:40 / /run rw - tmpfs
// tmpfs rw": tmpfs for 0:40).
func mountinfoType(mountinfo, dev string) string {
	for _, line := range strings.Split(mountinfo, "\n") {
		before, after, ok := strings.Cut(line, " - ")
		fields, tail := strings.Fields(before), strings.Fields(after)
		if ok && len(fields) >= 3 && fields[2] == dev && len(tail) > 0 {
			return tail[0]
		}
	}
	return ""
}

// boundFile is the file a listening socket is bound to.
type boundFile struct {
	ino          uint32
	major, minor uint32
}

// listeningUnixSockets asks sock_diag for every listening unix socket of
// this network namespace bound to a file.
func listeningUnixSockets() ([]boundFile, error) {
	fd, err := unix.Socket(unix.AF_NETLINK, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, unix.NETLINK_SOCK_DIAG)
	if err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	defer unix.Close(fd)
	// nlmsghdr (16) + unix_diag_req (24).
	req := make([]byte, 40)
	binary.NativeEndian.PutUint32(req[0:], 40)
	binary.NativeEndian.PutUint16(req[4:], unix.SOCK_DIAG_BY_FAMILY)
	binary.NativeEndian.PutUint16(req[6:], unix.NLM_F_REQUEST|unix.NLM_F_DUMP)
	req[16] = unix.AF_UNIX
	binary.NativeEndian.PutUint32(req[20:], 1<<tcpListen) // udiag_states
	binary.NativeEndian.PutUint32(req[28:], udiagShowVFS) // udiag_show
	if err := unix.Sendto(fd, req, 0, &unix.SockaddrNetlink{Family: unix.AF_NETLINK}); err != nil {
		return nil, fmt.Errorf("sock_diag: %w", err)
	}
	var out []boundFile
	buf := make([]byte, 32<<10)
	for {
		n, _, err := unix.Recvfrom(fd, buf, 0)
		if err != nil {
			return nil, fmt.Errorf("sock_diag: %w", err)
		}
		msgs, err := syscall.ParseNetlinkMessage(buf[:n])
		if err != nil {
			return nil, fmt.Errorf("sock_diag: %w", err)
		}
		for _, m := range msgs {
			switch m.Header.Type {
			case unix.NLMSG_DONE:
				return out, nil
			case unix.NLMSG_ERROR:
				if len(m.Data) >= 4 {
					if e := int32(binary.NativeEndian.Uint32(m.Data)); e != 0 {
						return nil, fmt.Errorf("sock_diag: %w", syscall.Errno(-e))
					}
				}
				return nil, errors.New("sock_diag: error answer")
			}
			if f, ok := parseUnixDiag(m.Data); ok {
				out = append(out, f)
			}
		}
	}
}

// parseUnixDiag reads the bound file of one unix_diag_msg (16 bytes) and
// its attributes; ok is false for a socket bound to no file.
func parseUnixDiag(b []byte) (boundFile, bool) {
	if len(b) < 16 {
		return boundFile{}, false
	}
	for a := b[16:]; len(a) >= 4; {
		l := int(binary.NativeEndian.Uint16(a[0:]))
		typ := binary.NativeEndian.Uint16(a[2:])
		if l < 4 || l > len(a) {
			break
		}
		if typ == unixDiagVFS && l >= 12 {
			dev := binary.NativeEndian.Uint32(a[8:]) // the kernel's dev_t: major<<20 | minor
			return boundFile{ino: binary.NativeEndian.Uint32(a[4:]), major: dev >> 20, minor: dev & 0xfffff}, true
		}
		a = a[(l+3)&^3:]
	}
	return boundFile{}, false
}

package checkscript

import (
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"time"
	"unsafe"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

// throttle paces a walk: WaitN blocks until n more entries may be read.
// *rate.Limiter is one; a nil throttle never waits.
type throttle interface {
	WaitN(ctx context.Context, n int) error
}

// newThrottle returns a limiter of perSecond entries (nil: unthrottled),
// with a burst of a tenth of a second's worth, so a walk pauses often and
// briefly instead of rarely and long.
func newThrottle(perSecond int) throttle {
	if perSecond <= 0 {
		return nil
	}
	return rate.NewLimiter(rate.Limit(perSecond), max(1, perSecond/10))
}

// pace waits for n entries in chunks the limiter's burst allows.
func pace(ctx context.Context, t throttle, n int) error {
	if t == nil {
		return ctx.Err()
	}
	burst := n
	if l, ok := t.(*rate.Limiter); ok {
		burst = l.Burst()
	}
	for n > 0 {
		k := min(n, burst)
		if err := t.WaitN(ctx, k); err != nil {
			if ctx.Err() == nil {
				// rate.Limiter refuses a wait that would outlast the
				// deadline: that is the deadline, reached early.
				err = context.DeadlineExceeded
			}
			return fmt.Errorf("throttled walk: %w", err)
		}
		n -= k
	}
	return nil
}

// openDir opens a folder for reading names and fstatat, without following
// a symbolic link in its last component.
func openDir(dirfd int, name string) (int, error) {
	return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// openRoot opens the measured folder (following a symbolic link given as
// the path itself, as du does for "path/") and stats it.
func openRoot(path string) (int, *unix.Stat_t, error) {
	fd, err := unix.Open(path, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return -1, nil, fmt.Errorf("%s: %w", path, err)
	}
	var st unix.Stat_t
	if err := unix.Fstat(fd, &st); err != nil {
		unix.Close(fd)
		return -1, nil, fmt.Errorf("%s: %w", path, err)
	}
	return fd, &st, nil
}

// dirList holds the names of one folder as getdents(2) gives them, each
// NUL-terminated for fstatat(2), with no string made for any: reused from
// folder to folder, so that a walk leaves next to no garbage.
type dirList struct {
	buf   []byte
	names []byte
	at    []int // where each name starts in names
}

// read reads the names of the folder open as fd, "." and ".." left out.
func (l *dirList) read(fd int) error {
	if l.buf == nil {
		l.buf = make([]byte, 16<<10)
	}
	l.names, l.at = l.names[:0], l.at[:0]
	for {
		n, err := unix.Getdents(fd, l.buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil || n <= 0 {
			return err
		}
		// struct linux_dirent64: ino, off, reclen (uint16), type, name.
		for b := l.buf[:n]; len(b) > 19; {
			reclen := int(binary.NativeEndian.Uint16(b[16:]))
			if reclen <= 19 || reclen > len(b) {
				break
			}
			name := b[19:reclen]
			if i := bytes.IndexByte(name, 0); i >= 0 {
				name = name[:i]
			}
			b = b[reclen:]
			if string(name) != "." && string(name) != ".." {
				l.at = append(l.at, len(l.names))
				l.names = append(append(l.names, name...), 0)
			}
		}
	}
}

func (l *dirList) len() int { return len(l.at) }

// name is the i-th name, without its NUL.
func (l *dirList) name(i int) []byte {
	end := len(l.names) - 1
	if i+1 < len(l.at) {
		end = l.at[i+1] - 1
	}
	return l.names[l.at[i]:end]
}

// stat is fstatat(2) of the i-th name in the folder open as fd, without
// following a symbolic link.
func (l *dirList) stat(fd, i int, st *unix.Stat_t) error {
	return fstatat(fd, l.names[l.at[i]:], st)
}

// fstatat is fstatat(2) of path, NUL-terminated, in the folder open as fd,
// without following a symbolic link: unix.Fstatat would copy the path.
func fstatat(fd int, path []byte, st *unix.Stat_t) error {
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(&path[0])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// below joins a folder's path below the root and a name in it (name "":
// the folder itself).
func below(rel, name string) string { return string(appendBelow(nil, rel, name)) }

// appendBelow appends below(rel, name) to b.
func appendBelow(b []byte, rel, name string) []byte {
	switch {
	case name == "":
		return append(b, rel...)
	case rel == ".":
		return append(b, name...)
	}
	return append(append(append(b, rel...), '/'), name...)
}

// fail records that part of d could not be read; the folder is read again
// at every run until it can be.
func (k *dirKeeper) fail(d *dirNode, name string, err error) {
	if x := k.t.extra(d); x.err == "" {
		x.err = joinRoot(k.root, below(d.path(), name)) + ": " + ErrText(err)
	}
}

// stat looks name up in folder rel below the root (name "": the folder
// itself), without following a symbolic link. The path is built in the
// keeper's buffer, with no string made (a burst of 50,000 changes made
// 6 MB of them): it is returned, valid until the next call.
func (k *dirKeeper) stat(rel, name string, st *unix.Stat_t) ([]byte, error) {
	b := appendBelow(k.path[:0], rel, name)
	k.path = append(b, 0)
	return b, fstatat(k.rootFD, k.path, st)
}

// readDir reads folder d, open as fd, again: every name in it. A subfolder
// new to the tree is read too, and with deep every subfolder, once d is
// done (so one dirList serves the whole walk).
func (k *dirKeeper) readDir(ctx context.Context, d *dirNode, fd int, deep bool) error {
	t, rel, l := k.t, d.path(), &k.list
	k.setBusy(rel)
	err := l.read(fd)
	if err := pace(ctx, k.pace, l.len()+1); err != nil {
		return err
	}
	k.setBusy(rel)
	t.clearFiles(d)
	if x := t.extras[d]; x != nil {
		x.err = ""
	}
	if err != nil {
		k.fail(d, "", err)
	}
	delete(k.pending, d)
	if !k.walking { // the walk's events mark folders for a full read (apply)
		k.readSince[d] = true
	}
	if d.wd < 0 {
		k.watch(d, fd)
	}
	clear(k.present)
	var descend []*dirNode
	k.batch = k.batch[:0]
	for i := 0; i < l.len(); i++ {
		if len(k.mounts) > 0 && k.mounts[below(rel, string(l.name(i)))] {
			continue // another filesystem mounted here: du -x leaves it out
		}
		var st unix.Stat_t
		if err := l.stat(fd, i, &st); err != nil || st.Dev != k.dev {
			if err != nil && err != unix.ENOENT {
				k.fail(d, string(l.name(i)), err)
			}
			continue
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			k.addFile(d, l.name(i), t.hashBytes(l.name(i)), &st, &k.batch)
			continue
		}
		c := d.childNamed(string(l.name(i)))
		if c == nil || c.ino != st.Ino {
			c = t.addDir(d, string(l.name(i)), st.Ino, uint64(st.Blocks))
			descend = append(descend, c)
		} else if deep {
			descend = append(descend, c)
		}
		c.own, k.present[c] = uint32(st.Blocks), true
	}
	t.setFiles(d, k.batch)
	for c := d.child; c != nil; {
		next := c.next
		if !k.present[c] {
			k.unwatch(t.removeDir(c))
		}
		c = next
	}
	if err := k.check(); err != nil {
		return err
	}
	for _, c := range descend {
		if err := k.readSub(ctx, c, fd, c.name); err != nil {
			return err
		}
	}
	return nil
}

// readSub opens subfolder c (name in the folder open as fd) and reads it
// deep. A folder that cannot be opened counts its own blocks, as du counts
// it.
func (k *dirKeeper) readSub(ctx context.Context, c *dirNode, fd int, name string) error {
	sub, err := openDir(fd, name)
	if err != nil {
		k.unreadable(c, err)
		return k.check()
	}
	defer unix.Close(sub)
	return k.readDir(ctx, c, sub, true)
}

// unreadable counts folder c as du counts a folder it cannot open: its
// own blocks alone.
func (k *dirKeeper) unreadable(c *dirNode, err error) {
	k.t.clearFiles(c)
	for s := c.child; s != nil; s = c.child {
		k.unwatch(k.t.removeDir(s))
	}
	k.fail(c, "", err)
}

// addFile records file name of d, with hash h, stat'ed as st.
func (k *dirKeeper) addFile(d *dirNode, name []byte, h uint32, st *unix.Stat_t, batch *[]uint64) {
	known := k.t.isLinked(st.Ino)
	nlink := uint64(st.Nlink)
	if known {
		nlink = max(nlink, 2) // counted once with its other names in the tree
	} else if nlink > 1 && time.Unix(st.Ctim.Unix()).After(k.since) {
		// Its link count changed since the walk began: another of its
		// names may be held as a single-link file (findSingles).
		k.newLinks[st.Ino] = newLink{nlink: uint32(st.Nlink)}
	}
	k.t.addFile(d, h, st.Ino, uint64(st.Blocks), nlink, batch)
	if st.Ctim.Sec >= k.recentSince {
		k.recheckLater(d, name, uint64(st.Blocks), st.Ctim.Sec)
	}
}

package checkscript

import (
	"bufio"
	"bytes"
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
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
	_, _, e := unix.Syscall6(unix.SYS_NEWFSTATAT, uintptr(fd), uintptr(unsafe.Pointer(&l.names[l.at[i]])),
		uintptr(unsafe.Pointer(st)), unix.AT_SYMLINK_NOFOLLOW, 0, 0)
	if e != 0 {
		return e
	}
	return nil
}

// readNames returns the names in an open folder, "." and ".." left out.
func readNames(fd int) ([]string, error) {
	var l dirList
	err := l.read(fd)
	names := make([]string, l.len())
	for i := range names {
		names[i] = string(l.name(i))
	}
	return names, err
}

// below joins a folder's path below the root and a name in it.
func below(rel, name string) string {
	switch {
	case name == "":
		return rel
	case rel == ".":
		return name
	}
	return rel + "/" + name
}

// fail records that part of d could not be read; the folder is read again
// at every run until it can be.
func (k *dirKeeper) fail(d *dirNode, name string, err error) {
	if x := k.t.extra(d); x.err == "" {
		x.err = joinRoot(k.root, below(d.path(), name)) + ": " + ErrText(err)
	}
}

// stat looks a name up below the root.
func (k *dirKeeper) stat(rel string, st *unix.Stat_t) error {
	return unix.Fstatat(k.rootFD, rel, st, unix.AT_SYMLINK_NOFOLLOW)
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
	k.readSince[d] = true
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
			k.addFile(d, t.hashBytes(l.name(i)), &st, &k.batch)
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

// addFile records a file of d named with hash h, stat'ed as st.
func (k *dirKeeper) addFile(d *dirNode, h uint32, st *unix.Stat_t, batch *[]uint64) {
	known := k.t.isLinked(st.Ino)
	nlink := uint64(st.Nlink)
	if known {
		nlink = max(nlink, 2) // counted once with its other names in the tree
	} else if nlink > 1 && time.Unix(st.Ctim.Unix()).After(k.since) {
		// Its link count changed since the walk began: another of its
		// names may be held as a single-link file (findSingles).
		k.newLinks[st.Ino] = true
	}
	k.t.addFile(d, h, st.Ino, uint64(st.Blocks), nlink, batch)
}

// lookUp applies what the events said about d: its names looked up one by
// one, the hashes to resolve, its own blocks.
func (k *dirKeeper) lookUp(ctx context.Context, d *dirNode, p *pendingDir) error {
	t, rel := k.t, d.path()
	k.setBusy(rel)
	if err := pace(ctx, k.pace, len(p.names)+1); err != nil {
		return err
	}
	if p.own {
		var st unix.Stat_t
		if err := k.stat(rel, &st); err != nil || st.Ino != d.ino {
			return nil // its path leads elsewhere: a rename whose events are coming
		}
		d.own = uint32(st.Blocks)
	}
	delete(k.pending, d)
	k.looked = append(k.looked, looked{d, p.names})
	resolve := p.resolve
	for name, mask := range p.names {
		var st unix.Stat_t
		switch err := k.stat(below(rel, name), &st); {
		case k.mounts[below(rel, name)] || err == unix.ENOENT || (err == nil && st.Dev != k.dev):
			// Gone again, or another filesystem: its events tell.
		case err != nil:
			k.fail(d, name, err)
		case st.Mode&unix.S_IFMT == unix.S_IFDIR:
			if c := d.childNamed(name); c == nil || c.ino != st.Ino {
				c = t.addDir(d, name, st.Ino, uint64(st.Blocks))
				if err := k.readSub(ctx, c, k.rootFD, below(rel, name)); err != nil {
					return err
				}
			}
		default:
			h := t.hash(name)
			if _, _, _, ok := t.removeFile(d, h, 0, false, st.Ino); ok {
				k.addFile(d, h, &st, nil) // a name of a linked inode
			} else if _, ok := t.single(d, h, inoPrint(st.Ino)); ok {
				t.removeFile(d, h, inoPrint(st.Ino), false, 0)
				k.addFile(d, h, &st, nil)
			} else if t.group(d, h) == 0 || mask&newName == unix.IN_CREATE {
				k.addFile(d, h, &st, nil)
			} else {
				if resolve == nil {
					resolve = map[uint32]bool{}
				}
				resolve[h] = true
			}
		}
	}
	if len(resolve) > 0 {
		k.resolve(d, resolve)
	}
	return nil
}

// resolve tells apart the files of d whose names share a hash: the
// folder's names are read, and those of each hash looked up again.
func (k *dirKeeper) resolve(d *dirNode, hashes map[uint32]bool) {
	dbg("resolve %s %v", d.path(), hashes)
	t, rel := k.t, d.path()
	fd, err := openDir(k.rootFD, rel)
	if err != nil {
		k.mark(d).full = true // read in full at the next refresh
		return
	}
	defer unix.Close(fd)
	names, err := readNames(fd)
	if err != nil {
		k.mark(d).full = true
		return
	}
	k.readSince[d] = true
	for h := range hashes {
		t.removeGroup(d, h)
	}
	for _, name := range names {
		h := t.hash(name)
		if !hashes[h] {
			continue
		}
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if err != unix.ENOENT {
				k.fail(d, name, err)
			}
			continue
		}
		if st.Dev == k.dev && st.Mode&unix.S_IFMT != unix.S_IFDIR && !k.mounts[below(rel, name)] {
			k.addFile(d, h, &st, nil)
		}
	}
}

// restatLinks looks up again the inodes written through a name since
// removed, through one of their other names in the tree (whose folders saw
// no event). Rare, so it may search every folder for them.
func (k *dirKeeper) restatLinks() {
	for d := range k.t.root.all() {
		if len(k.restat) == 0 {
			break
		}
		hashes := map[uint32]bool{}
		for i := 0; i < d.files.len(); i++ {
			if !d.files.linked(i) {
				continue
			}
			if ino := k.t.linked[d.files.link(i)].ino; k.restat[ino] {
				hashes[d.files.hash(i)] = true
				delete(k.restat, ino)
			}
		}
		if len(hashes) > 0 {
			k.resolve(d, hashes)
		}
	}
	clear(k.restat)
}

// findSingles finds, for each inode that newly has several links, a name
// of it the tree holds as a single-link file (at most one: such a name was
// read while it was the inode's only one), and counts it as a link: a
// link(2) raises no event in the folder of the file's other names. The
// candidates are the files with the inode's print, nearest folders first
// (a filesystem puts a file's inode near its folder's); each candidate's
// folder is read to know its names.
func (k *dirKeeper) findSingles() {
	t := k.t
	type cand struct {
		d *dirNode
		h uint32
	}
	want := make(map[uint16][]uint64, len(k.newLinks))
	var wanted [1 << 16 / 64]uint64 // the prints wanted, to skip most entries at once
	for ino := range k.newLinks {
		fp := inoPrint(ino)
		want[fp] = append(want[fp], ino)
		wanted[fp/64] |= 1 << (fp % 64)
	}
	clear(k.newLinks)
	cands := map[uint64][]cand{}
	for d := range t.root.all() {
		for i := 0; i < d.files.len(); i++ {
			if fp := d.files.print(i); wanted[fp/64]&(1<<(fp%64)) != 0 && !d.files.linked(i) {
				for _, ino := range want[fp] {
					cands[ino] = append(cands[ino], cand{d, d.files.hash(i)})
				}
			}
		}
		if x := t.extras[d]; x != nil {
			for _, b := range x.big {
				for _, ino := range want[b.fp] {
					cands[ino] = append(cands[ino], cand{d, b.hash})
				}
			}
		}
	}
	names := map[*dirNode][]string{}
	defer func() {
		dbg("findSingles: %d inodes, %d with candidates, %d folders read", len(want), len(cands), len(names))
	}()
	for ino, cs := range cands {
		dist := func(d *dirNode) uint64 { return max(d.ino, ino) - min(d.ino, ino) }
		slices.SortFunc(cs, func(a, b cand) int { return int(dist(a.d)>>1) - int(dist(b.d)>>1) })
	search:
		for _, c := range cs {
			if c.d.gone() {
				continue
			}
			list, ok := names[c.d]
			if !ok {
				if fd, err := openDir(k.rootFD, c.d.path()); err == nil {
					list, _ = readNames(fd)
					unix.Close(fd)
				}
				names[c.d] = list
			}
			for _, name := range list {
				var st unix.Stat_t
				if t.hash(name) == c.h && k.stat(below(c.d.path(), name), &st) == nil && st.Ino == ino {
					if _, _, _, ok := t.removeFile(c.d, c.h, inoPrint(ino), false, 0); ok {
						k.addFile(c.d, c.h, &st, nil)
					}
					break search
				}
			}
		}
	}
}

// readMounts returns the mount points below the root (relative paths) of
// other filesystems than the root's: du -x leaves them out, and they are
// never looked at (a hung mount there stalls nothing).
func readMounts(root string, dev uint64) map[string]bool {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil
	}
	defer f.Close()
	out := map[string]bool{}
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 /mnt1 /mnt/parent rw,noatime master:1 - ext3 /dev/root rw
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		mp := unescapeMount(fields[4])
		rel, ok := strings.CutPrefix(mp, strings.TrimSuffix(root, "/")+"/")
		maj, min, _ := strings.Cut(fields[2], ":")
		a, _ := strconv.ParseUint(maj, 10, 32)
		b, _ := strconv.ParseUint(min, 10, 32)
		if ok && rel != "" && unix.Mkdev(uint32(a), uint32(b)) != dev {
			out[rel] = true
		}
	}
	return out
}

// unescapeMount decodes mountinfo's octal escapes (\040 for a space).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if n, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(n))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// remount follows a change of the mount table: the folders holding a mount
// point that came or went are read again.
func (k *dirKeeper) remount() {
	now := readMounts(k.root, k.dev)
	for rel := range now {
		if !k.mounts[rel] {
			k.markParentOf(rel)
		}
	}
	for rel := range k.mounts {
		if !now[rel] {
			k.markParentOf(rel)
		}
	}
	k.mounts = now
}

func (k *dirKeeper) markParentOf(rel string) {
	parent := "."
	if i := strings.LastIndexByte(rel, '/'); i >= 0 {
		parent = rel[:i]
	}
	if d := k.t.find(parent); d != nil {
		k.mark(d).full = true
	}
}

func dbg(f string, a ...any) {
	if os.Getenv("DIRSIZE_DEBUG") != "" {
		fmt.Fprintf(os.Stderr, f+"\n", a...)
	}
}

package checkscript

import (
	"context"
	"errors"
	"fmt"

	"golang.org/x/sys/unix"
	"golang.org/x/time/rate"
)

// errTooManyFiles stops a walk that would hold more than --max-files.
var errTooManyFiles = errors.New("more entries than --max-files")

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

// treeVisitor receives a walk's entries: folders (which it may watch,
// through fd, before their names are read) and everything else. N is the
// visitor's handle of a folder.
type treeVisitor[N any] interface {
	dir(parent N, name string, st *unix.Stat_t, fd int) (N, error)
	file(parent N, name string, st *unix.Stat_t) error
}

// walker walks a tree the way du -x does: lstat, never following symbolic
// links, skipping entries on another filesystem than dev, counting what it
// could not read.
type walker struct {
	dev    uint64
	root   int // the measured folder, open while indexed (else -1)
	pace   throttle
	errors int
	first  string // the first error, "path: reason"
	// growOnly: the filesystem never gives back a folder's blocks when
	// names are removed from it (ext2/3/4: its entries cannot move while
	// mounted, for seekdir/telldir; e2fsck -D compacts it offline).
	growOnly bool
}

// foldersGrowOnly reports whether the filesystem of the folder open as fd
// keeps a folder's blocks when names are removed from it.
func foldersGrowOnly(fd int) bool {
	var st unix.Statfs_t
	return unix.Fstatfs(fd, &st) == nil && st.Type == unix.EXT4_SUPER_MAGIC
}

func (w *walker) fail(path string, err error) {
	if w.errors == 0 {
		w.first = path + ": " + ErrText(err)
	}
	w.errors++
}

// openDir opens a folder for reading names and fstatat, without following
// a symbolic link in its last component.
func openDir(dirfd int, name string) (int, error) {
	return unix.Openat(dirfd, name, unix.O_RDONLY|unix.O_DIRECTORY|unix.O_NOFOLLOW|unix.O_CLOEXEC, 0)
}

// readNames returns the names in an open folder, "." and ".." left out.
func readNames(fd int) ([]string, error) {
	var names []string
	buf := make([]byte, 32<<10)
	for {
		n, err := unix.Getdents(fd, buf)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return names, err
		}
		if n <= 0 {
			return names, nil
		}
		_, _, names = unix.ParseDirent(buf[:n], -1, names)
	}
}

// walkTree reads the folder open as fd (at path, visited as node) and
// everything under it, depth first, pacing every folder's names.
func walkTree[N any](ctx context.Context, w *walker, v treeVisitor[N], node N, fd int, path string) error {
	names, err := readNames(fd)
	if err != nil {
		w.fail(path, err)
	}
	if err := pace(ctx, w.pace, len(names)+1); err != nil {
		return err
	}
	for _, name := range names {
		var st unix.Stat_t
		if err := unix.Fstatat(fd, name, &st, unix.AT_SYMLINK_NOFOLLOW); err != nil {
			if err != unix.ENOENT {
				w.fail(path+"/"+name, err)
			}
			continue
		}
		if st.Dev != w.dev {
			continue // another filesystem (a mount point), as du -x
		}
		if st.Mode&unix.S_IFMT != unix.S_IFDIR {
			if err := v.file(node, name, &st); err != nil {
				return err
			}
			continue
		}
		if err := walkSubdir(ctx, w, v, node, fd, path, name, &st); err != nil {
			return err
		}
	}
	return nil
}

// walkSubdir opens folder name of the folder open as fd, visits it and
// walks it.
func walkSubdir[N any](ctx context.Context, w *walker, v treeVisitor[N], parent N, fd int, path, name string, st *unix.Stat_t) error {
	sub, err := openDir(fd, name)
	if err != nil {
		if err != unix.ENOENT {
			w.fail(path+"/"+name, err)
		}
		// Counted like du counts a folder it cannot read: its own blocks.
		_, verr := v.dir(parent, name, st, -1)
		return verr
	}
	defer unix.Close(sub)
	child, err := v.dir(parent, name, st, sub)
	if err != nil {
		return err
	}
	return walkTree(ctx, w, v, child, sub, path+"/"+name)
}

// sumVisitor adds up a tree without remembering it: the one-shot command.
// Only inodes with more than one link are remembered, to count them once.
type sumVisitor struct {
	blocks, files, dirs uint64
	linked              map[uint64]bool
}

func (s *sumVisitor) dir(_ struct{}, _ string, st *unix.Stat_t, _ int) (struct{}, error) {
	s.blocks += uint64(st.Blocks)
	s.dirs++
	return struct{}{}, nil
}

func (s *sumVisitor) file(_ struct{}, _ string, st *unix.Stat_t) error {
	if st.Nlink > 1 {
		if s.linked[st.Ino] {
			return nil
		}
		s.linked[st.Ino] = true
	}
	s.blocks += uint64(st.Blocks)
	s.files++
	return nil
}

// sumTree measures path once, as du -sxB1 does.
func sumTree(ctx context.Context, path string, pace throttle) (dirSnapshot, error) {
	fd, st, err := openRoot(path)
	if err != nil {
		return dirSnapshot{}, err
	}
	defer unix.Close(fd)
	w := &walker{dev: st.Dev, root: -1, pace: pace}
	s := &sumVisitor{linked: map[uint64]bool{}}
	s.dir(struct{}{}, "", st, fd)
	if err := walkTree(ctx, w, treeVisitor[struct{}](s), struct{}{}, fd, path); err != nil {
		return dirSnapshot{}, err
	}
	return dirSnapshot{Bytes: s.blocks * 512, Files: s.files, Dirs: s.dirs, Settled: true,
		Errors: w.errors, FirstError: w.first}, nil
}

// openRoot opens the measured folder (following a symbolic link given as
// the path itself, as du does for its arguments) and stats it.
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

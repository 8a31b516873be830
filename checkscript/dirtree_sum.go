package checkscript

import (
	"context"

	"golang.org/x/sys/unix"
)

// dirSum is one folder's figure from a full walk.
type dirSum struct {
	Bytes, Files, Dirs uint64
	Errors             int
	FirstError         string
}

// summer adds trees up in one walk, as du -sxB1 does for each of them,
// without keeping them: only inodes with several links are remembered, per
// folder, to count them once.
type summer struct {
	root   string
	dev    uint64
	pace   throttle
	busy   func(rel string)
	mounts map[string]bool
	at     map[string]int // declared folder (below root) → index
	sums   []dirSum
	linked []map[uint64]bool
	list   dirList
}

// sumTrees measures the folders paths (root and folders inside it) in one
// walk of root. busy, when set, is told each folder read.
func sumTrees(ctx context.Context, root string, paths []string, pace throttle, busy func(string)) ([]dirSum, error) {
	s := &summer{root: root, pace: pace, busy: busy, at: map[string]int{}, sums: make([]dirSum, len(paths)),
		linked: make([]map[uint64]bool, len(paths))}
	for i, p := range paths {
		s.at[relTo(root, p)], s.linked[i] = i, map[uint64]bool{}
	}
	fd, st, err := openRoot(root)
	if err != nil {
		return s.sums, err
	}
	defer unix.Close(fd)
	s.dev, s.mounts = st.Dev, mountsBelow(root, st.Dev)
	return s.sums, s.walk(ctx, fd, ".", st, nil)
}

// walk adds folder rel (open as fd, fd < 0 when unreadable) and what is
// under it to the declared folders holding it (active); its subfolders
// once its names are done, so one dirList serves the whole walk.
func (s *summer) walk(ctx context.Context, fd int, rel string, st *unix.Stat_t, active []int) error {
	if i, ok := s.at[rel]; ok {
		active = append(active[:len(active):len(active)], i)
	}
	for _, i := range active {
		s.sums[i].Bytes += uint64(st.Blocks) * 512
		s.sums[i].Dirs++
	}
	if s.busy != nil {
		s.busy(rel)
	}
	if fd < 0 {
		return nil
	}
	l := &s.list
	if err := l.read(fd); err != nil {
		s.fail(active, rel, err)
	}
	if err := pace(ctx, s.pace, l.len()+1); err != nil {
		return err
	}
	type sub struct {
		name string
		st   unix.Stat_t
	}
	var subs []sub
	for i := 0; i < l.len(); i++ {
		var est unix.Stat_t
		if len(s.mounts) > 0 && s.mounts[below(rel, string(l.name(i)))] {
			continue
		}
		if err := l.stat(fd, i, &est); err != nil || est.Dev != s.dev {
			if err != nil && err != unix.ENOENT {
				s.fail(active, below(rel, string(l.name(i))), err)
			}
			continue
		}
		if est.Mode&unix.S_IFMT == unix.S_IFDIR {
			subs = append(subs, sub{string(l.name(i)), est})
			continue
		}
		for _, i := range active {
			if est.Nlink > 1 {
				if s.linked[i][est.Ino] {
					continue
				}
				s.linked[i][est.Ino] = true
			}
			s.sums[i].Bytes += uint64(est.Blocks) * 512
			s.sums[i].Files++
		}
	}
	for _, c := range subs {
		fd, err := openDir(fd, c.name)
		if err != nil {
			s.fail(active, below(rel, c.name), err)
		}
		err = s.walk(ctx, fd, below(rel, c.name), &c.st, active)
		if fd >= 0 {
			unix.Close(fd)
		}
		if err != nil {
			return err
		}
	}
	return nil
}

func (s *summer) fail(active []int, rel string, err error) {
	for _, i := range active {
		if s.sums[i].Errors++; s.sums[i].Errors == 1 {
			s.sums[i].FirstError = joinRoot(s.root, rel) + ": " + ErrText(err)
		}
	}
}

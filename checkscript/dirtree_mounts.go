package checkscript

import (
	"strings"
)

// mountsBelow returns the mount points below the root (relative paths) of
// other filesystems than the root's: du -x leaves them out, and they are
// never looked at (a hung mount there stalls nothing).
func mountsBelow(root string, dev uint64) map[string]bool {
	mounts, err := readMounts()
	if err != nil {
		return nil
	}
	out := map[string]bool{}
	for _, m := range mounts {
		rel, ok := strings.CutPrefix(m.Dir, strings.TrimSuffix(root, "/")+"/")
		if ok && rel != "" && m.Num != dev {
			out[rel] = true
		}
	}
	return out
}

// remount follows a change of the mount table: the folders holding a mount
// point that came or went are read again.
func (k *dirKeeper) remount() {
	now := mountsBelow(k.root, k.dev)
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

// mountOf returns the mount point of the filesystem path is on, from the
// mount table (lexically: no I/O on the path itself).
func mountOf(path string) string {
	mounts, _ := readMounts()
	best := "/"
	for _, m := range mounts {
		if within(path, m.Dir) && len(m.Dir) >= len(best) {
			best = m.Dir
		}
	}
	return best
}

// fsRoot returns the type of the filesystem whose own root is mounted at
// path (not a folder of it bound there), "" when none is, from the mount
// table (no I/O on path); the last mount on a point is the one seen there.
func fsRoot(path string) string {
	mounts, _ := readMounts()
	kind := ""
	for _, m := range mounts {
		if m.Dir == path {
			kind = ""
			if m.Root == "/" {
				kind = m.Type
			}
		}
	}
	return kind
}

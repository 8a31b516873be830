package checkscript

import (
	"context"
	"time"

	"golang.org/x/sys/unix"
)

// countingFS names the filesystems (statfs f_type) whose used blocks are
// the blocks their files and folders hold, du's figure of their root, but
// for a constant of their own (ext4: one block here, tmpfs: none) and for
// files deleted while still open: measured on loop-mounted ext4 and on
// tmpfs (dirsize_counted_test.go). A declared folder that is the root of
// such a filesystem, and the only one declared on it, is measured in O(1)
// from statfs(2), less the constant found by a full walk (at the start and
// every --fallback-every), with no tree kept.
var countingFS = map[string]bool{"ext2": true, "ext3": true, "ext4": true, "tmpfs": true}

// counted serves the keeper's folder from its filesystem's own count, as
// long as it is the root of a counting filesystem and the only declared
// folder; it returns false at once when it is not, or later when another
// folder is declared inside it (the tree is needed then).
func (k *dirKeeper) counted(ctx context.Context) bool {
	name := fsRoot(k.root)
	if ps := k.declared(); len(ps) != 1 || ps[0] != k.root || !countingFS[name] {
		return false
	}
	var fs unix.Statfs_t
	offset, known := int64(0), false
	figure := func(path string) dirFigure {
		if path != k.root || !known {
			return k.last(path)
		}
		var fs unix.Statfs_t
		if err := unix.Statfs(k.root, &fs); err != nil {
			return dirFigure{Err: err, At: time.Now()}
		}
		used := int64(fs.Blocks-fs.Bfree) * fs.Frsize
		f := dirFigure{Bytes: uint64(max(used-offset, 0)), Files: fs.Files - fs.Ffree, At: time.Now(), Counted: name}
		k.mu.Lock()
		k.figures[path] = f
		k.mu.Unlock()
		return f
	}
	k.answer = figure
	defer func() { k.answer = nil }()
	for ctx.Err() == nil {
		if ps := k.declared(); len(ps) != 1 {
			return true
		}
		if !known {
			k.setPhase("first walk in progress")
		}
		k.answering = true
		sums, err := sumTrees(ctx, k.root, []string{k.root}, k.pace, k.setBusy)
		k.answering = false
		k.setBusy("")
		if ctx.Err() != nil {
			return true
		}
		if err == nil && unix.Statfs(k.root, &fs) == nil && sums[0].Errors == 0 {
			// The smallest difference seen: files deleted while still
			// open during one walk do not stay in it.
			diff := int64(fs.Blocks-fs.Bfree)*fs.Frsize - int64(sums[0].Bytes)
			if !known || diff < offset {
				offset = diff
			}
			known = true
			k.setPhase("")
		} else if err != nil {
			k.mu.Lock()
			k.figures[k.root] = dirFigure{Err: err, At: time.Now()}
			k.mu.Unlock()
		}
		k.answerWaiting()
		until := time.NewTimer(k.opts.every)
		for waiting := true; waiting; {
			select {
			case <-ctx.Done():
				until.Stop()
				return true
			case <-until.C:
				waiting = false
			case r := <-k.req:
				if r.path != k.root {
					r.reply <- k.last(r.path) // asked again once the tree is there
					until.Stop()
					return true
				}
				r.reply <- figure(r.path)
			}
		}
	}
	return true
}

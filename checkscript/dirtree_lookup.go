package checkscript

import (
	"cmp"
	"context"
	"slices"

	"golang.org/x/sys/unix"
)

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
		if _, err := k.stat(rel, "", &st); err != nil || st.Ino != d.ino {
			return nil // its path leads elsewhere: a rename whose events are coming
		}
		d.own = uint32(st.Blocks)
	}
	delete(k.pending, d)
	k.looked = append(k.looked, looked{d, p.names})
	resolve := p.resolve
	var gone map[string]uint32
	for _, n := range p.names {
		name, mask := n.name, n.mask
		var st unix.Stat_t
		path, err := k.stat(rel, name, &st)
		switch {
		case (len(k.mounts) > 0 && k.mounts[string(path)]) || (err == nil && st.Dev != k.dev):
			// Another filesystem: left out.
		case err == unix.ENOENT:
			// Gone again: its removal event comes, and must know what
			// came before (written since its last lookup, or never held).
			if gone == nil {
				gone = map[string]uint32{}
			}
			gone[name] = mask
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
			switch h := t.hash(name); {
			case k.replaceHeld(d, []byte(name), h, &st):
			case t.group(d, h) == 0 || mask&newName == unix.IN_CREATE:
				k.addFile(d, []byte(name), h, &st, nil)
			default:
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
	for name, mask := range gone {
		k.markName(d, name, mask)
	}
	return nil
}

// replaceHeld counts file name of d (hash h, stat'ed as st) anew if the tree
// holds it there (as a link of its inode, or as a single-link file with
// its inode's print); it reports whether it did.
func (k *dirKeeper) replaceHeld(d *dirNode, name []byte, h uint32, st *unix.Stat_t) bool {
	t := k.t
	if _, _, _, ok := t.removeFile(d, h, 0, false, st.Ino); ok {
		k.addFile(d, name, h, st, nil) // a name of a linked inode
		return true
	}
	if _, ok := t.single(d, h, inoPrint(st.Ino)); ok {
		t.removeFile(d, h, inoPrint(st.Ino), false, 0)
		k.addFile(d, name, h, st, nil)
		return true
	}
	return false
}

// resolve tells apart the files of d whose names share a hash: the
// folder's names are read, and those of each hash looked up again.
func (k *dirKeeper) resolve(d *dirNode, hashes map[uint32]bool) {
	t, rel := k.t, d.path()
	fd, err := openDir(k.rootFD, rel)
	if err != nil {
		k.mark(d).full = true // read in full at the next refresh
		return
	}
	defer unix.Close(fd)
	l := &k.list
	if l.read(fd) != nil {
		k.mark(d).full = true
		return
	}
	k.readSince[d] = true
	for h := range hashes {
		t.removeGroup(d, h)
	}
	for i := 0; i < l.len(); i++ {
		h := t.hashBytes(l.name(i))
		if !hashes[h] {
			continue
		}
		var st unix.Stat_t
		if err := l.stat(fd, i, &st); err != nil {
			if err != unix.ENOENT {
				k.fail(d, string(l.name(i)), err)
			}
			continue
		}
		if st.Dev == k.dev && st.Mode&unix.S_IFMT != unix.S_IFDIR && (len(k.mounts) == 0 || !k.mounts[below(rel, string(l.name(i)))]) {
			k.addFile(d, l.name(i), h, &st, nil)
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
			if ino := k.t.links.places[d.files.link(i)].ino(); k.restat[ino] {
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
// folder is read to know its names. The inodes are taken findBatch at a
// time, one pass over the tree each: a pass holds about files × findBatch
// / 65,536 candidates (16 bytes each, in one slice: 310 KiB at 5,000,000
// files), not a share of the tree that grows with a burst of new links.
//
// An inode of which no single-link name was found stays in k.newLinks for
// the next search (findTries in all): the search reads folders as they
// are now, while the tree is as of the events folded so far, so a name
// renamed meanwhile (its events not folded yet) is found in neither place
// until they are. refresh drops them once a search was followed by no
// event: the tree and the folders agreed, and the name is not in the tree.
func (k *dirKeeper) findSingles() {
	t := k.t
	var inos []uint64
	for ino, l := range k.newLinks {
		if at, ok := t.links.find(ino); !ok || t.links.places[at].names < l.nlink {
			inos = append(inos, ino)
		} else {
			delete(k.newLinks, ino) // every name of it is counted as a link already
		}
	}
	for len(inos) > 0 {
		n := min(len(inos), findBatch)
		k.cands = k.findSinglesOf(inos[:n], k.cands[:0])
		inos = inos[n:]
	}
}

// newLink is an inode newly with several links: its link count, and how
// many searches for its single-link name found none.
type newLink struct {
	nlink uint32
	tries uint8
}

// findBatch: 256 inodes a pass over the tree's entries (about 10 ms at
// 5,000,000 files); 1,024 held four times the candidates (1.2 MiB, and
// as much again of garbage as their lists grew) during a burst.
// findTries: searches for an inode's single-link name (findSingles).
const (
	findBatch = 256
	findTries = 3
)

// singleCand is a single-link file of folder d with name hash h that may
// be a name of inos[i].
type singleCand struct {
	d    *dirNode
	h, i uint32
}

func (k *dirKeeper) findSinglesOf(inos []uint64, cands []singleCand) []singleCand {
	t := k.t
	want := make(map[uint16][]uint32, len(inos)) // print: places in inos
	var wanted [1 << 16 / 64]uint64              // the prints wanted, to skip most entries at once
	for i, ino := range inos {
		fp := inoPrint(ino)
		want[fp] = append(want[fp], uint32(i))
		wanted[fp/64] |= 1 << (fp % 64)
	}
	for d := range t.root.all() {
		for i := 0; i < d.files.len(); i++ {
			if fp := d.files.print(i); wanted[fp/64]&(1<<(fp%64)) != 0 && !d.files.linked(i) {
				for _, at := range want[fp] {
					cands = append(cands, singleCand{d, d.files.hash(i), at})
				}
			}
		}
		if x := t.extras[d]; x != nil {
			for _, b := range x.big {
				for _, at := range want[b.fp] {
					cands = append(cands, singleCand{d, b.hash, at})
				}
			}
		}
	}
	// By inode, then nearest folder first.
	dist := func(c singleCand) uint64 { ino := inos[c.i]; return max(c.d.ino, ino) - min(c.d.ino, ino) }
	slices.SortFunc(cands, func(a, b singleCand) int {
		return cmp.Or(cmp.Compare(a.i, b.i), cmp.Compare(dist(a), dist(b)))
	})
	for j := 0; j < len(cands); j++ {
		c := cands[j]
		if !c.d.gone() && k.convert(c.d, c.h, inos[c.i]) {
			delete(k.newLinks, inos[c.i])
			for j+1 < len(cands) && cands[j+1].i == c.i {
				j++ // found: the inode's other candidates are skipped
			}
		}
	}
	for _, ino := range inos { // not found: searched again, findTries times in all
		if l, ok := k.newLinks[ino]; ok {
			if l.tries++; l.tries >= findTries {
				delete(k.newLinks, ino)
			} else {
				k.newLinks[ino] = l
			}
		}
	}
	clear(cands) // no folder kept alive by the reused slice
	return cands
}

// convert counts the name of inode ino with hash h in folder d, held as a
// single-link file, as a link; it reports whether there was one.
func (k *dirKeeper) convert(d *dirNode, h uint32, ino uint64) bool {
	fd, err := openDir(k.rootFD, d.path())
	if err != nil {
		return false
	}
	defer unix.Close(fd)
	l := &k.list
	if l.read(fd) != nil {
		return false
	}
	for i := 0; i < l.len(); i++ {
		var st unix.Stat_t
		if k.t.hashBytes(l.name(i)) == h && l.stat(fd, i, &st) == nil && st.Ino == ino {
			if _, _, _, ok := k.t.removeFile(d, h, inoPrint(ino), false, 0); ok {
				k.addFile(d, l.name(i), h, &st, nil)
				return true
			}
		}
	}
	return false
}

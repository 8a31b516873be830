package checkscript

import (
	"iter"
	"slices"
)

// childNamed returns d's subfolder called name.
func (d *dirNode) childNamed(name string) *dirNode {
	for c := d.child; c != nil; c = c.next {
		if c.name == name {
			return c
		}
	}
	return nil
}

// addDir records subfolder name of d (replacing one of that name) and
// returns it.
func (t *dirTree) addDir(d *dirNode, name string, ino, blocks uint64) *dirNode {
	if old := d.childNamed(name); old != nil {
		t.removeDir(old)
	}
	c := &dirNode{parent: d, name: name, ino: ino, own: uint32(blocks), wd: -1}
	c.next, d.child = d.child, c
	t.dirs++
	t.unwatched++
	return c
}

// detach takes folder c out of its parent, still counted, until attach
// puts it back or removeDir forgets it.
func (t *dirTree) detach(c *dirNode) {
	if p := c.parent; p != nil {
		for at := &p.child; *at != nil; at = &(*at).next {
			if *at == c {
				*at = c.next
				break
			}
		}
	}
	c.parent, c.next = nil, nil
}

// attach puts detached folder c under d as name.
func (t *dirTree) attach(d *dirNode, name string, c *dirNode) {
	if old := d.childNamed(name); old != nil {
		t.removeDir(old)
	}
	c.parent, c.name, c.next, d.child = d, name, d.child, c
}

// removeDir forgets folder c and everything under it, and returns the
// inotify watches they had.
func (t *dirTree) removeDir(c *dirNode) (watches []int32) {
	t.detach(c)
	for d := range c.all() {
		t.clearFiles(d)
		if d.wd >= 0 {
			watches = append(watches, d.wd)
		}
		t.setWatch(d, -1)
		t.unwatched--
		t.dirs--
		delete(t.extras, d)
		d.parent, d.child = d, nil // gone
	}
	return watches
}

// setWatch records the folder's inotify watch (-1: none).
func (t *dirTree) setWatch(d *dirNode, wd int32) {
	if d.wd >= 0 {
		t.byWD[d.wd] = nil
		t.unwatched++
	}
	d.wd = wd
	if wd >= 0 {
		for int(wd) >= len(t.byWD) {
			t.byWD = append(t.byWD, nil)
		}
		t.byWD[wd] = d
		t.unwatched--
	}
}

// watched returns the folder of watch wd, or nil.
func (t *dirTree) watched(wd int32) *dirNode {
	if wd < 0 || int(wd) >= len(t.byWD) {
		return nil
	}
	return t.byWD[wd]
}

// all yields d and every folder under it, each before its subfolders.
func (d *dirNode) all() iter.Seq[*dirNode] {
	return func(yield func(*dirNode) bool) {
		for stack := []*dirNode{d}; len(stack) > 0; {
			n := stack[len(stack)-1]
			stack = stack[:len(stack)-1]
			for s := n.child; s != nil; s = s.next {
				stack = append(stack, s)
			}
			if !yield(n) {
				return
			}
		}
	}
}

// depth counts the folders above d (0 for the root, and for a folder no
// longer in the tree).
func (d *dirNode) depth() int {
	n := 0
	for e := d; e.parent != nil && !e.gone(); e = e.parent {
		n++
	}
	return n
}

// path is a folder's path below the root ("." for the root).
func (d *dirNode) path() string {
	if d.parent == nil || d.gone() {
		return "."
	}
	n := -1
	for e := d; e.parent != nil; e = e.parent {
		n += len(e.name) + 1
	}
	b := make([]byte, n)
	for e := d; e.parent != nil; e = e.parent {
		n -= len(e.name)
		copy(b[n:], e.name)
		if n--; n >= 0 {
			b[n] = '/'
		}
	}
	return string(b)
}

// find returns the folder at rel ("." or a/b/c below the root), or nil.
func (t *dirTree) find(rel string) *dirNode {
	d := t.root
	for rel != "." && rel != "" && d != nil {
		name, rest, _ := cutSlash(rel)
		d, rel = d.childNamed(name), rest
	}
	return d
}

func cutSlash(s string) (string, string, bool) {
	for i := 0; i < len(s); i++ {
		if s[i] == '/' {
			return s[:i], s[i+1:], true
		}
	}
	return s, "", false
}

// treeTotal is what a folder's tree adds up to.
type treeTotal struct {
	blocks, files, dirs uint64
	errors              int
	firstError          string
	unwatched           int
}

// total adds up the tree under d: every folder's own blocks and its
// files', each inode with several links once. seen is reused between
// calls.
func (t *dirTree) total(d *dirNode, seen *[]uint64) treeTotal {
	var tt treeTotal
	n := (len(t.links.places) + 63) / 64
	marks := slices.Grow((*seen)[:0], n)[:n]
	clear(marks)
	for n := range d.all() {
		tt.blocks += uint64(n.own)
		tt.files += uint64(n.files.len())
		tt.dirs++
		tt.unwatched += b2i(n.wd < 0)
		if x := t.extras[n]; x != nil {
			tt.files += uint64(len(x.big))
			for _, b := range x.big {
				tt.blocks += b.blocks
			}
			if x.err != "" {
				if tt.errors++; tt.errors == 1 {
					tt.firstError = x.err
				}
			}
		}
		for i := 0; i < n.files.len(); i++ {
			if !n.files.linked(i) {
				tt.blocks += uint64(n.files.units(i)) * t.unit
			} else if d != t.root {
				at := n.files.link(i)
				if marks[at/64]&(1<<(at%64)) == 0 {
					marks[at/64] |= 1 << (at % 64)
					tt.blocks += t.links.blocks(at)
				} else {
					tt.files-- // another name of one counted
				}
			}
		}
	}
	if d == t.root { // every inode of the table has a name here
		for at, li := range t.links.places {
			tt.blocks += t.links.blocks(uint32(at))
			tt.files -= uint64(max(li.names, 1) - 1)
		}
	}
	*seen = marks
	return tt
}

package checkscript

import (
	"slices"
)

// extra returns d's extra, made when missing.
func (t *dirTree) extra(d *dirNode) *dirExtra {
	x := t.extras[d]
	if x == nil {
		x = &dirExtra{}
		t.extras[d] = x
	}
	return x
}

// tidy drops an empty extra.
func (t *dirTree) tidy(d *dirNode) {
	if x := t.extras[d]; x != nil && len(x.big) == 0 && x.err == "" {
		delete(t.extras, d)
	}
}

// group counts d's names with hash h.
func (t *dirTree) group(d *dirNode, h uint32) int {
	n := 0
	for i := d.files.search(h); i < d.files.len() && d.files.hash(i) == h; i++ {
		n++
	}
	if x := t.extras[d]; x != nil {
		for _, b := range x.big {
			n += b2i(b.hash == h)
		}
	}
	return n
}

func b2i(b bool) int {
	if b {
		return 1
	}
	return 0
}

// addFile records a file of d named with hash h. With batch, its entry
// is appended there, packed, for setFiles.
func (t *dirTree) addFile(d *dirNode, h uint32, ino, blocks uint64, nlink uint64, batch *[]uint64) {
	var e uint64
	switch {
	case nlink > 1:
		at := t.links.of(ino, blocks)
		e = entry(h, linkedFlag|at>>16, uint16(at))
	case blocks%t.unit == 0 && blocks/t.unit <= maxUnits:
		e = entry(h, uint32(blocks/t.unit), inoPrint(ino))
	default:
		x := t.extra(d)
		x.big = append(x.big, bigFile{h, inoPrint(ino), blocks})
		t.files++
		return
	}
	if batch != nil {
		*batch = append(*batch, e)
		return
	}
	t.insert(d, e)
	t.files++
}

// setFiles sets d's list (empty) to the packed entries of a batch, in a
// place of their size and a spare entry (listSpare).
func (t *dirTree) setFiles(d *dirNode, batch []uint64) {
	slices.Sort(batch)
	if len(batch) > 0 {
		d.files = t.lists.alloc(3*len(batch) + listSpare)
	}
	for _, e := range batch {
		d.files = append(d.files, uint16(e>>32), uint16(e>>29&7)<<13|uint16(e>>16&0x1fff), uint16(e))
	}
	t.files += len(batch)
}

// isLinked reports whether ino has several names in the tree's table.
func (t *dirTree) isLinked(ino uint64) bool {
	_, ok := t.links.find(ino)
	return ok
}

// single finds d's single-link file with hash h and inode print fp: its
// blocks, and whether there is exactly one.
func (t *dirTree) single(d *dirNode, h uint32, fp uint16) (blocks uint64, found bool) {
	n := 0
	for i := d.files.search(h); i < d.files.len() && d.files.hash(i) == h; i++ {
		if !d.files.linked(i) && d.files.print(i) == fp {
			blocks, n = uint64(d.files.units(i))*t.unit, n+1
		}
	}
	if x := t.extras[d]; x != nil {
		for _, b := range x.big {
			if b.hash == h && b.fp == fp {
				blocks, n = b.blocks, n+1
			}
		}
	}
	return blocks, n == 1
}

// removeFile forgets d's file with hash h: the single-link one of print fp
// (any file when anyPrint), or the name of inode ino (ino != 0). It
// returns what it removed: its blocks, inode print and inode (0 when
// single), and false when there was no such file.
func (t *dirTree) removeFile(d *dirNode, h uint32, fp uint16, anyPrint bool, ino uint64) (uint64, uint16, uint64, bool) {
	for i := d.files.search(h); i < d.files.len() && d.files.hash(i) == h; i++ {
		if d.files.linked(i) {
			at := d.files.link(i)
			if lino := t.links.places[at].ino(); lino == ino || (ino == 0 && anyPrint) {
				blocks := t.links.blocks(at)
				t.links.unlink(at)
				d.files.remove(i)
				t.files--
				return blocks, inoPrint(lino), lino, true
			}
		} else if ino == 0 && (anyPrint || d.files.print(i) == fp) {
			blocks, efp := uint64(d.files.units(i))*t.unit, d.files.print(i)
			d.files.remove(i)
			t.files--
			return blocks, efp, 0, true
		}
	}
	x := t.extras[d]
	if x == nil || ino != 0 {
		return 0, 0, 0, false
	}
	for i, b := range x.big {
		if b.hash == h && (anyPrint || b.fp == fp) {
			x.big = slices.Delete(x.big, i, i+1)
			t.files--
			t.tidy(d)
			return b.blocks, b.fp, 0, true
		}
	}
	return 0, 0, 0, false
}

// removeGroup forgets every file of d with hash h.
func (t *dirTree) removeGroup(d *dirNode, h uint32) {
	for {
		if _, _, _, ok := t.removeFile(d, h, 0, true, 0); !ok {
			return
		}
	}
}

// clearFiles forgets every file of d, before d is read again.
func (t *dirTree) clearFiles(d *dirNode) {
	for i := 0; i < d.files.len(); i++ {
		if d.files.linked(i) {
			t.links.unlink(d.files.link(i))
		}
	}
	t.files -= d.files.len()
	t.lists.free(d.files)
	d.files = nil
	if x := t.extras[d]; x != nil {
		t.files -= len(x.big)
		x.big = nil
		t.tidy(d)
	}
}

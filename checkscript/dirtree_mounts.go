package checkscript

import (
	"bufio"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// mountsBelow returns the mount points below the root (relative paths) of
// other filesystems than the root's: du -x leaves them out, and they are
// never looked at (a hung mount there stalls nothing).
func mountsBelow(root string, dev uint64) map[string]bool {
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
		mp := unescapeMountinfo(fields[4])
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

// unescapeMountinfo decodes mountinfo's octal escapes (\040 for a space).
func unescapeMountinfo(s string) string {
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
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return "/"
	}
	defer f.Close()
	best := "/"
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 {
			continue
		}
		if mp := unescapeMountinfo(fields[4]); within(path, mp) && len(mp) >= len(best) {
			best = mp
		}
	}
	return best
}

// fsRoot returns the type of the filesystem whose own root is mounted at
// path (not a folder of it bound there), "" when none is, from the mount
// table (no I/O on path).
func fsRoot(path string) string {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return ""
	}
	defer f.Close()
	kind := ""
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		// 36 35 98:0 / /mnt rw,noatime master:1 - ext4 /dev/root rw; the
		// last mount on a point is the one seen there.
		fields := strings.Fields(sc.Text())
		if len(fields) < 5 || unescapeMountinfo(fields[4]) != path {
			continue
		}
		kind = ""
		for i, f := range fields {
			if f == "-" && i+1 < len(fields) && fields[3] == "/" {
				kind = fields[i+1]
			}
		}
	}
	return kind
}

package checkscript

import (
	"fmt"
	"os"
	"strings"
)

// mountEntry is one line of the mount table, as check_disk's mount list
// (gnulib's read_file_system_list) holds it.
type mountEntry struct {
	Dev, Dir, Type string
}

// remote is gnulib's ME_REMOTE: a network filesystem, which -l skips.
func (m mountEntry) remote() bool {
	return strings.Contains(m.Dev, ":") ||
		(strings.HasPrefix(m.Dev, "//") && (m.Type == "smbfs" || m.Type == "smb3" || m.Type == "cifs")) ||
		m.Type == "acfs" || m.Dev == "-hosts"
}

// readMounts reads $HOST_PROC/self/mountinfo, the table check_disk reads.
func readMounts() ([]mountEntry, error) {
	data, err := os.ReadFile(HostProc("self", "mountinfo"))
	if err != nil {
		return nil, fmt.Errorf("reading the mount table: %w", err)
	}
	return parseMountinfo(string(data)), nil
}

// parseMountinfo reads /proc/self/mountinfo lines ("36 35 98:0 /mnt1 /mnt2
// rw,noatime master:1 - ext3 /dev/root rw"): the mount point (field 5),
// then after the "-" separator the type and the source, octal escapes
// (\040 for a space) undone. Lines it cannot read are skipped.
func parseMountinfo(text string) []mountEntry {
	var out []mountEntry
	for _, line := range strings.Split(text, "\n") {
		f := strings.Fields(line)
		sep := -1
		for i := 6; i < len(f); i++ {
			if f[i] == "-" {
				sep = i
				break
			}
		}
		if len(f) < 5 || sep < 0 || sep+2 >= len(f) {
			continue
		}
		out = append(out, mountEntry{Dev: unescapeMount(f[sep+2]), Dir: unescapeMount(f[4]), Type: unescapeMount(f[sep+1])})
	}
	return out
}

// unescapeMount undoes the kernel's octal escapes of space, tab, newline
// and backslash in mount table fields.
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) && isOctal(s[i+1]) && isOctal(s[i+2]) && isOctal(s[i+3]) {
			b.WriteByte((s[i+1]-'0')<<6 | (s[i+2]-'0')<<3 | (s[i+3] - '0'))
			i += 3
			continue
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isOctal(c byte) bool { return c >= '0' && c <= '7' }

// bestMount is check_disk's np_set_best_match for one name: the last mount
// whose device is the name; else the mount whose directory is the longest
// prefix of the name (a later one of equal length wins, "/" matches every
// name; by text, as check_disk compares), or with exact only the mount
// whose directory is the name. nil when none matches.
func bestMount(name string, mounts []mountEntry, exact bool) *mountEntry {
	var best *mountEntry
	for i := range mounts {
		if mounts[i].Dev == name {
			best = &mounts[i]
		}
	}
	if best != nil {
		return best
	}
	bestLen := 0
	for i := range mounts {
		dir := mounts[i].Dir
		n := len(dir)
		if exact {
			if dir == name {
				best = &mounts[i]
			}
			continue
		}
		if bestLen <= n && n <= len(name) && (n == 1 || strings.HasPrefix(name, dir)) {
			best, bestLen = &mounts[i], n
		}
	}
	return best
}

package hcl

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"syscall"
)

// PathExists is the default test of `if_present`: a path is absent only
// when os.Stat says so (see Absent); a path that answers an error (EIO,
// ESTALE, EACCES) counts as present, so that its service stays registered
// and its checks name the error.
func PathExists(path string) bool {
	_, err := os.Stat(path)
	return !Absent(err)
}

// Absent reports whether err, from a stat of an `if_present` path, means
// the path is not there: ENOENT, or ENOTDIR (a file where a folder of the
// path should be). Every other error leaves the path present: a failing
// disk, a stale NFS handle or a denied folder is a fault to report, not a
// service to deregister together with its alarm.
func Absent(err error) bool {
	return errors.Is(err, fs.ErrNotExist) || errors.Is(err, syscall.ENOTDIR)
}

// Present returns a copy of the plan without the services whose IfPresent
// path does not exist according to exists; they are listed in Skipped with
// the reason. Services whose path exists keep IfPresent, so calling Present
// again later (a folder removed) still decides them. It does not modify p.
func (p *Plan) Present(exists func(path string) bool) *Plan {
	cp := *p // every other field of the plan stays as it is
	out := &cp
	out.Skipped = append([]Skipped(nil), p.Skipped...)
	out.Services = make([]Service, 0, len(p.Services))
	for _, s := range p.Services {
		if s.IfPresent != "" && !exists(s.IfPresent) {
			out.Skipped = append(out.Skipped, Skipped{ID: s.ID, Name: s.Name, Role: s.Role,
				Reason: fmt.Sprintf("%s is not present on this node", s.IfPresent)})
			continue
		}
		out.Services = append(out.Services, s)
	}
	sort.Slice(out.Skipped, func(i, j int) bool { return out.Skipped[i].ID < out.Skipped[j].ID })
	return out
}

// PresencePaths returns the distinct IfPresent paths of the plan's
// services, sorted: what a caller following presence must watch.
func (p *Plan) PresencePaths() []string {
	seen := map[string]bool{}
	for _, s := range p.Services {
		if s.IfPresent != "" {
			seen[s.IfPresent] = true
		}
	}
	return sortedKeys(seen)
}

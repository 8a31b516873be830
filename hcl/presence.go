package hcl

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"sort"
	"syscall"
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// PathExists is the default test of `if_present` (LookPath): a path is
// absent only when a stat says so (see Absent); a path that answers an
// error (EIO, ESTALE, EACCES) or hangs counts as present, so that its
// service stays registered and its checks name the error.
func PathExists(path string) bool {
	present, _ := LookPath(context.Background(), &pathCalls, path)
	return present
}

// pathCalls holds PathExists's stats given up on.
var pathCalls checkscript.Calls

// PresenceTimeout bounds one stat of an `if_present` path: a path on a
// hung mount counts as present (its checks then name the hang) rather than
// blocking its caller.
const PresenceTimeout = 2 * time.Second

// LookPath stats an `if_present` path, giving up after PresenceTimeout or
// when ctx ends: present unless Absent. err is the stat's error when the
// path is present all the same (nil when it answered), for the caller to
// log. calls holds the stats given up on: while one is still blocked, later
// looks at the path return at once (checkscript.Blocking).
func LookPath(ctx context.Context, calls *checkscript.Calls, path string) (present bool, err error) {
	ctx, cancel := context.WithTimeout(ctx, PresenceTimeout)
	defer cancel()
	_, err = checkscript.Blocking(ctx, calls, "stat "+path, func() (os.FileInfo, error) { return os.Stat(path) })
	if Absent(err) {
		return false, nil
	}
	return true, err
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

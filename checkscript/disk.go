package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"slices"
	"strings"
	"sync"

	"golang.org/x/sys/unix"
)

// DiskRegexp compiles check_disk's -r, -R, -i, -I and -A expressions (POSIX
// extended, case-insensitive with foldCase) into a matcher. carbonio-health-
// check links no regexp package, so Light's disk has none and refuses them;
// allprobes gives disk one.
type DiskRegexp func(expr string, foldCase bool) (func(string) bool, error)

// DiskProbe returns the disk probe, matching -r/-R/-i/-I/-A with re; with a
// nil re those flags are refused (a script check that uses them is given to
// carbonio-health, see allprobes.IsLight).
func DiskProbe(re DiskRegexp) Probe {
	return Probe{
		Name:    "disk",
		Label:   "DISK",
		Summary: "Free space and inodes of the filesystems holding -p paths, each with the thresholds given before it (like check_disk; --used-* for used %).",
		Define: func(fs *flag.FlagSet) func() (Check, error) {
			return diskFlags(fs, &diskCheck{statfs: statfsPath, mounts: readMounts, regexp: re})
		},
		Syntax:  ArgSyntax{StopAtOperand: true, NeedArgs: NoArguments},
		ArgRank: diskArgRank,
	}
}

// diskArgRank puts a declaration's disk paths after its thresholds, and
// -i/-I after the paths, as check_disk applies them in order.
var diskArgRank = map[string]int{
	"p": 1, "path": 1, "partition": 1,
	"r": 1, "ereg-path": 1, "ereg-partition": 1, "R": 1, "eregi-path": 1, "eregi-partition": 1, "A": 1, "all": 1,
	"i": 2, "ignore-ereg-path": 2, "ignore-ereg-partition": 2, "I": 2, "ignore-eregi-path": 2, "ignore-eregi-partition": 2,
}

// diskCheck evaluates free space on the filesystems its command line
// selects: the paths (-p, or the old form's operand), the mounts matching
// -r/-R/-A, or every mount, each with the thresholds given before it.
type diskCheck struct {
	ops []diskOp // the selection, in command-line order
	diskOptions
	// statfs and mounts are the only I/O; tests replace them.
	statfs func(path string) (fsStats, error)
	mounts func() ([]mountEntry, error)
	regexp DiskRegexp
	// calls bounds the statfs calls given up on (a hung mount) to one per
	// path: later runs report the hang at once (Blocking).
	calls Calls
}

// fsStats is what statfs tells about one filesystem, in bytes and inodes.
type fsStats struct {
	Total, Free, Avail uint64 // Free counts reserved blocks, Avail does not
	Files, FilesFree   uint64
}

// statfsPath reads a path's filesystem usage; fragment sizes are used as
// check_disk does (f_frsize, falling back to f_bsize).
func statfsPath(path string) (fsStats, error) {
	var st unix.Statfs_t
	err := unix.Statfs(path, &st)
	for err == unix.EINTR { // a signal while a network or FUSE mount answers
		err = unix.Statfs(path, &st)
	}
	if err != nil {
		return fsStats{}, fmt.Errorf("statfs %s: %w", path, err)
	}
	bs := uint64(st.Frsize)
	if bs == 0 {
		bs = uint64(st.Bsize)
	}
	return fsStats{
		Total: st.Blocks * bs, Free: st.Bfree * bs, Avail: st.Bavail * bs,
		Files: st.Files, FilesFree: st.Ffree,
	}, nil
}

// Run reads the mount table, selects the filesystems as check_disk does,
// statfs-es them, every one at once (a hung one does not use up the
// others' time), and evaluates them. A path whose statfs hangs is CRITICAL
// at once on later runs, with the time it started hanging (see Blocking);
// the steady form leaves that out. A mount table that does not answer
// within the run's time is CRITICAL the same way (a read error is UNKNOWN).
func (c *diskCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	mounts, err := Blocking(ctx, &c.calls, "read the mount table", c.mounts)
	var hung *HungError
	switch {
	case errors.As(err, &hung):
		// No answer within -t is a hang, CRITICAL as check_disk's timeout.
		full, stable := hung.Hung("reading the mount table", timeout)
		return Result{Label: "DISK", Status: Critical, Summary: full, Steady: stable}
	case err != nil:
		return Unknownf("DISK", "cannot read the mount table: "+ErrText(err))
	}
	sel, res, ok := c.selectPaths(mounts)
	if !ok {
		return res
	}
	names := uniqueInOrder(slices.Clone(sel.stat))
	stats, errs := make([]fsStats, len(names)), make([]error, len(names))
	var wg sync.WaitGroup
	for i, p := range names {
		wg.Go(func() {
			stats[i], errs[i] = Blocking(ctx, &c.calls, "statfs "+p, func() (fsStats, error) { return c.statfs(p) })
		})
	}
	wg.Wait()
	byName := make(map[string]fsStats, len(names))
	var failures, steady []string
	for i, p := range names {
		switch err := errs[i]; {
		case errors.As(err, &hung):
			full, stable := hung.Hung("statfs", timeout)
			failures = append(failures, p+" is not accessible: "+full)
			steady = append(steady, p+" is not accessible: "+stable)
		case err != nil:
			text := fmt.Sprintf("%s is not accessible: %s", p, ErrText(err))
			failures, steady = append(failures, text), append(steady, text)
		default:
			byName[p] = stats[i]
		}
	}
	if len(failures) > 0 {
		// check_disk stops at the first inaccessible path; we name them all.
		return Result{Label: "DISK", Status: Critical, Summary: strings.Join(failures, "; "), Steady: strings.Join(steady, "; ")}
	}
	if len(sel.notFound) > 0 {
		return Result{Label: "DISK", Status: Critical, Colon: true, Summary: sel.notFound[0] + " not found"}
	}
	return evaluateDisks(sel.entries, byName, c.diskOptions)
}

// uniqueInOrder drops repeated names, keeping each one's first place.
func uniqueInOrder(names []string) []string {
	seen := make(map[string]bool, len(names))
	return slices.DeleteFunc(names, func(n string) bool {
		dup := seen[n]
		seen[n] = true
		return dup
	})
}

package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"path/filepath"
	"strconv"
	"time"
)

// dirsizeProbe is the dirsize probe's entry in the registry (Light).
var dirsizeProbe = Probe{
	Name:    "dirsize",
	Label:   "DIRSIZE",
	Summary: "Space used by a folder tree, as du -sxB1 counts it (thresholds in bytes; K, M, G, T suffixes are powers of 1024).",
	Define:  defineDirsize,
}

// Defaults of the dirsize flags.
const (
	// DirsizeRate is how many entries per second a walk reads by default.
	DirsizeRate = 50000
	// DirsizeMaxFiles bounds the in-process index (files plus folders):
	// about 80 MiB of peak RSS at ~85 bytes each (BenchmarkDirsize).
	DirsizeMaxFiles = 1000000
	// DirsizeFallbackEvery is how often a tree over --max-files is walked.
	DirsizeFallbackEvery = 30 * time.Minute
	// DirsizeRescan is how many entries of unwatched folders a run re-reads.
	DirsizeRescan = 100000
	// dirsizeMaxQueue bounds the inotify events held between two runs.
	dirsizeMaxQueue = 1 << 20
)

// dirsizeCheck measures the space a folder tree uses. One-shot, each Run
// walks the tree; started by a long-lived runner (Start), a keeper
// goroutine holds an index kept true by inotify, and Run only asks it.
type dirsizeCheck struct {
	path   string
	limits Thresholds
	rate   int
	opts   dirKeeperOptions
	keeper *dirKeeper
}

func defineDirsize(fs *flag.FlagSet) func() (Check, error) {
	c := &dirsizeCheck{}
	var warn, crit string
	StringFlag(fs, &c.path, "p", "path", "", "folder whose tree to measure (required)")
	StringFlag(fs, &warn, "w", "warning", "", "warning range of bytes used, suffixes allowed: 500G, @1T:, ~:10M (K, M, G, T, P = powers of 1024)")
	StringFlag(fs, &crit, "c", "critical", "", "critical range of bytes used, suffixes allowed as for -w")
	fs.IntVar(&c.rate, "rate", DirsizeRate, "entries read per second while walking, so a walk never starves the node (0: unthrottled)")
	fs.IntVar(&c.opts.maxFiles, "max-files", DirsizeMaxFiles, "in-process index: most files plus folders it holds (about 85 bytes of RSS each); a larger tree is measured by a full walk every --fallback-every instead")
	fs.DurationVar(&c.opts.every, "fallback-every", DirsizeFallbackEvery, "in-process, over --max-files: how often the full walk runs")
	fs.IntVar(&c.opts.maxWatches, "max-watches", 0, "in-process index: most inotify watches it takes (0: as many as the kernel allows); other folders are rescanned")
	fs.IntVar(&c.opts.rescan, "rescan", DirsizeRescan, "in-process index: entries of unwatched folders re-read per run")
	return func() (Check, error) {
		if c.path == "" {
			return nil, errors.New("-p PATH is required")
		}
		c.path = filepath.Clean(c.path)
		var err error
		if c.limits, err = ParseSizeThresholds(warn, crit); err != nil {
			return nil, err
		}
		for _, n := range []struct {
			name string
			v    int
		}{{"--rate", c.rate}, {"--max-files", c.opts.maxFiles}, {"--max-watches", c.opts.maxWatches}, {"--rescan", c.opts.rescan}} {
			if n.v < 0 {
				return nil, fmt.Errorf("%s must not be negative", n.name)
			}
		}
		if c.opts.every <= 0 {
			return nil, errors.New("--fallback-every must be positive")
		}
		c.opts.pace = newThrottle(c.rate)
		c.opts.maxQueue = dirsizeMaxQueue
		return c, nil
	}
}

// Start starts the keeper that indexes the tree for every later Run; it
// and its inotify instance end with ctx.
func (c *dirsizeCheck) Start(ctx context.Context) {
	if c.keeper != nil {
		return
	}
	c.keeper = newDirKeeper(c.path, c.opts)
	go c.keeper.run(ctx)
}

// Run measures the tree: from the index when started, else by one walk.
func (c *dirsizeCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	if c.keeper != nil {
		return evaluateDirsize(c.path, c.keeper.measure(ctx), c.limits, c.opts)
	}
	s, err := sumTree(ctx, c.path, c.opts.pace)
	if err != nil {
		if ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded) {
			return Unknownf("DIRSIZE", fmt.Sprintf("%s: timeout after %s seconds while walking (raise -t or --rate)", c.path, FormatFloat(Seconds(timeout))))
		}
		s.Err = err
	}
	return evaluateDirsize(c.path, s, c.limits, c.opts)
}

// evaluateDirsize is the pure part of the probe: a snapshot and the
// thresholds give the plugin answer.
func evaluateDirsize(path string, s dirSnapshot, t Thresholds, o dirKeeperOptions) Result {
	res := Result{Label: "DIRSIZE"}
	switch {
	case s.Err != nil:
		res.Status = Critical
		res.Summary = fmt.Sprintf("%s is not accessible: %s", path, ErrText(s.Err))
		return res
	case !s.Settled && !s.Stale:
		// The first walk is still running: no figure to judge yet.
		res.Status = OK
		res.Summary = fmt.Sprintf("%s: %s, %d files and %d folders so far", path, s.Phase, s.Files, s.Dirs)
		res.Perfdata = []Perfdata{{Label: path, NoValue: true, UOM: "B", Warn: t.WarnText(), Crit: t.CritText(), Min: "0"}}
		return res
	}
	v := float64(s.Bytes)
	res.Status = t.Evaluate(v)
	res.Summary = fmt.Sprintf("%s %s B used (%s, %d files, %d folders)", path, strconv.FormatUint(s.Bytes, 10), HumanBytes(v), s.Files, s.Dirs)
	if s.Stale {
		res.Summary += "; last complete measure, " + s.Phase
	}
	if s.Fallback {
		res.Summary += fmt.Sprintf("; over --max-files %d: not indexed, a full walk every %s", o.maxFiles, o.every)
	}
	if s.Unwatched > 0 {
		res.Summary += fmt.Sprintf("; %d folders beyond the inotify watch limit, rescanned in turn", s.Unwatched)
	}
	if s.Errors > 0 {
		res.Status = Worst(res.Status, Unknown)
		res.Summary += fmt.Sprintf("; %d entries unreadable (first: %s)", s.Errors, s.FirstError)
	}
	res.Perfdata = []Perfdata{{Label: path, Value: v, UOM: "B", Warn: t.WarnText(), Crit: t.CritText(), Min: "0"}}
	return res
}

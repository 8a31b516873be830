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
	// DirsizeMaxFiles bounds the in-process tree (files plus folders):
	// under 8 bytes each (BenchmarkDirsize: 7.8), so about 75 MiB.
	DirsizeMaxFiles = 10000000
	// DirsizeFallbackEvery is how often a tree over --max-files is walked.
	DirsizeFallbackEvery = 30 * time.Minute
	// DirsizeRescan is how many entries of unwatched folders a run re-reads.
	DirsizeRescan = 100000
	// dirsizeMaxQueue bounds the inotify events held between two folds.
	dirsizeMaxQueue = 1 << 16
)

// dirsizeCheck measures the space a folder tree uses. One-shot, each Run
// walks the tree; started by a long-lived runner (Start), the folder
// joins a keeper (sharedTrees) that holds the tree of the outermost
// declared folder of its filesystem, kept true by inotify, and Run asks it.
type dirsizeCheck struct {
	path    string
	limits  Thresholds
	rate    int
	opts    dirKeeperOptions
	h       *dirHandle
	lastRun time.Time // the previous Run's start: an older figure is stale
}

func defineDirsize(fs *flag.FlagSet) func() (Check, error) {
	c := &dirsizeCheck{}
	var warn, crit string
	StringFlag(fs, &c.path, "p", "path", "", "folder whose tree to measure (required)")
	StringFlag(fs, &warn, "w", "warning", "", "warning range of bytes used, suffixes allowed: 500G, @1T:, ~:10M (K, M, G, T, P = powers of 1024)")
	StringFlag(fs, &crit, "c", "critical", "", "critical range of bytes used, suffixes allowed as for -w")
	fs.IntVar(&c.rate, "rate", DirsizeRate, "entries read per second while walking, so a walk never starves the node (0: unthrottled)")
	fs.IntVar(&c.opts.maxFiles, "max-files", DirsizeMaxFiles, "in-process tree: most files plus folders it holds (under 8 bytes each); a larger tree is measured by a full walk every --fallback-every instead")
	fs.DurationVar(&c.opts.every, "fallback-every", DirsizeFallbackEvery, "in-process, over --max-files: how often the full walk runs")
	fs.IntVar(&c.opts.maxWatches, "max-watches", 0, "in-process tree: most inotify watches it takes (0: as many as the kernel allows); other folders are re-read at runs")
	fs.IntVar(&c.opts.rescan, "rescan", DirsizeRescan, "in-process tree: entries of unwatched folders re-read per run")
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

// firstWalkPoll is how often a run waiting for the first walk asks again.
const firstWalkPoll = 20 * time.Millisecond

// Start joins the folder to the keeper of its tree for every later Run;
// it leaves with ctx (the keeper ends with its last folder).
func (c *dirsizeCheck) Start(ctx context.Context) {
	if c.h != nil {
		return
	}
	c.h = sharedTrees.join(c.path, c.opts)
	go func() {
		<-ctx.Done()
		sharedTrees.leave(c.h)
	}()
}

// Run measures the tree: from the keeper when started, else by one walk.
func (c *dirsizeCheck) Run(ctx context.Context) Result {
	ctx, cancel, timeout := WithDeadline(ctx)
	defer cancel()
	if c.h != nil {
		start := time.Now()
		f := c.h.keeper().measure(ctx, c.path)
		// The first walk is waited for, as long as the run may last: a
		// run that came before the walk of a small tree ended (the first
		// one after a start comes at once) would answer "not measured
		// yet", a false alarm that flap damping then holds for
		// success_before_passing intervals once the figure is there.
		for f.At.IsZero() && f.Err == nil && f.Stuck == 0 && sleep(ctx, firstWalkPoll) {
			f = c.h.keeper().measure(ctx, c.path)
		}
		r := evaluateDirsize(c.path, f, c.limits, c.opts, c.lastRun)
		c.lastRun = start
		return r
	}
	sums, err := sumTrees(ctx, c.path, []string{c.path}, c.opts.pace, nil)
	if err != nil && (ctx.Err() != nil || errors.Is(err, context.DeadlineExceeded)) {
		return Unknownf("DIRSIZE", fmt.Sprintf("%s: timeout after %s seconds while walking (raise -t or --rate)", c.path, FormatFloat(Seconds(timeout))))
	}
	s := sums[0]
	return evaluateDirsize(c.path, dirFigure{Bytes: s.Bytes, Files: s.Files, Dirs: s.Dirs, At: time.Now(), Err: err,
		Errors: s.Errors, FirstError: s.FirstError}, c.limits, c.opts, time.Time{})
}

// evaluateDirsize is the pure part of the probe: a figure, the thresholds
// and the previous run's start (an older figure is not judged) give the
// plugin answer and its steady form, which names the state and its cause
// without the numbers that move.
func evaluateDirsize(path string, f dirFigure, t Thresholds, o dirKeeperOptions, lastRun time.Time) Result {
	res := Result{Label: "DIRSIZE", Status: Unknown}
	v := float64(f.Bytes)
	pd := Perfdata{Label: path, Value: v, UOM: "B", Warn: t.WarnText(), Crit: t.CritText(), Min: "0"}
	figure := fmt.Sprintf("%s B used (%s, %d files, %d folders)", strconv.FormatUint(f.Bytes, 10), HumanBytes(v), f.Files, f.Dirs)
	if f.Counted != "" {
		figure = fmt.Sprintf("%s B used (%s, %d files and folders)", strconv.FormatUint(f.Bytes, 10), HumanBytes(v), f.Files)
	}
	last := ""
	if !f.At.IsZero() {
		last = fmt.Sprintf("; last measure %s ago: %s", ago(f.At), figure)
	}
	switch {
	case f.Err != nil:
		res.Status = Critical
		res.Summary = fmt.Sprintf("%s is not accessible: %s", path, ErrText(f.Err))
		return res
	case f.Stuck > 0:
		res.Summary = fmt.Sprintf("%s: no answer from the filesystem for %s (reading %s)%s", path, f.Stuck.Round(time.Second), f.StuckAt, last)
		res.Steady = fmt.Sprintf("%s: no answer from the filesystem (reading %s)", path, f.StuckAt)
		pd.NoValue = true
	case f.At.IsZero():
		// Never a passing result for a figure not measured yet: UNKNOWN,
		// as a plugin answers what it cannot tell (a standing critical
		// stays critical in Consul across a restart).
		res.Summary = fmt.Sprintf("%s: not measured yet: %s, %d entries read", path, f.Phase, f.Read)
		res.Steady = fmt.Sprintf("%s: not measured yet: %s", path, f.Phase)
		res.Pending = true
		pd.NoValue = true
	case !f.Fallback && !lastRun.IsZero() && f.At.Before(lastRun):
		res.Summary = fmt.Sprintf("%s: not measured since the previous run: %s%s", path, f.Phase, last)
		res.Steady = fmt.Sprintf("%s: not measured since the previous run: %s", path, f.Phase)
		pd.NoValue = true
	}
	if res.Summary != "" {
		res.Perfdata = []Perfdata{pd}
		return res
	}
	res.Status = t.Evaluate(v)
	res.Summary = path + " " + figure
	switch res.Status {
	case OK:
		res.Steady = path + " size within the thresholds"
		if t.Warn == nil && t.Crit == nil {
			res.Steady = path + " size measured (no thresholds)"
		}
	case Warning:
		res.Steady = path + " size beyond the warning threshold " + t.WarnText() + " B"
	default:
		res.Steady = path + " size beyond the critical threshold " + t.CritText() + " B"
	}
	note := func(status Status, full, steady string) {
		res.Status = Worst(res.Status, status)
		res.Summary += "; " + full
		res.Steady += "; " + steady
	}
	if f.Phase != "" {
		note(OK, fmt.Sprintf("measured %s ago, now %s", ago(f.At), f.Phase), "measured before the previous run ended, now "+f.Phase)
	}
	if f.Counted != "" {
		s := "counted by " + f.Counted + " itself, the root of the filesystem: du's figure but for files deleted while still open"
		note(OK, s, s)
	}
	if f.Fallback {
		s := fmt.Sprintf("over --max-files %d: not kept, measured by a full walk every %s", o.maxFiles, o.every)
		note(Warning, fmt.Sprintf("%s (this one %s ago)", s, ago(f.At)), s)
	}
	if f.Unwatched > 0 {
		why := f.NoWatch
		if why == "" {
			why = "beyond the inotify watch limit (fs.inotify.max_user_watches or --max-watches)"
		}
		s, status := "folders "+why+", re-read at every run", OK
		if f.Lagging {
			s, status = "folders "+why+", more than a run re-reads (--rescan): the figure may lag", Warning
		}
		note(status, fmt.Sprintf("%d %s", f.Unwatched, s), s)
	}
	if f.Errors > 0 {
		note(Unknown, fmt.Sprintf("%d folders not fully readable (first: %s)", f.Errors, f.FirstError),
			"folders not fully readable (first: "+f.FirstError+")")
	}
	res.Perfdata = []Perfdata{pd}
	return res
}

// ago is how long ago t was, to the second.
func ago(t time.Time) time.Duration { return time.Since(t).Round(time.Second) }

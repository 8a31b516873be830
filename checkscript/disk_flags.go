package checkscript

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// diskLimits is what check_disk keeps per path (its parameter_list): ranges
// on free space in units and in percent (-w/-c, a value in the form "@N":
// alert at or below N), on used space in percent (the old form's W C), and
// on free inodes in percent (-W/-K).
type diskLimits struct {
	freeUnits, freePct, usedPct, freeInodes Thresholds
}

// diskOptions is what applies to the whole command line.
type diskOptions struct {
	exact          bool // -E: a path must be a mount point
	errorsOnly     bool // -e: only filesystems that are not OK are listed
	showDevice     bool // -M: name the device, not the mount point
	ignoreReserved bool // -f
	inodePerfdata  bool // -P
	local          bool // -l: skip network filesystems
	statRemote     bool // -L: ... but check that they answer
	verbose        int  // -v: the state is named beside each problem
	unit           diskUnit
	excludeDev     []string // -x
	excludeType    []string // -X, and iso9660
	includeType    []string // -N
}

// diskUnit is a -u unit, in powers of 1024 as check_disk counts them.
type diskUnit struct {
	name string // as printed: "MiB"
	mult uint64
}

// diskUnitNames are check_disk's -u values (case matters, but for "bytes").
var diskUnitNames = map[string]diskUnit{
	"kB": {"kiB", 1 << 10}, "KiB": {"kiB", 1 << 10},
	"MB": {"MiB", 1 << 20}, "MiB": {"MiB", 1 << 20},
	"GB": {"GiB", 1 << 30}, "GiB": {"GiB", 1 << 30},
	"TB": {"TiB", 1 << 40}, "TiB": {"TiB", 1 << 40},
	"PB": {"PiB", 1 << 50}, "PiB": {"PiB", 1 << 50},
}

// diskOpKind is one step of the selection check_disk makes from its
// command line, replayed on the mount table at each run (reading it is
// I/O, which a constructor does not do).
type diskOpKind int

const (
	opPath    diskOpKind = iota // -p PATH
	opOperand                   // the old form's PATH
	opSelect                    // -r, -R, -A: every mount matching
	opIgnore                    // -i, -I: drop the selected paths matching
	opAll                       // every mount: -C before any path, or no path at all
)

// diskOp is one selection step with the thresholds and group in force.
type diskOp struct {
	kind   diskOpKind
	arg    string // the path, or the expression
	match  func(string) bool
	limits diskLimits
	group  string
}

// diskArgs is the threshold state while the command line is read, as
// check_disk's globals: each -p takes the thresholds given so far.
type diskArgs struct {
	warnFreeUnits, critFreeUnits, warnFreePct, critFreePct   *string
	warnUsedPct, critUsedPct, warnFreeInodes, critFreeInodes *string
}

func (a diskArgs) any() bool {
	for _, s := range []*string{a.warnFreeUnits, a.critFreeUnits, a.warnFreePct, a.critFreePct,
		a.warnUsedPct, a.critUsedPct, a.warnFreeInodes, a.critFreeInodes} {
		if s != nil {
			return true
		}
	}
	return false
}

// limits parses the thresholds as check_disk's set_all_thresholds.
func (a diskArgs) limits() (diskLimits, error) {
	var l diskLimits
	for _, t := range []struct {
		dst        *Thresholds
		warn, crit *string
	}{{&l.freeUnits, a.warnFreeUnits, a.critFreeUnits}, {&l.freePct, a.warnFreePct, a.critFreePct},
		{&l.usedPct, a.warnUsedPct, a.critUsedPct}, {&l.freeInodes, a.warnFreeInodes, a.critFreeInodes}} {
		for _, side := range []struct {
			text *string
			dst  **Range
		}{{t.warn, &t.dst.Warn}, {t.crit, &t.dst.Crit}} {
			if side.text == nil {
				continue
			}
			r, err := ParsePluginRange(*side.text)
			if err != nil {
				return diskLimits{}, ErrRangeFormat
			}
			*side.dst = &r
		}
	}
	return l, nil
}

// atRange forces check_disk's "@" on a free-space threshold: "20%" alerts
// at or below 20% free.
func atRange(s string) *string {
	if !strings.HasPrefix(s, "@") {
		s = "@" + s
	}
	return &s
}

// errNoRegexp refuses -r/-R/-i/-I/-A in carbonio-health-check.
var errNoRegexp = errors.New("-r, -R, -i, -I and -A need regular expressions, which carbonio-health-check does not link: run `carbonio-health check disk`")

// diskFlags declares the flags of the disk probe on fs, parsed into c,
// which holds the probe's inputs. They are check_disk's, applied in order:
// a -p takes the thresholds given before it (and must follow one), -C
// clears them, -E and -g must come before the paths, -i/-I after them; the
// old form `disk W C [PATH]` (used-% thresholds) is read from operands.
// --used-warning/--used-critical are ours: U% used is -w/-c (100−U)% free.
func diskFlags(fs *flag.FlagSet, c *diskCheck) func() (Check, error) {
	var args diskArgs
	var bad error
	fail := func(err error) error {
		if bad == nil {
			bad = err
		}
		return nil
	}
	selected, group := false, ""
	c.unit = diskUnit{"MiB", 1 << 20}
	c.excludeType = []string{"iso9660"}
	threshold := func(units, pct **string) func(string) error {
		return func(s string) error {
			if strings.Contains(s, "%") {
				*pct = atRange(s)
			} else {
				*units = atRange(s)
			}
			return nil
		}
	}
	fs.Func("w", "warn when free space is at or below N% or N units (-u), for the paths that follow", threshold(&args.warnFreeUnits, &args.warnFreePct))
	Alias(fs, "w", "warning")
	fs.Func("c", "critical when free space is at or below N% or N units (-u), for the paths that follow", threshold(&args.critFreeUnits, &args.critFreePct))
	Alias(fs, "c", "critical")
	fs.Func("W", "warn when free inodes are at or below N%", func(s string) error { args.warnFreeInodes = atRange(s); return nil })
	Alias(fs, "W", "iwarning")
	fs.Func("K", "critical when free inodes are at or below N%", func(s string) error { args.critFreeInodes = atRange(s); return nil })
	Alias(fs, "K", "icritical")
	used := func(dst **string, name string) func(string) error {
		return func(s string) error {
			free, err := usedToFree(s)
			if err != nil {
				return fail(fmt.Errorf("%s: %w", name, err))
			}
			*dst = atRange(free)
			return nil
		}
	}
	fs.Func("used-warning", "warn when USED space is at or above N% (the same as -w (100-N)%)", used(&args.warnFreePct, "--used-warning"))
	fs.Func("used-critical", "critical when USED space is at or above N% (the same as -c (100-N)%)", used(&args.critFreePct, "--used-critical"))
	fs.Func("u", "unit of absolute thresholds and output: bytes, kB, MB, GB, TB, PB (powers of 1024)", func(s string) error {
		u, ok := diskUnitNames[s]
		if strings.EqualFold(s, "bytes") {
			u, ok = diskUnit{"B", 1}, true
		}
		if !ok {
			return fail(fmt.Errorf("unit type %s not known", s))
		}
		c.unit = u
		return nil
	})
	Alias(fs, "u", "units")
	fs.BoolFunc("k", "as -u kB", func(string) error { c.unit = diskUnit{"kiB", 1 << 10}; return nil })
	Alias(fs, "k", "kilobytes")
	fs.BoolFunc("m", "as -u MB", func(string) error { c.unit = diskUnit{"MiB", 1 << 20}; return nil })
	Alias(fs, "m", "megabytes")
	fs.Func("p", "path (or device) whose filesystem to check, with the thresholds given before it (repeatable)", func(s string) error {
		if !args.any() {
			return fail(errors.New("Must set a threshold value before using -p"))
		}
		l, err := args.limits()
		if err != nil {
			return fail(err)
		}
		c.ops = append(c.ops, diskOp{kind: opPath, arg: s, limits: l, group: group})
		selected = true
		return nil
	})
	Alias(fs, "p", "path", "partition")
	list := func(dst *[]string) func(string) error {
		return func(s string) error { *dst = append(*dst, s); return nil }
	}
	fs.Func("x", "ignore this device or mount point (repeatable)", list(&c.excludeDev))
	Alias(fs, "x", "exclude_device")
	fs.Func("X", "ignore filesystems of this type (repeatable)", list(&c.excludeType))
	Alias(fs, "X", "exclude-type")
	fs.Func("N", "check only filesystems of this type (repeatable)", list(&c.includeType))
	Alias(fs, "N", "include-type")
	flagOn := func(dst *bool) func(string) error { return func(string) error { *dst = true; return nil } }
	fs.BoolFunc("e", "list only the filesystems that are not OK", flagOn(&c.errorsOnly))
	Alias(fs, "e", "errors-only")
	fs.BoolFunc("q", "as -e: list only the filesystems that are not OK", flagOn(&c.errorsOnly))
	Alias(fs, "q", "quiet")
	fs.BoolFunc("f", "leave root-reserved blocks out of the size", flagOn(&c.ignoreReserved))
	Alias(fs, "f", "freespace-ignore-reserved")
	fs.BoolFunc("P", "add inode usage to perfdata", flagOn(&c.inodePerfdata))
	Alias(fs, "P", "iperfdata")
	fs.BoolFunc("l", "check local filesystems only", flagOn(&c.local))
	Alias(fs, "l", "local")
	fs.BoolFunc("L", "as -l, but check that network filesystems answer", func(string) error { c.local, c.statRemote = true, true; return nil })
	Alias(fs, "L", "stat-remote-fs")
	fs.BoolFunc("M", "name the device, not the mount point", flagOn(&c.showDevice))
	Alias(fs, "M", "mountpoint")
	fs.BoolFunc("v", "name the state beside each filesystem that is not OK", func(string) error { c.verbose++; return nil })
	Alias(fs, "v", "verbose")
	fs.BoolFunc("E", "a path must be a mount point (before -p)", func(string) error {
		if selected {
			return fail(errors.New("Must set -E before selecting paths"))
		}
		c.exact = true
		return nil
	})
	Alias(fs, "E", "exact-match")
	fs.Func("g", "group the paths that follow: the thresholds apply to their free space together", func(s string) error {
		if selected {
			return fail(errors.New("Must set group value before selecting paths"))
		}
		group = s
		return nil
	})
	Alias(fs, "g", "group")
	compile := func(expr string, fold bool) (func(string) bool, bool) {
		if c.regexp == nil {
			_ = fail(errNoRegexp)
			return nil, false
		}
		m, err := c.regexp(expr, fold)
		if err != nil {
			_ = fail(fmt.Errorf("Could not compile regular expression - %s", ErrText(err)))
			return nil, false
		}
		return m, true
	}
	ignore := func(fold bool) func(string) error {
		return func(s string) error {
			if !selected {
				return fail(errors.New("Paths need to be selected before using -i/-I. Use -A to select all paths explicitly"))
			}
			if m, ok := compile(s, fold); ok {
				c.ops = append(c.ops, diskOp{kind: opIgnore, arg: s, match: m})
			}
			return nil
		}
	}
	fs.Func("i", "drop the selected paths whose device or mount point matches (repeatable)", ignore(false))
	Alias(fs, "i", "ignore-ereg-path", "ignore-ereg-partition")
	fs.Func("I", "as -i, ignoring case", ignore(true))
	Alias(fs, "I", "ignore-eregi-path", "ignore-eregi-partition")
	sel := func(fold bool) func(string) error {
		return func(s string) error {
			if !args.any() {
				return fail(errors.New("Must set a threshold value before using -r/-R"))
			}
			m, ok := compile(s, fold)
			if !ok {
				return nil
			}
			l, err := args.limits()
			if err != nil {
				return fail(err)
			}
			c.ops = append(c.ops, diskOp{kind: opSelect, arg: s, match: m, limits: l, group: group})
			selected = true
			return nil
		}
	}
	fs.Func("r", "check every mount whose device or mount point matches (repeatable)", sel(false))
	Alias(fs, "r", "ereg-path", "ereg-partition")
	fs.Func("R", "as -r, ignoring case", sel(true))
	Alias(fs, "R", "eregi-path", "eregi-partition")
	fs.BoolFunc("A", "check every mount (as -R '.*')", func(string) error { return sel(true)(".*") })
	Alias(fs, "A", "all")
	fs.BoolFunc("C", "clear the thresholds (and the group); without a path selected yet, check every mount with the ones before", func(string) error {
		if !selected {
			l, err := args.limits()
			if err != nil {
				return fail(err)
			}
			c.ops = append(c.ops, diskOp{kind: opAll, limits: l, group: group})
		}
		args, selected, group = diskArgs{}, false, ""
		return nil
	})
	Alias(fs, "C", "clear")
	var operands []string
	Operands(fs, "[W C] [PATH] (the old form: W and C are USED-% thresholds)", func(s string) error { operands = append(operands, s); return nil })
	return func() (Check, error) {
		if bad != nil {
			return nil, bad
		}
		i := 0
		if args.warnUsedPct == nil && i < len(operands) && IsIntNonNeg(operands[i]) {
			args.warnUsedPct, i = &operands[i], i+1
		}
		if args.critUsedPct == nil && i < len(operands) && IsIntNonNeg(operands[i]) {
			args.critUsedPct, i = &operands[i], i+1
		}
		l, err := args.limits()
		if err != nil {
			return nil, err
		}
		if i < len(operands) {
			c.ops = append(c.ops, diskOp{kind: opOperand, arg: operands[i], limits: l, group: group})
			selected = true
		}
		if !selected {
			c.ops = append(c.ops, diskOp{kind: opAll, limits: l, group: group})
		}
		return c, nil
	}
}

// usedToFree translates a threshold on USED space, as the Carbonio document
// states them ("alert at 80% used"), into check_disk's threshold on FREE
// space: used% >= U  ⇔  free% <= 100−U, exactly, because free% is computed
// as 100 − used%. Only percentages translate without knowing the size.
func usedToFree(used string) (string, error) {
	num, isPct := strings.CutSuffix(strings.TrimSpace(used), "%")
	if !isPct {
		return "", fmt.Errorf("%q: a used-space threshold is a percentage such as 80%%", used)
	}
	v, err := parseNumber(num)
	if err != nil {
		return "", fmt.Errorf("%q: %w", used, err)
	}
	if v < 0 || v > 100 {
		return "", fmt.Errorf("%q is not within 0..100%%", used)
	}
	return FormatFloat(100-v) + "%", nil
}

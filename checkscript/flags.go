package checkscript

import (
	"flag"
	"fmt"
	"strconv"
	"time"
)

// StringFlag declares a string flag under a short and a long name, as the
// plugins accept both (-w and --warning).
func StringFlag(fs *flag.FlagSet, p *string, short, long, value, usage string) {
	fs.StringVar(p, short, value, usage)
	if long != "" {
		fs.StringVar(p, long, value, aliasPrefix+short)
	}
}

// BoolFlag declares a boolean flag under a short and a long name.
func BoolFlag(fs *flag.FlagSet, p *bool, short, long string, usage string) {
	fs.BoolVar(p, short, false, usage)
	if long != "" {
		fs.BoolVar(p, long, false, aliasPrefix+short)
	}
}

// ListVar declares a repeatable flag (-p /a -p /b) under a short and a
// long name; each use appends to *p.
func ListVar(fs *flag.FlagSet, p *[]string, short, long, usage string) {
	add := func(s string) error {
		*p = append(*p, s)
		return nil
	}
	fs.Func(short, usage, add)
	if long != "" {
		fs.Func(long, aliasPrefix+short, add)
	}
}

// Alias declares more names of the flag target, as the plugins accept
// --partition for --path.
func Alias(fs *flag.FlagSet, target string, names ...string) {
	f := fs.Lookup(target)
	if f == nil {
		panic("checkscript.Alias: no flag " + target)
	}
	for _, n := range names {
		fs.Var(f.Value, n, aliasPrefix+target)
	}
}

// OneDashAlias declares more names of the flag target that the plugin
// reads after a single dash, several letters as one name: check_tcp's -wt,
// -ct and -to (its process_arguments turns them into -w, -c and -t before
// getopt reads the line; --wt is no flag of check_tcp). Spelling writes
// them so.
func OneDashAlias(fs *flag.FlagSet, target string, names ...string) {
	f := fs.Lookup(target)
	if f == nil {
		panic("checkscript.OneDashAlias: no flag " + target)
	}
	for _, n := range names {
		fs.Var(oneDash{f.Value}, n, aliasPrefix+target)
	}
}

// oneDash marks the value of a OneDashAlias name.
type oneDash struct{ flag.Value }

// IsBoolFlag is the marked value's.
func (o oneDash) IsBoolFlag() bool {
	b, ok := o.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

// Spelling is how a probe's flag is written on a command line, as the
// plugin it stands for reads it: "-w" for a one-letter name and for a
// OneDashAlias name ("-wt"), "--warning" for any other. (parseArgs also
// reads a long name after one dash, and a one-dash name after two: the
// command lines written for carbonio-health before.)
func Spelling(f *flag.Flag) string {
	if _, ok := f.Value.(oneDash); ok || len(f.Name) == 1 {
		return "-" + f.Name
	}
	return "--" + f.Name
}

// ParseSeconds reads plugin-style seconds ("0.2") or a Go duration
// ("200ms"): positive, and at most max unless max is 0.
func ParseSeconds(s string, max time.Duration) (time.Duration, error) {
	d, err := time.ParseDuration(s)
	if n, ferr := strconv.ParseFloat(s, 64); ferr == nil {
		d, err = time.Duration(n*float64(time.Second)), nil
	}
	switch {
	case err != nil:
		return 0, fmt.Errorf("%q is neither seconds nor a duration", s)
	case d <= 0 || (max > 0 && d > max):
		if max > 0 {
			return 0, fmt.Errorf("%q must be more than 0 and at most %v", s, max)
		}
		return 0, fmt.Errorf("%q must be positive", s)
	}
	return d, nil
}

// isSet reports whether the command line set any of the names.
func isSet(fs *flag.FlagSet, names ...string) bool {
	set := false
	fs.Visit(func(f *flag.Flag) {
		for _, n := range names {
			if f.Name == n {
				set = true
			}
		}
	})
	return set
}

func ptr[T any](v T) *T { return &v }

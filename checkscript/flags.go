package checkscript

import (
	"flag"
	"strings"
)

// stringFlag declares a string flag under a short and a long name, as the
// plugins accept both (-w and --warning).
func stringFlag(fs *flag.FlagSet, p *string, short, long, value, usage string) {
	fs.StringVar(p, short, value, usage)
	if long != "" {
		fs.StringVar(p, long, value, "same as -"+short)
	}
}

// boolFlag declares a boolean flag under a short and a long name.
func boolFlag(fs *flag.FlagSet, p *bool, short, long string, usage string) {
	fs.BoolVar(p, short, false, usage)
	if long != "" {
		fs.BoolVar(p, long, false, "same as -"+short)
	}
}

// listFlag is a repeatable flag (-p /a -p /b).
type listFlag []string

func (l *listFlag) String() string { return strings.Join(*l, ",") }

func (l *listFlag) Set(s string) error {
	*l = append(*l, s)
	return nil
}

// listVar declares a repeatable flag under a short and a long name.
func listVar(fs *flag.FlagSet, p *[]string, short, long, usage string) {
	fs.Var((*listFlag)(p), short, usage)
	if long != "" {
		fs.Var((*listFlag)(p), long, "same as -"+short)
	}
}

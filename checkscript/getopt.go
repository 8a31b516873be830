package checkscript

import (
	"errors"
	"flag"
	"fmt"
	"strings"
)

// The monitoring plugins read their command lines with getopt_long, and an
// admin's command line must mean to a probe what it means to the plugin: a
// cluster of short flags (-rv), a value glued to its flag (-w10%), long
// flags abbreviated (--warn), operands between or after the flags, and
// flags applied in the order given (check_disk's thresholds apply to the
// paths that follow them). Go's flag package reads none of that, so the
// probes declare their flags on a flag.FlagSet (names, defaults, help) and
// parseArgs reads the command line getopt's way, calling each flag's Set in
// the order the flags come.
//
// Two things are kept from Go's flag package, for the command lines written
// for carbonio-health before: a long flag after a single dash (-peers,
// -timeout 5; also how the plugins' own -wt, -ct, -to and -nohtml are
// declared) and a value after '=' on a boolean flag (--percpu=true).

// ArgSyntax says how a probe's command line is read beyond its flags, as
// the getopt call of the plugin it stands for reads it.
type ArgSyntax struct {
	// StopAtOperand ends the flags at the first operand, as getopt with a
	// leading '+' in its option string: everything after it is an operand
	// (check_disk W C PATH, check_users W C).
	StopAtOperand bool
	// LeadingOperand takes a first argument that is not a flag as an
	// operand and reads the flags after it (check_tcp HOST -p PORT).
	LeadingOperand bool
	// NeedArgs refuses an empty command line with this reason, as every
	// plugin of the six does ("Could not parse arguments").
	NeedArgs string
}

// operandFlag is the name under which Operands declares where operands go;
// no command line can name it.
const operandFlag = "(operands)"

// Operands declares on fs what receives the arguments that are not flags,
// each in turn (usage names them in the probe's help, e.g. "W C [PATH]").
// A probe that declares none refuses operands.
func Operands(fs *flag.FlagSet, usage string, set func(string) error) {
	fs.Func(operandFlag, usage, set)
}

// NoArguments is the plugins' usual answer to an empty command line.
const NoArguments = "Could not parse arguments"

// isOption is getopt's test: a word starting with '-' other than "-" alone.
func isOption(s string) bool {
	return len(s) > 1 && s[0] == '-'
}

// parseArgs reads args as getopt_long reads a plugin's command line and
// sets fs's flags, and the operands, in the order they come.
func parseArgs(fs *flag.FlagSet, args []string, syn ArgSyntax) error {
	if syn.NeedArgs != "" && len(args) == 0 {
		return errors.New(syn.NeedArgs)
	}
	var operands []string
	i := 0
	if syn.LeadingOperand && len(args) > 0 && !isOption(args[0]) {
		operands, i = append(operands, args[0]), 1
	}
	for ; i < len(args); i++ {
		a := args[i]
		switch {
		case a == "--":
			operands = append(operands, args[i+1:]...)
			i = len(args)
		case !isOption(a):
			if syn.StopAtOperand {
				operands = append(operands, args[i:]...)
				i = len(args)
			} else {
				operands = append(operands, a)
			}
		case strings.HasPrefix(a, "--"):
			next, err := setLong(fs, a, a[2:], args[i+1:])
			if err != nil {
				return err
			}
			i += next
		default:
			next, err := setShort(fs, a, args[i+1:])
			if err != nil {
				return err
			}
			i += next
		}
	}
	if len(operands) == 0 {
		return nil
	}
	op := fs.Lookup(operandFlag)
	if op == nil {
		return fmt.Errorf("unexpected argument %q", operands[0])
	}
	for _, o := range operands {
		if err := op.Value.Set(o); err != nil {
			return err
		}
	}
	return nil
}

// setLong sets the flag of "--name[=value]" (or of a Go-style "-name"); it
// returns how many of the following arguments it took as its value.
func setLong(fs *flag.FlagSet, arg, spec string, rest []string) (int, error) {
	name, value, hasValue := strings.Cut(spec, "=")
	f, err := lookupLong(fs, name)
	if err != nil {
		return 0, err
	}
	switch {
	case isBoolFlag(f):
		if !hasValue {
			value = "true"
		}
		return 0, set(fs, f, arg, value)
	case hasValue:
		return 0, set(fs, f, arg, value)
	case len(rest) == 0:
		return 0, fmt.Errorf("option '%s' requires an argument", arg)
	}
	return 1, set(fs, f, arg, rest[0])
}

// setShort sets the flags of "-abc", "-wVALUE" or "-w VALUE", or of a long
// flag written after one dash; it returns how many of the following
// arguments it took as a value.
func setShort(fs *flag.FlagSet, arg string, rest []string) (int, error) {
	body := arg[1:]
	// A long name after one dash, or a boolean given a value (-r=false),
	// as Go's flag package reads them; getopt would read "-w=5" as -w "=5",
	// and so does this for a flag that takes a value.
	if name, _, hasValue := strings.Cut(body, "="); lookable(fs, name) &&
		(len(name) > 1 || (hasValue && isBoolFlag(fs.Lookup(name)))) {
		return setLong(fs, arg, body, rest)
	}
	for j := 0; j < len(body); j++ {
		name := body[j : j+1]
		f := fs.Lookup(name)
		if f == nil || name == operandFlag {
			if name == "h" {
				return 0, flag.ErrHelp
			}
			return 0, fmt.Errorf("invalid option -- '%s'", name)
		}
		if isBoolFlag(f) {
			if err := set(fs, f, "-"+name, "true"); err != nil {
				return 0, err
			}
			continue
		}
		if j+1 < len(body) {
			return 0, set(fs, f, "-"+name, body[j+1:])
		}
		if len(rest) == 0 {
			return 0, fmt.Errorf("option requires an argument -- '%s'", name)
		}
		return 1, set(fs, f, "-"+name, rest[0])
	}
	return 0, nil
}

// lookable reports whether name is a declared flag a command line may use.
func lookable(fs *flag.FlagSet, name string) bool {
	return name != operandFlag && fs.Lookup(name) != nil
}

// lookupLong finds a long flag by its name or, as getopt_long does, by an
// unambiguous abbreviation of it (--warn for --warning).
func lookupLong(fs *flag.FlagSet, name string) (*flag.Flag, error) {
	if lookable(fs, name) {
		return fs.Lookup(name), nil
	}
	var match []*flag.Flag
	fs.VisitAll(func(f *flag.Flag) {
		if len(f.Name) > 1 && f.Name != operandFlag && name != "" && strings.HasPrefix(f.Name, name) {
			match = append(match, f)
		}
	})
	switch {
	case len(match) == 1:
		return match[0], nil
	case len(match) > 1 && sameFlag(match):
		return match[0], nil // --pa for --path and --partition, one flag
	case len(match) > 1:
		return nil, fmt.Errorf("option '--%s' is ambiguous", name)
	case name == "help":
		return nil, flag.ErrHelp
	}
	return nil, fmt.Errorf("unrecognized option '--%s'", name)
}

// sameFlag reports whether flags are names of one flag, as getopt_long
// takes an abbreviation of two long names of one option: an alias says
// "same as -x" (StringFlag, BoolFlag, ListVar, Alias).
func sameFlag(fs []*flag.Flag) bool {
	for _, f := range fs[1:] {
		if canonical(f) != canonical(fs[0]) {
			return false
		}
	}
	return true
}

// aliasPrefix starts the usage of a flag that is another name of one.
const aliasPrefix = "same as -"

func canonical(f *flag.Flag) string {
	if name, ok := strings.CutPrefix(f.Usage, aliasPrefix); ok {
		return strings.TrimLeft(name, "-")
	}
	return f.Name
}

func isBoolFlag(f *flag.Flag) bool {
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return ok && b.IsBoolFlag()
}

func set(fs *flag.FlagSet, f *flag.Flag, arg, value string) error {
	if err := fs.Set(f.Name, value); err != nil {
		var ue *UsageError
		if errors.As(err, &ue) {
			return err
		}
		name := strings.SplitN(arg, "=", 2)[0]
		if isBoolFlag(f) {
			return fmt.Errorf("invalid boolean value %q for %s: %w", value, name, err)
		}
		return fmt.Errorf("invalid value %q for %s: %w", value, name, err)
	}
	return nil
}

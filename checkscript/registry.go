package checkscript

import (
	"cmp"
	"context"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"
)

// DefaultTimeout is the plugins' default -t value.
const DefaultTimeout = 10 * time.Second

// Check is one configured probe, ready to run. Run must honour ctx's deadline
// and never panic; it reports every failure as a Result, never as an error.
type Check interface {
	Run(ctx context.Context) Result
}

// Probe describes one probe kind: its name, its help, and how to build a Check
// from Nagios-style flags.
type Probe struct {
	// Name is the command-line and HCL name, e.g. "disk".
	Name string
	// Label is the service label printed in output lines, e.g. "DISK".
	Label string
	// Summary is one line of help.
	Summary string
	// Define declares the probe's flags on fs and returns the constructor
	// called once the flags are parsed. The constructor validates and must not
	// do I/O: it also runs when a declaration is validated. The flags are
	// set in the order of the command line (see parseArgs); operands go
	// where Operands says.
	Define func(fs *flag.FlagSet) func() (Check, error)
	// Syntax is how the plugin the probe stands for reads its operands.
	Syntax ArgSyntax
	// ArgRank orders the flags of a declaration's args (an HCL object,
	// which has no order): by rank, then by name. Flags that apply to what
	// follows them need it: disk's thresholds before its paths (-p, rank
	// 1), the paths before -i/-I (rank 2). Flags it does not name rank 0.
	ArgRank map[string]int
}

// Registry is a set of probes by name: Light in this package, every probe
// in allprobes.Registry. A new probe is a file and one line in one of them.
type Registry map[string]Probe

// Light is every probe whose dependencies are the standard library's and a
// few small system packages (one line each, as blackbox_exporter's prober
// table): carbonio-health-check, the binary the Consul agent execs for their
// script checks, links these and nothing else, so that an exec starts as
// little as a Go program can. Probes with heavy dependencies (a DNS library,
// D-Bus, ICMP, an HTTP client) live in packages of their own under
// checkscript/ and join these in allprobes.Registry, which also gives tcp
// its TLS client (crypto/tls). Each value is defined beside its probe;
// TestProbesTable checks that the keys match the names.
var Light = Registry{
	"dirsize": dirsizeProbe,
	"disk":    DiskProbe(nil),
	"load":    loadProbe,
	"socket":  socketProbe,
	"tcp":     TCPProbe(nil),
	"users":   usersProbe,
}

// With returns a registry holding r's probes and more's; a probe of more
// replaces r's of the same name (allprobes gives tcp its TLS client).
func (r Registry) With(more Registry) Registry {
	out := maps.Clone(r)
	maps.Copy(out, more)
	return out
}

// Lookup returns the probe with the given name.
func (r Registry) Lookup(name string) (Probe, bool) {
	p, ok := r[name]
	return p, ok
}

// Probes returns every probe sorted by name.
func (r Registry) Probes() []Probe {
	out := slices.Collect(maps.Values(r))
	slices.SortFunc(out, func(a, b Probe) int { return cmp.Compare(a.Name, b.Name) })
	return out
}

// Names returns the probe names, sorted.
func (r Registry) Names() []string {
	return slices.Sorted(maps.Keys(r))
}

// UsageError reports bad arguments; the command answers UNKNOWN with Usage.
type UsageError struct {
	Probe string // probe name, empty when the probe itself is unknown
	Err   error
	Usage string // the probe's flag help
}

func (e *UsageError) Error() string {
	if e.Probe == "" {
		return e.Err.Error()
	}
	return e.Probe + ": " + e.Err.Error()
}

func (e *UsageError) Unwrap() error { return e.Err }

// New builds the named probe of r from its arguments, as given after
// `carbonio-health check <probe>`, read as getopt_long reads the plugin's
// (parseArgs). Every probe accepts -t/--timeout (seconds, or a Go duration
// such as 1500ms; default 10 s; -to as the plugins). Errors are *UsageError.
func (r Registry) New(name string, args []string) (Check, error) {
	p, ok := r.Lookup(name)
	if !ok {
		return nil, &UsageError{Err: fmt.Errorf("unknown probe %q%s (known: %s)", name, DidYouMean(name, r.Names()), strings.Join(r.Names(), ", "))}
	}
	return p.Build(p.Define, args)
}

// Build parses args with the flags define declares, and wraps the check in
// its -t timeout. New passes p.Define; a test passes the same flags on a
// check value holding stand-in inputs (probes' <name>Flags functions).
func (p Probe) Build(define func(fs *flag.FlagSet) func() (Check, error), args []string) (Check, error) {
	name := p.Name
	timeout := DefaultTimeout
	fs, build := p.flagSet(define, &timeout)
	if err := parseArgs(fs, args, p.Syntax); err != nil {
		return nil, &UsageError{Probe: name, Err: flagHint(err, fs), Usage: p.Usage()}
	}
	c, err := build()
	if err != nil {
		return nil, &UsageError{Probe: name, Err: err, Usage: p.Usage()}
	}
	return &timed{check: c, timeout: timeout}, nil
}

// declareTimeout declares -t, --timeout and the plugins' -to.
func declareTimeout(fs *flag.FlagSet, timeout *time.Duration) {
	fs.Var((*timeoutFlag)(timeout), "t", "timeout in seconds (or a duration like 1500ms)")
	Alias(fs, "t", "timeout")
	OneDashAlias(fs, "t", "to")
}

// flagSet declares the probe's flags, and -t/--timeout into *timeout.
func (p Probe) flagSet(define func(fs *flag.FlagSet) func() (Check, error), timeout *time.Duration) (*flag.FlagSet, func() (Check, error)) {
	fs := flag.NewFlagSet(p.Name, flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	build := define(fs)
	declareTimeout(fs, timeout)
	return fs, build
}

// FlagSet returns the probe's flags, -t/--timeout included, as parsed by
// New: what its usage, the manual page and the shell completion list.
func (p Probe) FlagSet() *flag.FlagSet {
	timeout := DefaultTimeout
	fs, _ := p.flagSet(p.Define, &timeout)
	return fs
}

// Usage returns the probe's help: its summary and its flags.
func (p Probe) Usage() string { return p.UsageAs("carbonio-health check") }

// UsageAs is Usage for the command line prog (e.g. "carbonio-health-check").
func (p Probe) UsageAs(prog string) string {
	fs := p.FlagSet()
	var b strings.Builder
	operands := ""
	if op := fs.Lookup(operandFlag); op != nil {
		operands = " " + op.Usage
	}
	fmt.Fprintf(&b, "Usage: %s %s [flags]%s\n%s\n\nFlags:\n", prog, p.Name, operands, p.Summary)
	writeFlags(&b, fs)
	return b.String()
}

// writeFlags lists fs's flags, each with its other names: "-w, --warning".
func writeFlags(b *strings.Builder, fs *flag.FlagSet) {
	names := map[string][]string{}
	fs.VisitAll(func(f *flag.Flag) {
		if c := canonical(f); c != f.Name {
			names[c] = append(names[c], f.Name)
		}
	})
	fs.VisitAll(func(f *flag.Flag) {
		if canonical(f) != f.Name || f.Name == operandFlag {
			return
		}
		b.WriteString(" ")
		for i, n := range append([]string{f.Name}, names[f.Name]...) {
			if i > 0 {
				b.WriteByte(',')
			}
			b.WriteString(" " + Spelling(fs.Lookup(n)))
		}
		if !isBoolFlag(f) {
			b.WriteString(" VALUE")
		}
		b.WriteString("\n    \t" + f.Usage)
		switch f.DefValue {
		case "", "0", "false", "[]", "0s":
		default:
			fmt.Fprintf(b, " (default %s)", f.DefValue)
		}
		b.WriteByte('\n')
	})
}

// flagHint adds the nearest flag's name to parseArgs' error for a flag
// that is not declared: "invalid option -- 'x'", "unrecognized option
// '--wraning'; did you mean --warning?".
func flagHint(err error, fs *flag.FlagSet) error {
	msg := err.Error()
	var given string
	switch {
	case strings.HasPrefix(msg, "unrecognized option '--"):
		given = strings.TrimSuffix(strings.TrimPrefix(msg, "unrecognized option '--"), "'")
	case strings.HasPrefix(msg, "invalid option -- '"):
		given = strings.TrimSuffix(strings.TrimPrefix(msg, "invalid option -- '"), "'")
	default:
		return err
	}
	var names []string
	fs.VisitAll(func(f *flag.Flag) {
		if f.Name != operandFlag {
			names = append(names, f.Name)
		}
	})
	if n := Nearest(given, names); n != "" && n != given {
		return fmt.Errorf("%w; did you mean %s?", err, Spelling(fs.Lookup(n)))
	}
	return err
}

// timed applies the -t timeout around a probe.
type timed struct {
	check   Check
	timeout time.Duration
}

func (t *timed) Run(ctx context.Context) Result {
	ctx, cancel := context.WithTimeout(ctx, t.timeout)
	defer cancel()
	return t.check.Run(ctx)
}

// timeoutFlag parses plugin-style integer seconds or a Go duration.
type timeoutFlag time.Duration

func (f *timeoutFlag) String() string { return time.Duration(*f).String() }

func (f *timeoutFlag) Set(s string) error {
	d, err := ParseSeconds(s, 0)
	if err != nil {
		return fmt.Errorf("timeout %w", err)
	}
	*f = timeoutFlag(d)
	return nil
}

// TimeoutOf returns the timeout a Check built by New runs with.
func TimeoutOf(c Check) time.Duration {
	if t, ok := c.(*timed); ok {
		return t.timeout
	}
	return DefaultTimeout
}

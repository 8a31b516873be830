package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/zextras/carbonio-health/checkscript"
)

// manPage is where every error about the command line points.
const manPage = "man carbonio-health"

// newFlagSet returns the flag set of a command: a parse error prints the
// error (with the nearest flag's name for a typo), the command's usage and
// where to read more on stderr. Every command declares its flags on one, so
// that -h, the manual page and the shell completion read the same flags
// (commandFlags).
func newFlagSet(ctx context.Context, name string, stderr io.Writer) *flag.FlagSet {
	fs := flag.NewFlagSet(name, flag.ContinueOnError)
	fs.SetOutput(&hintWriter{w: stderr, fs: fs})
	summary := ""
	if c, ok := ctx.Value(commandKey{}).(command); ok {
		summary = c.summary
	}
	fs.Usage = func() { writeCommandUsage(stderr, name, summary, fs) }
	if c, ok := ctx.Value(flagSetsKey{}).(*flagSets); ok {
		c.sets[name] = fs
	}
	return fs
}

// commandKey is the context key of the command being run (dispatch puts it
// there), whose summary its usage shows.
type commandKey struct{}

// writeCommandUsage prints a command's synopsis, summary and flags.
func writeCommandUsage(w io.Writer, name, summary string, fs *flag.FlagSet) {
	fmt.Fprintf(w, "Usage: carbonio-health %s %s\n", name, commandDocs[name].args)
	if summary != "" {
		fmt.Fprintf(w, "\n%s.\n", upperFirst(summary))
	}
	if usage := commandDocs[name].usage; usage != "" {
		fmt.Fprintf(w, "\n%s\n", usage)
	}
	fmt.Fprintln(w, "\nFlags:")
	fs.PrintDefaults()
	fmt.Fprintf(w, "\nRead more: %s\n", manPage)
}

// hintWriter adds "did you mean" to the flag package's message about an
// undefined flag.
type hintWriter struct {
	w  io.Writer
	fs *flag.FlagSet
}

func (h *hintWriter) Write(p []byte) (int, error) {
	const undefined = "flag provided but not defined: -"
	msg := strings.TrimSuffix(string(p), "\n")
	if !strings.HasPrefix(msg, undefined) {
		return h.w.Write(p)
	}
	given := strings.TrimLeft(strings.TrimPrefix(msg, undefined), "-")
	var names []string
	h.fs.VisitAll(func(f *flag.Flag) { names = append(names, f.Name) })
	if n := checkscript.Nearest(given, names); n != "" {
		msg += "; did you mean -" + n + "?"
	}
	if _, err := fmt.Fprintln(h.w, msg); err != nil {
		return 0, err
	}
	return len(p), nil
}

// flagSets collects the flag sets commands declare, by command name.
type flagSets struct{ sets map[string]*flag.FlagSet }

type flagSetsKey struct{}

// commandFlags returns the flags a command declares, or nil for one that
// has none of its own (check: its flags are the probes'). It runs the
// command with -h and a context that collects its flag set: a command's
// run function declares its flags and parses them before anything else.
func commandFlags(name string) *flag.FlagSet {
	cmd, ok := commands[name]
	if !ok {
		return nil // version
	}
	c := &flagSets{sets: map[string]*flag.FlagSet{}}
	ctx := context.WithValue(context.Background(), flagSetsKey{}, c)
	ctx = context.WithValue(ctx, commandKey{}, cmd)
	cmd.run(ctx, []string{"-h"}, io.Discard, io.Discard)
	return c.sets[name]
}

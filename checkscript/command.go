package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// SteadyFlag, before the probe's name, makes `check` print the steady form of
// its result (Result.SteadyString): what the Consul agent runs for a script
// check, so that the output it stores moves only with the state.
const SteadyFlag = "-steady"

// Main runs `carbonio-health check [-steady] <probe> [flags]` with r's
// probes: it prints one plugin output line on stdout and returns the plugin
// exit code (0..3). Bad arguments answer UNKNOWN with the probe's usage, as
// the plugins do.
func (r Registry) Main(ctx context.Context, args []string, stdout io.Writer) int {
	return r.MainAs(ctx, "carbonio-health check", args, stdout)
}

// MainAs is Main for the command line prog (e.g. "carbonio-health-check"),
// which the usage shows; its first word names the manual page that bad
// arguments point at.
func (r Registry) MainAs(ctx context.Context, prog string, args []string, stdout io.Writer) int {
	more := "Read more: man " + strings.Fields(prog)[0] + "\n"
	steady := len(args) > 0 && (args[0] == SteadyFlag || args[0] == "-"+SteadyFlag)
	if steady {
		args = args[1:]
	}
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(stdout, r.listing(prog), more)
		return int(Unknown)
	}
	name := args[0]
	c, err := r.New(name, args[1:])
	if err != nil {
		label := strings.ToUpper(name)
		if p, ok := r.Lookup(name); ok {
			label = p.Label
		}
		var ue *UsageError
		if !errors.Is(err, flag.ErrHelp) {
			fmt.Fprintln(stdout, Unknownf(label, err.Error()).String())
		}
		if p, ok := r.Lookup(name); ok {
			fmt.Fprint(stdout, p.UsageAs(prog))
		} else if errors.As(err, &ue) {
			fmt.Fprint(stdout, r.listing(prog))
		}
		fmt.Fprint(stdout, more)
		return int(Unknown)
	}
	res := c.Run(ctx)
	if steady {
		fmt.Fprintln(stdout, res.SteadyString())
	} else {
		fmt.Fprintln(stdout, res.String())
	}
	return int(res.Status)
}

func (r Registry) listing(prog string) string {
	var b strings.Builder
	fmt.Fprintf(&b, "Usage: %s <probe> [flags]\n", prog)
	fmt.Fprintf(&b, "       %s -steady <probe> [flags]   (no perfdata, no moving measurements: what Consul stores)\n\nProbes:\n", prog)
	for _, p := range r.Probes() {
		fmt.Fprintf(&b, "  %-8s %s\n", p.Name, p.Summary)
	}
	fmt.Fprintf(&b, "\nRun `%s <probe> -h` for a probe's flags.\n", prog)
	return b.String()
}

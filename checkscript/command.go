package checkscript

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
)

// Main runs `carbonio-health check <probe> [flags]` with r's probes: it
// prints one plugin output line on stdout and returns the plugin exit code
// (0..3). Bad arguments answer UNKNOWN with the probe's usage, as the
// plugins do.
func (r Registry) Main(ctx context.Context, args []string, stdout io.Writer) int {
	if len(args) == 0 || args[0] == "-h" || args[0] == "-help" || args[0] == "--help" {
		fmt.Fprint(stdout, r.listing())
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
		if errors.Is(err, flag.ErrHelp) && errors.As(err, &ue) {
			fmt.Fprint(stdout, ue.Usage)
			return int(Unknown)
		}
		fmt.Fprintln(stdout, Unknownf(label, err.Error()).String())
		if errors.As(err, &ue) && ue.Usage != "" {
			fmt.Fprint(stdout, ue.Usage)
		} else if ue != nil {
			fmt.Fprint(stdout, r.listing())
		}
		return int(Unknown)
	}
	res := c.Run(ctx)
	fmt.Fprintln(stdout, res.String())
	return int(res.Status)
}

func (r Registry) listing() string {
	var b strings.Builder
	b.WriteString("Usage: carbonio-health check <probe> [flags]\n\nProbes:\n")
	for _, p := range r.Probes() {
		fmt.Fprintf(&b, "  %-8s %s\n", p.Name, p.Summary)
	}
	b.WriteString("\nRun `carbonio-health check <probe> -h` for a probe's flags.\n")
	return b.String()
}

package plugintest

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// Run is one answer of a plugin or of ours: the exit code and the output,
// its last newline cut (as NPTest's testCmd keeps it).
type Run struct {
	Code   int
	Output string
}

// Line is the output's first line, without trailing blanks (check_load
// ends its line with one; check_tcp copies the answer's CR).
func (r Run) Line() string {
	line, _, _ := strings.Cut(r.Output, "\n")
	return strings.TrimRight(line, " \r")
}

// PerfOutput is NPTest's perf_output: what follows '|' on the last line.
func (r Run) PerfOutput() string {
	if m := perfRe.FindStringSubmatch(r.Output); m != nil {
		return m[1]
	}
	return ""
}

// OnlyOutput is NPTest's only_output: the first line up to '|' ("" when
// there is none).
func (r Run) OnlyOutput() string {
	if m := onlyRe.FindStringSubmatch(r.Output); m != nil {
		return m[1]
	}
	return ""
}

var (
	perfRe = regexp.MustCompile(`\|(.*)$`)
	onlyRe = regexp.MustCompile(`(.*?)\|`)
)

// Plugin returns the path of Debian's plugin, failing (with
// CARBONIO_HEALTH_INTEGRATION=1) or skipping when it is missing.
func Plugin(t testing.TB, name string) string {
	t.Helper()
	dir := os.Getenv("CARBONIO_HEALTH_PLUGINS")
	if dir == "" {
		dir = "/usr/lib/nagios/plugins"
	}
	p := filepath.Join(dir, name)
	if st, err := os.Stat(p); err != nil || st.Mode()&0o111 == 0 {
		if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
			t.Fatalf("plugin %s missing (CARBONIO_HEALTH_INTEGRATION=1; install with `make plugins`): %v", p, err)
		}
		t.Skipf("plugin %s missing; set CARBONIO_HEALTH_PLUGINS or run `make plugins`", p)
	}
	return p
}

// Real runs Debian's plugin in the C locale and UTC.
func Real(t testing.TB, plugin string, args ...string) Run {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, Plugin(t, plugin), args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	var out bytes.Buffer
	cmd.Stdout = &out
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	switch {
	case errors.As(err, &ee) && ee.ExitCode() >= 0:
		code = ee.ExitCode()
	case errors.As(err, &ee):
		code = 128 + 11 // killed by a signal (check_users -w alone: SIGSEGV)
	case err != nil:
		t.Fatalf("%s %q: %v", plugin, args, err)
	}
	return Run{Code: code, Output: strings.TrimSuffix(out.String(), "\n")}
}

// Registry is what runs our probes: a checkscript.Registry (plugintest
// does not import checkscript, so that checkscript's own tests can use
// its servers and certificates).
type Registry interface {
	Main(ctx context.Context, args []string, stdout io.Writer) int
}

// Ours runs our probe as `carbonio-health check <probe> args…` does.
func Ours(reg Registry, probe string, args ...string) Run {
	var out bytes.Buffer
	code := reg.Main(context.Background(), append([]string{probe}, args...), &out)
	return Run{Code: code, Output: strings.TrimSuffix(out.String(), "\n")}
}

// numberRe finds the numbers of a line that move between two runs.
var numberRe = regexp.MustCompile(`[0-9]+(\.[0-9]+)?`)

// secondsRe finds a measured time's unit, whose number the measurement
// sets: check_dns writes "0.002 seconds", "1.240 second", "2.5 seconds"
// (ngettext on the whole seconds; dnsprobe's own tests hold ours to it).
var secondsRe = regexp.MustCompile(`N seconds?\b`)

// Shape replaces every number of s with N, and a number's "second" or
// "seconds" with "second(s)": two lines of one probe, run twice, have one
// shape when only measurements differ (on a loaded machine check_dns
// answers in 1.2 s where ours took 2 ms).
func Shape(s string) string {
	return secondsRe.ReplaceAllString(numberRe.ReplaceAllString(s, "N"), "N second(s)")
}

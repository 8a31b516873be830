package checkscript

// Side by side with Debian's monitoring-plugins 2.3.3 (`make plugins`): the
// real check_load, check_disk, check_users and check_tcp run on the same
// inputs and thresholds as our probes; exit codes, perfdata labels and values
// (within noise) must agree. With CARBONIO_HEALTH_INTEGRATION=1 a missing
// plugin fails the test; without it the test is skipped.

import (
	"bytes"
	"context"
	"errors"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
)

// plugin returns the path of a real plugin, failing or skipping when absent.
func plugin(t *testing.T, name string) string {
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

// pluginRun is one plugin answer: exit code and first output line.
type pluginRun struct {
	code int
	line string
}

// runReal runs a real plugin in the C locale and UTC (our dates are UTC).
func runReal(t *testing.T, path string, args ...string) pluginRun {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	cmd := exec.CommandContext(ctx, path, args...)
	cmd.Env = append(os.Environ(), "LC_ALL=C", "TZ=UTC")
	out, err := cmd.Output()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("%s %q: %v", path, args, err)
	}
	line, _, _ := strings.Cut(string(out), "\n")
	t.Logf("real: %s %s → %d %s", filepath.Base(path), strings.Join(args, " "), code, line)
	return pluginRun{code, line}
}

// runOurs runs our command the way Consul does.
func runOurs(t *testing.T, args ...string) pluginRun {
	t.Helper()
	var out bytes.Buffer
	code := testProbes.Main(context.Background(), args, &out)
	line, _, _ := strings.Cut(out.String(), "\n")
	t.Logf("ours: %s → %d %s", strings.Join(args, " "), code, line)
	return pluginRun{code, line}
}

// perfItem is one parsed perfdata item; fields are warn, crit, min, max.
type perfItem struct {
	label  string
	value  float64
	uom    string
	fields [4]string
}

// parsePerf parses the perfdata of a plugin line (labels without spaces).
func parsePerf(t *testing.T, line string) []perfItem {
	t.Helper()
	_, perf, ok := strings.Cut(line, "|")
	if !ok {
		return nil
	}
	var items []perfItem
	for _, f := range strings.Fields(perf) {
		label, rest, ok := strings.Cut(f, "=")
		if !ok {
			t.Fatalf("bad perfdata item %q in %q", f, line)
		}
		parts := strings.Split(rest, ";")
		num := strings.TrimRight(parts[0], "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ%")
		v, err := strconv.ParseFloat(num, 64)
		if err != nil {
			t.Fatalf("bad perfdata value %q in %q", parts[0], line)
		}
		it := perfItem{label: strings.Trim(label, "'"), value: v, uom: parts[0][len(num):]}
		copy(it.fields[:], parts[1:])
		items = append(items, it)
	}
	return items
}

// num parses a perfdata threshold field ("" → NaN).
func num(s string) float64 {
	v, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return v
}

// near reports whether a and b agree within abs or rel (a fraction of b).
func near(a, b, abs, rel float64) bool {
	if math.IsNaN(a) || math.IsNaN(b) {
		return math.IsNaN(a) && math.IsNaN(b)
	}
	return math.Abs(a-b) <= math.Max(abs, rel*math.Abs(b))
}

// comparePerf checks labels in order and values within tolerances, with a
// per-field tolerance function (nil: exact numeric equality).
func comparePerf(t *testing.T, real, ours pluginRun, rename map[string]string, value func(a, b float64) bool, field func(i int, a, b float64) bool) {
	t.Helper()
	rp, op := parsePerf(t, real.line), parsePerf(t, ours.line)
	if len(rp) != len(op) {
		t.Fatalf("perfdata items: real %d, ours %d\nreal: %s\nours: %s", len(rp), len(op), real.line, ours.line)
	}
	for i := range rp {
		r, o := rp[i], op[i]
		if want := rename[r.label]; want != "" {
			r.label = want
		}
		if r.label != o.label || r.uom != o.uom {
			t.Errorf("item %d: real %s (%s), ours %s (%s)", i, r.label, r.uom, o.label, o.uom)
		}
		if !value(r.value, o.value) {
			t.Errorf("%s: real value %v, ours %v", r.label, r.value, o.value)
		}
		for j := range r.fields {
			a, b := num(r.fields[j]), num(o.fields[j])
			ok := near(a, b, 0, 0)
			if field != nil {
				ok = field(j, a, b)
			}
			if !ok {
				t.Errorf("%s field %d: real %q, ours %q", r.label, j, r.fields[j], o.fields[j])
			}
		}
	}
}

func sameCode(t *testing.T, real, ours pluginRun) {
	t.Helper()
	if real.code != ours.code {
		t.Errorf("exit codes differ: real %d, ours %d\nreal: %s\nours: %s", real.code, ours.code, real.line, ours.line)
	}
}

func TestCompareLoad(t *testing.T) {
	bin := plugin(t, "check_load")
	loadNoise := func(a, b float64) bool { return near(a, b, 0.5, 0.3) } // load moves between two reads
	tests := []struct {
		name string
		args []string
		skip func(avg [3]float64) bool // when the state would not be deterministic
	}{
		{"very high", []string{"-w", "1000,1000,1000", "-c", "2000,2000,2000"}, nil},
		{"per cpu", []string{"-r", "-w", "1000", "-c", "2000"}, nil},
		{"warn at zero", []string{"-w", "0", "-c", "1000"}, func(a [3]float64) bool { return a[2] < 0.05 }},
		{"crit at zero", []string{"-w", "0", "-c", "0"}, func(a [3]float64) bool { return a[2] < 0.05 }},
		{"inconsistent", []string{"-w", "5,4", "-c", "3"}, nil},
		{"not a number", []string{"-w", "a", "-c", "3"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.skip != nil {
				avg, _, err := readLoad(context.Background(), false)
				if err != nil {
					t.Fatal(err)
				}
				if tt.skip(avg) {
					t.Skipf("load %v too close to 0 for a deterministic state", avg)
				}
			}
			real := runReal(t, bin, tt.args...)
			ours := runOurs(t, append([]string{"load"}, tt.args...)...)
			sameCode(t, real, ours)
			if real.code == 3 {
				return // usage errors: no perfdata; wording differs (ours adds the label and usage)
			}
			comparePerf(t, real, ours, nil, loadNoise, nil)
		})
	}
}

func TestCompareUsers(t *testing.T) {
	bin := plugin(t, "check_users")
	// Same utmp for both: the machine's own (absent in containers: 0 users).
	for _, args := range [][]string{{"-w", "5", "-c", "10"}, {"-w", "@0:0", "-c", "10"}, {"-w", "0", "-c", "0"}} {
		t.Run(strings.Join(args, " "), func(t *testing.T) {
			real := runReal(t, bin, args...)
			ours := runOurs(t, append([]string{"users"}, args...)...)
			sameCode(t, real, ours)
			// check_users prints "logged in |users=…": the space before '|' is
			// the only difference in the line.
			if strings.Replace(real.line, " |", "|", 1) != ours.line {
				t.Errorf("lines differ:\nreal: %s\nours: %s", real.line, ours.line)
			}
		})
	}
	t.Run("utmp fixture", func(t *testing.T) {
		// The real plugin reads /var/run/utmp only: give it our fixture in a
		// private mount namespace (root only), and ours the same via HOST_VAR.
		dir := t.TempDir()
		utmp := writeUtmp(t, filepath.Join(dir, "run", "utmp"), utBootTime, utUserProcess, utLoginProcess, utUserProcess, utUserProcess, utDeadProcess)
		t.Setenv("HOST_VAR", dir)
		unshare, err := exec.LookPath("unshare")
		if err == nil {
			err = exec.Command(unshare, "-m", "true").Run()
		}
		if err != nil {
			// Not a missing plugin: the sandbox lacks namespaces or root.
			t.Skipf("cannot create a mount namespace here (%v): fixture comparison needs root", err)
		}
		for _, args := range [][]string{{"-w", "5", "-c", "10"}, {"-w", "2", "-c", "10"}, {"-w", "1", "-c", "2"}} {
			script := `mount -t tmpfs tmpfs /run && cp "$1" /run/utmp && shift && exec "$@"`
			real := runReal(t, unshare, append([]string{"-m", "sh", "-c", script, "sh", utmp, bin}, args...)...)
			ours := runOurs(t, append([]string{"users"}, args...)...)
			sameCode(t, real, ours)
			if !strings.Contains(real.line, "3 users currently logged in") || strings.Replace(real.line, " |", "|", 1) != ours.line {
				t.Errorf("lines differ:\nreal: %s\nours: %s", real.line, ours.line)
			}
		}
	})
}

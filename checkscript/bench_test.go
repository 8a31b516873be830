package checkscript

// The cost of one check evaluation, five ways in one process so that the
// ratios come from the same run on the same (noisy) machine:
//
//   - in-process: what the daemon's TTL runner does, Check.Run and the
//     output line, with the Check built once;
//
// and, interleaved (one exec of each per round):
//   - minimal-go: fork/exec of a Go program that prints one line, built by
//     the benchmark (static, as make build): the floor of any Go binary;
//   - plugin: fork/exec of Debian's check_disk, check_load, check_users or
//     check_tcp with the same thresholds, output captured, as a Nagios or
//     Zabbix agent (or a Consul script check calling them) does;
//   - command: fork/exec of `carbonio-health-check check <probe> …`, as a
//     Consul script check runs the light probes;
//   - full: the same through `carbonio-health check <probe> …`, the whole
//     binary.
//
// Run with `make bench` (deploy/bench/run.sh), or by hand:
//
//	go test -run '^$' -bench BenchmarkCheck -benchmem ./checkscript
//
// The command and full variants need the binaries (CARBONIO_HEALTH_CHECK_BIN
// and CARBONIO_HEALTH_BIN, default ../bin/carbonio-health-check and
// ../bin/carbonio-health from `make build`), the plugin variant the plugins
// (CARBONIO_HEALTH_PLUGINS, default /usr/lib/nagios/plugins); each is skipped
// when missing unless CARBONIO_HEALTH_INTEGRATION=1. No timing is asserted.

import (
	"bytes"
	"context"
	"errors"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"
)

// benchCase is one probe with the same thresholds for ours and the plugin.
type benchCase struct {
	name   string // probe name and sub-benchmark name
	plugin string // Debian plugin file name
	args   []string
}

// benchCases are the catalog's thresholds (hcl/catalog/all.hcl) for disk,
// load and users, and a bare connect for tcp, against a listener of this
// process. check_disk has no "used" thresholds: -w 20% -c 10% of free space
// is the catalog's --used-warning 80% --used-critical 90%, and both forms are
// given to ours so that its command line matches the plugin's.
func benchCases(tcpPort int) []benchCase {
	port := strconv.Itoa(tcpPort)
	return []benchCase{
		{"disk", "check_disk", []string{"-w", "20%", "-c", "10%", "-p", "/"}},
		{"load", "check_load", []string{"-r", "-w", "1.5,1.25,1", "-c", "3,2.5,2"}},
		{"users", "check_users", []string{"-w", "1", "-c", "4"}},
		{"tcp", "check_tcp", []string{"-H", "127.0.0.1", "-p", port}},
	}
}

// BenchmarkCheck measures one evaluation of each probe in-process, and
// its exec four ways: the exec variants run interleaved, one of each per
// round, so that their ratios are measured under the same load even on a
// busy machine; each reports its median wall time per exec
// (<variant>-ns) and the CPU time of the whole loop.
func BenchmarkCheck(b *testing.B) {
	port := benchListener(b)
	minimal := buildMinimalGo(b)
	for _, bc := range benchCases(port) {
		b.Run(bc.name, func(b *testing.B) {
			b.Run("in-process", func(b *testing.B) { benchInProcess(b, bc) })
			b.Run("exec", func(b *testing.B) {
				benchExecs(b, []benchVariant{
					{"minimal-go", minimal, nil},
					{"plugin", benchPlugin(b, bc.plugin), bc.args},
					{"command", benchBinary(b, "CARBONIO_HEALTH_CHECK_BIN", "carbonio-health-check"), append([]string{"check", bc.name}, bc.args...)},
					{"full", benchBinary(b, "CARBONIO_HEALTH_BIN", "carbonio-health"), append([]string{"check", bc.name}, bc.args...)},
				})
			})
		})
	}
}

// minimalGo is the floor of a Go exec: a program that prints one line.
const minimalGo = `package main

import "os"

func main() { os.Stdout.WriteString("OK - a minimal Go program\n") }
`

// buildMinimalGo builds minimalGo, static like make build, and returns the
// binary's path.
func buildMinimalGo(b *testing.B) string {
	dir := b.TempDir()
	bin := filepath.Join(dir, "minimal")
	for name, text := range map[string]string{"main.go": minimalGo, "go.mod": "module minimal\n"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
			b.Fatal(err)
		}
	}
	cmd := exec.Command("go", "build", "-o", bin, ".")
	cmd.Dir = dir
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build the minimal Go program: %v\n%s", err, out)
	}
	return bin
}

// benchInProcess runs the check as the TTL runner does: Run, then the line
// it pushes to the agent.
func benchInProcess(b *testing.B, bc benchCase) {
	c, err := Light.New(bc.name, bc.args)
	if err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	first := c.Run(ctx)
	if first.Status == Unknown {
		b.Fatalf("%s: %s", bc.name, first.String())
	}
	b.Logf("in-process: %s", first.String())
	b.ReportAllocs()
	var n, runs int
	cpu := startCPU(b)
	for b.Loop() {
		n += len(c.Run(ctx).String())
		runs++
	}
	cpu.report(b, runs)
	if n == 0 {
		b.Fatal("no output")
	}
}

// benchVariant is one program to exec with its arguments.
type benchVariant struct {
	name string
	path string
	args []string
}

// benchExecs runs every variant once per round, b.N rounds, capturing
// stdout, and fails on anything but a plugin exit code (0..3). It reports
// each variant's median wall time per exec as <name>-ns.
func benchExecs(b *testing.B, variants []benchVariant) {
	env := append(os.Environ(), "LC_ALL=C")
	var out bytes.Buffer
	run := func(v benchVariant) (int, time.Duration) {
		out.Reset()
		cmd := exec.Command(v.path, v.args...)
		cmd.Env = env
		cmd.Stdout = &out
		start := time.Now()
		err := cmd.Run()
		took := time.Since(start)
		var ee *exec.ExitError
		switch {
		case errors.As(err, &ee) && ee.ExitCode() >= 0 && ee.ExitCode() <= 3:
			return ee.ExitCode(), took
		case err != nil:
			b.Fatalf("%s %s: %v", v.path, strings.Join(v.args, " "), err)
		}
		return 0, took
	}
	for _, v := range variants {
		code, _ := run(v)
		line, _, _ := strings.Cut(out.String(), "\n")
		b.Logf("%s → %d %s", filepath.Base(v.path), code, line)
		if code == int(Unknown) {
			b.Fatalf("%s %s answered UNKNOWN: %s", v.path, strings.Join(v.args, " "), line)
		}
	}
	took := make([][]time.Duration, len(variants))
	runs := 0
	cpu := startCPU(b)
	for b.Loop() {
		for i, v := range variants {
			_, d := run(v)
			took[i] = append(took[i], d)
		}
		runs++
	}
	cpu.report(b, runs*len(variants))
	for i, v := range variants {
		slices.Sort(took[i])
		b.ReportMetric(float64(took[i][len(took[i])/2].Nanoseconds()), v.name+"-ns")
	}
}

// cpuMeter measures the CPU time (user+system) this process and its waited
// children spend over a benchmark loop: for the exec variants most of the
// cost is in the child, which ns/op (wall time) only shows in part.
type cpuMeter struct{ self, children time.Duration }

func startCPU(b *testing.B) cpuMeter {
	return cpuMeter{rusage(b, syscall.RUSAGE_SELF), rusage(b, syscall.RUSAGE_CHILDREN)}
}

// report adds cpu-ns/op: the CPU time of the loop divided by its runs.
func (m cpuMeter) report(b *testing.B, runs int) {
	if runs == 0 {
		return
	}
	used := rusage(b, syscall.RUSAGE_SELF) - m.self + rusage(b, syscall.RUSAGE_CHILDREN) - m.children
	b.ReportMetric(float64(used.Nanoseconds())/float64(runs), "cpu-ns/op")
}

func rusage(b *testing.B, who int) time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(who, &ru); err != nil {
		b.Fatal(err)
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// benchListener serves a TCP port on loopback that accepts and closes every
// connection, for the tcp probe and check_tcp.
func benchListener(b *testing.B) int {
	l := listen(b, "tcp", "127.0.0.1:0")
	serveConns(b, l, hangUp)
	return l.Addr().(*net.TCPAddr).Port
}

// benchPlugin returns the path of a Debian plugin, skipping the benchmark
// when it is missing (failing under CARBONIO_HEALTH_INTEGRATION=1).
func benchPlugin(b *testing.B, name string) string {
	dir := os.Getenv("CARBONIO_HEALTH_PLUGINS")
	if dir == "" {
		dir = "/usr/lib/nagios/plugins"
	}
	return benchExecutable(b, filepath.Join(dir, name), "make plugins")
}

// benchBinary returns the path of one of our binaries: $env, else
// ../bin/<name>.
func benchBinary(b *testing.B, env, name string) string {
	p := os.Getenv(env)
	if p == "" {
		p = filepath.Join("..", "bin", name)
	}
	return benchExecutable(b, p, "make build")
}

func benchExecutable(b *testing.B, path, how string) string {
	b.Helper()
	abs, err := filepath.Abs(path)
	if err == nil {
		var st os.FileInfo
		if st, err = os.Stat(abs); err == nil && st.Mode()&0o111 == 0 {
			err = errors.New("not executable")
		}
	}
	if err != nil {
		if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
			b.Fatalf("%s missing (CARBONIO_HEALTH_INTEGRATION=1; `%s`): %v", path, how, err)
		}
		b.Skipf("%s missing (`%s`): %v", path, how, err)
	}
	return abs
}

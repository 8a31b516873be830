package checkscript

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestParseLoadThreshold(t *testing.T) {
	tests := []struct {
		in   string
		want [3]float64
		bad  bool
	}{
		{in: "5", want: [3]float64{5, 5, 5}},
		{in: "5,4", want: [3]float64{5, 4, 4}},
		{in: "1,2,3", want: [3]float64{1, 2, 3}},
		{in: " 0.5,1.5 ,2.5", want: [3]float64{0.5, 1.5, 0}},
		{in: "0.5 , 1.5", want: [3]float64{0.5, 0, 0}}, // one separator after each number: " ," stops it
		{in: "0", want: [3]float64{0, 0, 0}},
		{in: "1,,3", want: [3]float64{1, 0, 0}}, // check_load reads the empty field as 0, and repeats it
		{in: "1,2,3,4", want: [3]float64{1, 2, 3}},
		{in: "1;2", want: [3]float64{1, 2, 2}},
		{in: "5x", want: [3]float64{5, 5, 5}},
		{in: "-1", want: [3]float64{-1, -1, -1}}, // refused later: "not specified"
		{in: "", bad: true},
		{in: "a", bad: true},
	}
	for _, tt := range tests {
		var got [3]float64
		ok := parseLoadThreshold(tt.in, &got)
		if ok == tt.bad || (!tt.bad && got != tt.want) {
			t.Errorf("parseLoadThreshold(%q) = %v, %v", tt.in, got, ok)
		}
	}
}

func TestEvaluateLoad(t *testing.T) {
	w, c := [3]float64{1, 1, 1}, [3]float64{2, 2, 2}
	tests := []struct {
		name   string
		avg    [3]float64
		cpus   int
		perCPU bool
		warn   [3]float64
		crit   [3]float64
		want   string
	}{
		{"plugins.md", [3]float64{0.04, 0.70, 0.69}, 1, false, w, c,
			"LOAD OK - total load average: 0.04, 0.70, 0.69|load1=0.040;1.000;2.000;0; load5=0.700;1.000;2.000;0; load15=0.690;1.000;2.000;0;"},
		{"equal is not above", [3]float64{1, 2, 0}, 1, false, w, c, "LOAD WARNING - total load average: 1.00, 2.00, 0.00"},
		{"any interval warns", [3]float64{0, 0, 1.01}, 1, false, w, c, "LOAD WARNING"},
		{"critical wins", [3]float64{1.5, 2.5, 0}, 1, false, w, c, "LOAD CRITICAL"},
		{"critical on 15", [3]float64{0, 0, 2.01}, 1, false, w, c, "LOAD CRITICAL"},
		{"per cpu", [3]float64{0.04, 0.70, 0.69}, 2, true, w, c,
			"LOAD OK - scaled load average: 0.02, 0.35, 0.34 - total load average: 0.04, 0.70, 0.69|load1=0.040;;;0; scaled_load1=0.020;1.000;2.000;0; load5=0.700;;;0; scaled_load5=0.350;1.000;2.000;0; load15=0.690;;;0; scaled_load15=0.345;1.000;2.000;0;"},
		{"per cpu scales the decision", [3]float64{3, 3, 3}, 4, true, w, c, "LOAD OK - scaled load average: 0.75, 0.75, 0.75"},
		{"per cpu without count", [3]float64{3, 0, 0}, 0, true, w, c, "LOAD CRITICAL - scaled load average: 3.00"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := evaluateLoad(tt.avg, tt.cpus, tt.perCPU, tt.warn, tt.crit).String(); !strings.HasPrefix(got, tt.want) {
				t.Errorf("got  %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestLoadFromHostProc(t *testing.T) {
	dir := t.TempDir()
	cpuinfo := strings.Repeat("processor\t: 0\nmodel name\t: test\n\n", 4)
	for name, body := range map[string]string{"loadavg": "0.80 4.40 8.20 2/345 6789\n", "cpuinfo": cpuinfo} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	t.Setenv("HOST_PROC", dir)
	t.Setenv("HOST_SYS", t.TempDir()) // no cpu/online: count cpuinfo
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"-w", "5", "-c", "10"}, "LOAD WARNING - total load average: 0.80, 4.40, 8.20|load1=0.800;5.000;10.000;0;"},
		{[]string{"-w", "1,5,8", "-c", "2,6,8.1"}, "LOAD CRITICAL"},
		{[]string{"-r", "-w", "1,1.5,2", "-c", "2,2,3"}, "LOAD WARNING - scaled load average: 0.20, 1.10, 2.05 - total load average: 0.80, 4.40, 8.20"},
	}
	for _, tt := range tests {
		if got := runProbe(t, context.Background(), "load", tt.args...).String(); !strings.HasPrefix(got, tt.want) {
			t.Errorf("load %q:\ngot  %q\nwant %q", tt.args, got, tt.want)
		}
	}
	if n := cpuCount(); n != 4 {
		t.Errorf("cpuCount() = %d with HOST_PROC, want 4", n)
	}
}

func TestCPUCount(t *testing.T) {
	tests := []struct {
		online string // content of cpu/online; "" for no file
		want   int
	}{
		{"0-5\n", 6},
		{"0\n", 1},
		{"0-3,6,8-9\n", 7},
		{"", 3}, // falls back to the cpuinfo fixture
		{"garbage\n", 3},
	}
	proc := t.TempDir()
	if err := os.WriteFile(filepath.Join(proc, "cpuinfo"), []byte(strings.Repeat("processor\t: 0\n\n", 3)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("HOST_PROC", proc)
	for _, tt := range tests {
		sys := t.TempDir()
		if tt.online != "" {
			dir := filepath.Join(sys, "devices", "system", "cpu")
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "online"), []byte(tt.online), 0o644); err != nil {
				t.Fatal(err)
			}
		}
		t.Setenv("HOST_SYS", sys)
		if got := cpuCount(); got != tt.want {
			t.Errorf("online %q: cpuCount() = %d, want %d", tt.online, got, tt.want)
		}
	}
}

func TestLoadArguments(t *testing.T) {
	tests := []struct {
		args []string
		bad  string
	}{
		{[]string{"-w", "1", "-c", "2"}, ""},
		{[]string{"--warning", "1,2,3", "--critical", "1,2,3", "--percpu"}, ""},
		{[]string{"-w", "5,4", "-c", "3"}, `Parameter inconsistency: 1-minute "warning load" is greater than "critical load"`},
		{[]string{"-w", "1,4", "-c", "3"}, `Parameter inconsistency: 5-minute`},
		{[]string{"-w", "1"}, `Parameter inconsistency: 1-minute`}, // -c defaults to 0, as check_load's
		{[]string{"-c", "1"}, ""},
		{[]string{"-r"}, ""},
		{[]string{"-rw1", "-c2,3"}, ""},
		{[]string{"--warn=1", "--crit", "2", "-n", "5", "extra"}, ""},
		{[]string{"-w", "-1", "-c", "3"}, "Warning threshold for 1-minute load average is not specified"},
		{[]string{"-w", "1", "-c", "3,-1"}, "Critical threshold for 5-minute load average is not specified"},
		{[]string{"-w", "a", "-c", "3"}, "Warning threshold must be float or float triplet!"},
		{[]string{"-w", "1", "-c", "x"}, "Warning threshold must be float or float triplet!"},
		{[]string{}, "Could not parse arguments"},
		{[]string{"-x"}, "invalid option -- 'x'"},
		{[]string{"-w"}, "option requires an argument -- 'w'"},
	}
	for _, tt := range tests {
		_, err := Light.New("load", tt.args)
		switch {
		case tt.bad == "" && err != nil:
			t.Errorf("Light.New(load, %q): %v", tt.args, err)
		case tt.bad != "" && (err == nil || !strings.Contains(err.Error(), tt.bad)):
			t.Errorf("Light.New(load, %q) error = %v, want %q", tt.args, err, tt.bad)
		}
	}
}

func TestLoadFailures(t *testing.T) {
	tests := []struct {
		name string
		read func(ctx context.Context, perCPU bool) ([3]float64, int, error)
		want string
	}{
		{"read error", func(context.Context, bool) ([3]float64, int, error) {
			return [3]float64{}, 0, errors.New("no /proc")
		}, "LOAD UNKNOWN - Error opening load average: no /proc"},
		{"blocked read", func(ctx context.Context, _ bool) ([3]float64, int, error) {
			<-ctx.Done()
			time.Sleep(50 * time.Millisecond)
			return [3]float64{}, 0, ctx.Err()
		}, "LOAD CRITICAL - Socket timeout after 0.2 seconds"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := newWith(t, "load", []string{"-w", "1", "-c", "2", "-t", "0.2"}, func(fs *flag.FlagSet) func() (Check, error) {
				return loadFlags(fs, &loadCheck{read: tt.read})
			})
			if got := c.Run(context.Background()).String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

package checkscript

import (
	"strings"
	"testing"
)

// TestSteadyString: the steady form keeps state, paths, ports, answers and
// the thresholds crossed, and drops what moves between two runs of a calm
// node. Each row evaluates the probe twice with different measurements
// (through its pure evaluation where it has one) and wants one same line.
// The probes in packages of their own (dnsprobe, pingprobe) test theirs.
func TestSteadyString(t *testing.T) {
	load := func(a float64) Result {
		return evaluateLoad([3]float64{a, a / 2, a / 4}, 2, true, [3]float64{1.5, 1.25, 1}, [3]float64{3, 2.5, 2})
	}
	disk := func(st Status, free string, used float64) Result {
		return Result{Label: "DISK", Status: st, Summary: "free space: /opt " + free + " (80% inode=96%); /var 12MiB (" + free[:1] + "% inode=96%);",
			Perfdata: []Perfdata{{Label: "/opt", Value: used, UOM: "B", Warn: "216442539212", Crit: "243497856614", Min: "0"}}}
	}
	tcp := func(s string) Result {
		return Result{Label: "TCP", Status: OK, Summary: s + " second response time on 127.0.0.1 port 25",
			Perfdata: []Perfdata{{Label: "time", Value: 0.001, UOM: "s", Min: "0"}}}
	}
	tests := []struct {
		name string
		a, b Result
		want string
	}{
		{"disk calm", disk(OK, "75302MiB", 18832818176), disk(OK, "65290MiB", 18832838656), "DISK OK - free space within the thresholds on /opt /var"},
		{"disk full", disk(Critical, "7530MiB", 18832818176), disk(Critical, "7290MiB", 18832838656), "DISK CRITICAL - free space: /opt (80% inode=96%); /var (7% inode=96%);"},
		{"load calm", load(0.2), load(0.9), "LOAD OK - load average under the warning thresholds (1.5,1.25,1)"},
		{"load high, whichever averages cross", load(6.2), load(9.1), "LOAD CRITICAL - load average over a critical threshold (3,2.5,2)"},
		{"tcp", tcp("0.000"), tcp("0.012"), "TCP OK - connected to 127.0.0.1 port 25"},
		{"users: nothing moves, perfdata goes", Result{Label: "USERS", Summary: "0 users currently logged in", Perfdata: []Perfdata{{Label: "users"}}},
			Result{Label: "USERS", Summary: "0 users currently logged in"}, "USERS OK - 0 users currently logged in"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a.SteadyString(), tt.b.SteadyString()
			if a != tt.want || b != tt.want {
				t.Errorf("steady forms\n  %q\n  %q\nwant %q (full: %q)", a, b, tt.want, tt.a.String())
			}
		})
	}
}

// TestMainSteady: `check -steady` prints the steady form, `check` the full
// line, with the same exit code.
func TestMainSteady(t *testing.T) {
	for _, tt := range []struct {
		args []string
		pipe bool
	}{
		{[]string{"users", "-w", "1000", "-c", "2000"}, true},
		{[]string{SteadyFlag, "users", "-w", "1000", "-c", "2000"}, false},
	} {
		var out strings.Builder
		if code := Light.Main(t.Context(), tt.args, &out); code != 0 {
			t.Fatalf("%v: exit %d: %s", tt.args, code, out.String())
		}
		if got := strings.Contains(out.String(), "|"); got != tt.pipe || !strings.HasPrefix(out.String(), "USERS OK - ") {
			t.Errorf("%v: %q (perfdata wanted: %v)", tt.args, out.String(), tt.pipe)
		}
	}
}

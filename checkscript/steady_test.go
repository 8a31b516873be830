package checkscript

import (
	"strings"
	"testing"
)

// TestSteadyString: the steady form keeps state, paths, ports and the
// thresholds crossed, and drops what moves between two runs of a calm
// node. Each row evaluates the probe twice with different measurements
// (through its pure evaluation) and wants one same line. The probes in
// packages of their own test theirs, and allprobes' TestSteadyRegistry
// drives every probe of the registry through real inputs.
func TestSteadyString(t *testing.T) {
	load := func(a float64) Result {
		return evaluateLoad([3]float64{a, a / 2, a / 4}, 2, true, [3]float64{1.5, 1.25, 1}, [3]float64{3, 2.5, 2})
	}
	at := atRange
	mib := diskOptions{unit: diskUnit{"MiB", 1 << 20}}
	disk := func(avail uint64, args diskArgs) Result {
		st := fsStats{Total: 100 << 30, Free: avail, Avail: avail, Files: 1000, FilesFree: 900}
		l, err := args.limits()
		if err != nil {
			t.Fatal(err)
		}
		return evaluateDisks([]diskEntry{{label: "/opt", dir: "/opt", members: []string{"/opt"}, limits: l}},
			map[string]fsStats{"/opt": st}, mib)
	}
	tcp := func(elapsed float64) Result {
		c := &tcpCheck{host: "127.0.0.1", hostGiven: true, port: 25, network: "tcp", warn: ptr(0.5), mismatchState: Warning}
		return c.evaluate(elapsed, "220 mail ESMTP", true, DefaultTimeout)
	}
	users := func(n int) Result {
		th, _ := ParsePluginThresholds("1", "4")
		return evaluateUsers(n, th)
	}
	free := diskArgs{warnFreePct: at("20%"), critFreePct: at("10%")}
	tests := []struct {
		name string
		a, b Result
		want string
	}{
		{"disk calm", disk(75<<30, free), disk(60<<30, free), "DISK OK - free space within the thresholds on /opt"},
		{"disk full", disk(15<<30, free), disk(12<<30, free), "DISK WARNING - /opt free space at or below the warning threshold 20%"},
		{"disk full, in MiB", disk(900<<20, diskArgs{warnFreeUnits: at("1000")}), disk(700<<20, diskArgs{warnFreeUnits: at("1000")}),
			"DISK WARNING - /opt free space at or below the warning threshold 1000 MiB"},
		{"load calm", load(0.2), load(0.9), "LOAD OK - load average under the warning thresholds (1.5,1.25,1)"},
		{"load high, whichever averages cross", load(6.2), load(9.1), "LOAD CRITICAL - load average over a critical threshold (3,2.5,2)"},
		{"tcp", tcp(0.0001), tcp(0.012), "TCP OK - connected to 127.0.0.1 port 25"},
		{"tcp slow", tcp(0.7), tcp(0.9), "TCP WARNING - connected to 127.0.0.1 port 25: response time over the warning threshold 0.5 s"},
		{"users", users(0), users(1), "USERS OK - number of logged-in users within the thresholds"},
		{"users over", users(2), users(3), "USERS WARNING - number of logged-in users over the warning threshold 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			a, b := tt.a.SteadyString(), tt.b.SteadyString()
			if a != tt.want || b != tt.want {
				t.Errorf("steady forms\n  %q\n  %q\nwant %q (full: %q)", a, b, tt.want, tt.a.String())
			}
			if tt.a.String() == tt.b.String() {
				t.Errorf("the two full lines are the same: %q", tt.a.String())
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

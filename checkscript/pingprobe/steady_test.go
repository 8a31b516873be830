package pingprobe

import (
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestSteadyString: two runs that differ only in their measured loss and
// round-trip times have one steady form, which names the thresholds
// crossed.
func TestSteadyString(t *testing.T) {
	ping := func(rtt time.Duration, recv int) checkscript.Result {
		return evaluatePing(pingStats{sent: 5, recv: recv, avg: rtt}, pingThreshold{rta: 100, pl: 20}, pingThreshold{rta: 500, pl: 60})
	}
	tests := []struct {
		name string
		a, b checkscript.Result
		want string
	}{
		{"ping", ping(310*time.Microsecond, 5), ping(520*time.Microsecond, 5), "PING OK - packet loss and RTA under the warning thresholds (20%, 100 ms)"},
		{"ping slow", ping(200*time.Millisecond, 5), ping(230*time.Millisecond, 5), "PING WARNING - RTA at or over the warning threshold 100 ms"},
		{"ping lossy", ping(time.Millisecond, 4), ping(2*time.Millisecond, 3), "PING WARNING - packet loss at or over the warning threshold 20%"},
		{"ping lost", ping(0, 0), ping(0, 0), "PING CRITICAL - Packet loss = 100%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.a.SteadyString(), tt.b.SteadyString(); a != tt.want || b != tt.want {
				t.Errorf("steady forms\n  %q\n  %q\nwant %q (full: %q)", a, b, tt.want, tt.a.String())
			}
		})
	}
}

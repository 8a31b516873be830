package pingprobe

import (
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestSteadyString: two runs that differ only in their round-trip times
// have one steady form, which keeps the loss and the threshold crossed.
func TestSteadyString(t *testing.T) {
	ping := func(rtt time.Duration, recv int) checkscript.Result {
		return evaluatePing(pingStats{sent: 5, recv: recv, avg: rtt}, pingThreshold{rta: 100, pl: 20}, pingThreshold{rta: 500, pl: 60})
	}
	tests := []struct {
		name string
		a, b checkscript.Result
		want string
	}{
		{"ping", ping(310*time.Microsecond, 5), ping(520*time.Microsecond, 5), "PING OK - Packet loss = 0%"},
		{"ping slow", ping(200*time.Millisecond, 5), ping(230*time.Millisecond, 5), "PING WARNING - Packet loss = 0%: rta over warning 100ms"},
		{"ping lost", ping(0, 0), ping(0, 0), "PING CRITICAL - Packet loss = 100%: pl over critical 60%"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.a.SteadyString(), tt.b.SteadyString(); a != tt.want || b != tt.want {
				t.Errorf("steady forms\n  %q\n  %q\nwant %q (full: %q)", a, b, tt.want, tt.a.String())
			}
		})
	}
}

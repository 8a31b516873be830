package dnsprobe

import (
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestSteadyString: two answers that differ only in their response time
// have one steady form, which keeps the answer and the threshold crossed.
func TestSteadyString(t *testing.T) {
	th, err := checkscript.ParseThresholds("1", "5")
	if err != nil {
		t.Fatal(err)
	}
	dns := func(d time.Duration) checkscript.Result {
		return evaluateDNS("www.zextras.com", dnsAnswer{server: "127.0.0.1", records: []string{"192.0.2.1"}, elapsed: d}, nil, th)
	}
	tests := []struct {
		name string
		a, b checkscript.Result
		want string
	}{
		{"dns", dns(2 * time.Millisecond), dns(31 * time.Millisecond), "DNS OK - www.zextras.com returns 192.0.2.1"},
		{"dns slow", dns(1500 * time.Millisecond), dns(2 * time.Second), "DNS WARNING - www.zextras.com returns 192.0.2.1: time over warning 1s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.a.SteadyString(), tt.b.SteadyString(); a != tt.want || b != tt.want {
				t.Errorf("steady forms\n  %q\n  %q\nwant %q (full: %q)", a, b, tt.want, tt.a.String())
			}
		})
	}
}

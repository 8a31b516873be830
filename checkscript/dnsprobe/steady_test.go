package dnsprobe

import (
	"testing"
	"time"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestSteadyString: two answers that differ only in their response time,
// and in the addresses of a pool, have one steady form, which keeps the
// name, what was expected of it and the threshold crossed.
func TestSteadyString(t *testing.T) {
	th, err := checkscript.ParsePluginThresholds("1", "5")
	if err != nil {
		t.Fatal(err)
	}
	dns := func(d time.Duration, addr string, expected ...string) checkscript.Result {
		c := &dnsCheck{name: "www.zextras.com", thresholds: th, expected: expected}
		return c.evaluate(dnsAnswer{server: "127.0.0.1", records: []string{addr}, elapsed: d})
	}
	tests := []struct {
		name string
		a, b checkscript.Result
		want string
	}{
		{"dns", dns(2*time.Millisecond, "192.0.2.1"), dns(31*time.Millisecond, "192.0.2.2"), "DNS OK: www.zextras.com resolves"},
		{"dns expected", dns(2*time.Millisecond, "192.0.2.1", "192.0.2.0/24"), dns(31*time.Millisecond, "192.0.2.2", "192.0.2.0/24"),
			"DNS OK: www.zextras.com returns the expected '192.0.2.0/24'"},
		{"dns slow", dns(1500*time.Millisecond, "192.0.2.1"), dns(2*time.Second, "192.0.2.1"),
			"DNS WARNING: www.zextras.com resolves: response time over the warning threshold 1 s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if a, b := tt.a.SteadyString(), tt.b.SteadyString(); a != tt.want || b != tt.want {
				t.Errorf("steady forms\n  %q\n  %q\nwant %q (full: %q)", a, b, tt.want, tt.a.String())
			}
		})
	}
}

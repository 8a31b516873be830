package plugintest

import "testing"

// TestShape: lines that differ only in what was measured have one shape,
// the wording a measured time sets included; other words stay.
func TestShape(t *testing.T) {
	tests := []struct{ a, b string }{
		{"DNS OK: 1.240 second response time. x returns 1.2.3.4|time=1.240345s;;;0.000000",
			"DNS OK: 0.002 seconds response time. x returns 1.2.3.5|time=0.001601s;;;0.000000"},
		{"PING OK - Packet loss = 0%, RTA = 0.04 ms", "PING OK - Packet loss = 10%, RTA = 90.09 ms"},
	}
	for _, tt := range tests {
		if a, b := Shape(tt.a), Shape(tt.b); a != b {
			t.Errorf("\n%s\n%s", a, b)
		}
	}
	if a, b := Shape("TCP OK - 0.001 second response time"), Shape("TCP OK - 0.001 seconds left"); a == b {
		t.Errorf("%q and %q: one shape", a, b)
	}
}

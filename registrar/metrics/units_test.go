package metrics

import (
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestPerfLimits: which thresholds have one upper bound, scaled like the
// value.
func TestPerfLimits(t *testing.T) {
	lim := func(v float64) limit { return limit{v, true} }
	tests := []struct {
		warn, crit, max string
		factor          float64
		want            [numLimits]limit
	}{
		{"80", "90", "100", 0.01, [numLimits]limit{lim(0.8), lim(0.9), lim(1)}},           // used % over N
		{"0:10", "~:20", "", 1 << 30, [numLimits]limit{lim(10 << 30), lim(20 << 30), {}}}, // GB thresholds, as bytes
		{"10:", "@5:8", "x", 1, [numLimits]limit{}},                                       // below N, inside: no one bound
		{"", "", "270553174016", 1, [numLimits]limit{{}, {}, lim(270553174016)}},
		{"bad", "3", "", 1, [numLimits]limit{{}, lim(3), {}}},
	}
	for _, tt := range tests {
		got := perfLimits(checkscript.Perfdata{Warn: tt.warn, Crit: tt.crit, Max: tt.max}, tt.factor)
		if got != tt.want {
			t.Errorf("perfLimits(%q, %q, %q, ×%g) = %v, want %v", tt.warn, tt.crit, tt.max, tt.factor, got, tt.want)
		}
	}
}

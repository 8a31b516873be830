package checkscript

import (
	"errors"
	"math"
	"testing"
)

func TestParseRange(t *testing.T) {
	inf := math.Inf(1)
	tests := []struct {
		in          string
		start, end  float64
		inside, bad bool
	}{
		{in: "10", start: 0, end: 10},
		{in: "10:", start: 10, end: inf},
		{in: "~:10", start: math.Inf(-1), end: 10},
		{in: "10:20", start: 10, end: 20},
		{in: "@10:20", start: 10, end: 20, inside: true},
		{in: "@0:0", start: 0, end: 0, inside: true},
		{in: "-5:-1", start: -5, end: -1},
		{in: "0.5:1.5", start: 0.5, end: 1.5},
		{in: " 7 ", start: 0, end: 7},
		{in: "20:10", bad: true},
		{in: "", bad: true},
		{in: "@", bad: true},
		{in: ":10", bad: true},
		{in: "abc", bad: true},
		{in: "1:x", bad: true},
		{in: "NaN", bad: true},
		{in: "Inf", bad: true},
		{in: "~:", start: math.Inf(-1), end: inf},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			r, err := ParseRange(tt.in)
			if tt.bad {
				if !errors.Is(err, ErrRangeFormat) {
					t.Fatalf("ParseRange(%q) error = %v, want ErrRangeFormat", tt.in, err)
				}
				return
			}
			if err != nil {
				t.Fatalf("ParseRange(%q): %v", tt.in, err)
			}
			if r.Start != tt.start || r.End != tt.end || r.Inside != tt.inside {
				t.Errorf("ParseRange(%q) = %+v, want start %v end %v inside %v", tt.in, r, tt.start, tt.end, tt.inside)
			}
		})
	}
}

func TestRangeAlert(t *testing.T) {
	tests := []struct {
		rng  string
		v    float64
		want bool
	}{
		{"10", -1, true}, {"10", 0, false}, {"10", 10, false}, {"10", 10.1, true},
		{"10:", 9.9, true}, {"10:", 10, false}, {"10:", 1e9, false},
		{"~:10", -1e9, false}, {"~:10", 10, false}, {"~:10", 11, true},
		{"10:20", 9, true}, {"10:20", 15, false}, {"10:20", 21, true},
		{"@10:20", 10, true}, {"@10:20", 20, true}, {"@10:20", 9, false}, {"@10:20", 21, false},
		{"@0:0", 0, true}, {"@0:0", 1, false},
	}
	for _, tt := range tests {
		if got := MustParseRange(tt.rng).Alert(tt.v); got != tt.want {
			t.Errorf("%q.Alert(%v) = %v, want %v", tt.rng, tt.v, got, tt.want)
		}
	}
}

func TestThresholds(t *testing.T) {
	tests := []struct {
		warn, crit string
		v          float64
		want       Status
		bad        bool
	}{
		{"5", "10", 0, OK, false},
		{"5", "10", 6, Warning, false},
		{"5", "10", 11, Critical, false},
		{"@0:0", "10", 0, Warning, false},
		{"", "10", 7, OK, false},
		{"5", "", 7, Warning, false},
		{"", "", 1e9, OK, false},
		// critical is checked before warning
		{"~:1", "~:1", 2, Critical, false},
		{"10:5", "1", 0, Unknown, true},
		{"1", "x", 0, Unknown, true},
	}
	for _, tt := range tests {
		th, err := ParseThresholds(tt.warn, tt.crit)
		if tt.bad {
			if err == nil || !errors.Is(err, ErrRangeFormat) {
				t.Errorf("ParseThresholds(%q, %q) error = %v, want ErrRangeFormat", tt.warn, tt.crit, err)
			}
			continue
		}
		if err != nil {
			t.Fatalf("ParseThresholds(%q, %q): %v", tt.warn, tt.crit, err)
		}
		if got := th.Evaluate(tt.v); got != tt.want {
			t.Errorf("(%q, %q).Evaluate(%v) = %v, want %v", tt.warn, tt.crit, tt.v, got, tt.want)
		}
		if th.WarnText() != tt.warn || th.CritText() != tt.crit {
			t.Errorf("texts = %q, %q; want %q, %q", th.WarnText(), th.CritText(), tt.warn, tt.crit)
		}
	}
}

func TestMustParseRangePanicsOnBadInput(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("MustParseRange(\"x\") did not panic")
		}
	}()
	MustParseRange("x")
}

// FuzzParseRange checks that ParseRange never panics, that errors wrap
// ErrRangeFormat, and that accepted ranges are well-formed and evaluate
// consistently at their bounds.
func FuzzParseRange(f *testing.F) {
	for _, s := range []string{
		"10", "10:", "~:10", "10:20", "@10:20", "@0:0", "@~:", "20:10", "", "@", ":",
		"~", "~:~", "1e308:", "-1e308", "NaN", "+Inf", "0x10", "1_0", "@@1", "1:2:3",
		" 5 ", "\x00", "é:1", "9999999999999999999999:",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		r, err := ParseRange(s)
		if err != nil {
			if !errors.Is(err, ErrRangeFormat) {
				t.Fatalf("ParseRange(%q) error %v does not wrap ErrRangeFormat", s, err)
			}
			return
		}
		if math.IsNaN(r.Start) || math.IsNaN(r.End) || r.Start > r.End {
			t.Fatalf("ParseRange(%q) = %+v: bad bounds", s, r)
		}
		if !math.IsInf(r.Start, 0) && r.Alert(r.Start) != r.Inside {
			t.Fatalf("ParseRange(%q): Alert(start) = %v, Inside = %v", s, r.Alert(r.Start), r.Inside)
		}
		if !math.IsInf(r.End, 0) && r.Alert(r.End) != r.Inside {
			t.Fatalf("ParseRange(%q): Alert(end) = %v, Inside = %v", s, r.Alert(r.End), r.Inside)
		}
		_ = r.String()
	})
}

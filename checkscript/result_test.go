package checkscript

import (
	"testing"
)

func TestStatusString(t *testing.T) {
	for s, want := range map[Status]string{OK: "OK", Warning: "WARNING", Critical: "CRITICAL", Unknown: "UNKNOWN", Status(42): "UNKNOWN"} {
		if got := s.String(); got != want {
			t.Errorf("Status(%d).String() = %q, want %q", int(s), got, want)
		}
	}
}

func TestWorst(t *testing.T) {
	tests := []struct{ a, b, want Status }{
		{OK, OK, OK},
		{OK, Unknown, Unknown},
		{Unknown, Warning, Warning},
		{Warning, Critical, Critical},
		{Critical, Unknown, Critical},
		{Critical, OK, Critical},
		{Warning, Unknown, Warning},
	}
	for _, tt := range tests {
		if got := Worst(tt.a, tt.b); got != tt.want {
			t.Errorf("Worst(%v, %v) = %v, want %v", tt.a, tt.b, got, tt.want)
		}
		if got := Worst(tt.b, tt.a); got != tt.want {
			t.Errorf("Worst(%v, %v) = %v, want %v (not symmetric)", tt.b, tt.a, got, tt.want)
		}
	}
}

func TestResultString(t *testing.T) {
	tests := []struct {
		name string
		r    Result
		want string
	}{
		{"plain", Result{Label: "DISK", Status: OK, Summary: "fine"}, "DISK OK - fine"},
		{"no label", Result{Status: Critical, Summary: "down"}, "CRITICAL - down"},
		{"no summary", Result{Label: "X", Status: Warning}, "X WARNING"},
		{"unknownf", Unknownf("LOAD", "bad"), "LOAD UNKNOWN - bad"},
		{"perfdata", Result{Label: "USERS", Status: OK, Summary: "0 users currently logged in",
			Perfdata: []Perfdata{{Label: "users", Value: 0, Warn: "5", Crit: "10", Min: "0"}}},
			"USERS OK - 0 users currently logged in|users=0;5;10;0"},
		{"two perfdata", Result{Label: "L", Status: OK, Summary: "s", Perfdata: []Perfdata{
			{Label: "a", Value: 1}, {Label: "b", Value: 2, UOM: "s"}}}, "L OK - s|a=1 b=2s"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.r.String(); got != tt.want {
				t.Errorf("got %q\nwant %q", got, tt.want)
			}
		})
	}
}

func TestPerfdataString(t *testing.T) {
	tests := []struct {
		name string
		p    Perfdata
		want string
	}{
		{"bare", Perfdata{Label: "time", Value: 0.000359, UOM: "s"}, "time=0.000359s"},
		{"all fields", Perfdata{Label: "time", Value: 1.5, UOM: "s", Warn: "1", Crit: "2", Min: "0", Max: "10"}, "time=1.5s;1;2;0;10"},
		{"gap kept", Perfdata{Label: "x", Value: 3, Min: "0"}, "x=3;;;0"},
		{"trailing empty dropped", Perfdata{Label: "x", Value: 3, Warn: "5"}, "x=3;5"},
		{"unknown value", Perfdata{Label: "rta", NoValue: true, UOM: "ms", Warn: "100"}, "rta=U;100"},
		{"space quoted", Perfdata{Label: "my disk", Value: 1}, "'my disk'=1"},
		{"quote doubled", Perfdata{Label: "it's", Value: 1}, "'it''s'=1"},
		{"equals quoted", Perfdata{Label: "a=b", Value: 1}, "'a=b'=1"},
		{"path not quoted", Perfdata{Label: "/opt/zextras", Value: 20074987520, UOM: "B"}, "/opt/zextras=20074987520B"},
		{"negative", Perfdata{Label: "t", Value: -2.25}, "t=-2.25"},
		{"large no exponent", Perfdata{Label: "b", Value: 1e21}, "b=1000000000000000000000"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.String(); got != tt.want {
				t.Errorf("got %q, want %q", got, tt.want)
			}
		})
	}
}

func TestFormatFloat(t *testing.T) {
	for v, want := range map[float64]string{0: "0", 1: "1", 0.1: "0.1", 1e-7: "0.0000001", 123456789012: "123456789012"} {
		if got := FormatFloat(v); got != want {
			t.Errorf("FormatFloat(%v) = %q, want %q", v, got, want)
		}
	}
}

package checkscript

import (
	"reflect"
	"testing"
)

func TestParseOutput(t *testing.T) {
	tests := []struct {
		name    string
		output  string
		want    []Perfdata
		wantErr bool
	}{
		{"no perfdata", "TCP OK - 0.001 second response time", nil, false},
		{"check_tcp", "TCP OK - 0.000 second response time on 127.0.0.1 port 22|time=0.000131s;;;0.000000;10.000000",
			[]Perfdata{{Label: "time", Value: 0.000131, UOM: "s", Min: "0.000000", Max: "10.000000"}}, false},
		{"check_load, three items", "LOAD OK - load average: 0.1, 0.2, 0.3|load1=0.100;1.500;3.000;0; load5=0.200;1.250;2.500;0; load15=0.300;1.000;2.000;0;",
			[]Perfdata{
				{Label: "load1", Value: 0.1, Warn: "1.500", Crit: "3.000", Min: "0"},
				{Label: "load5", Value: 0.2, Warn: "1.250", Crit: "2.500", Min: "0"},
				{Label: "load15", Value: 0.3, Warn: "1.000", Crit: "2.000", Min: "0"},
			}, false},
		{"quoted label with a quote and a space", "X OK|'it''s free'=12MB;;;0;100",
			[]Perfdata{{Label: "it's free", Value: 12, UOM: "MB", Min: "0", Max: "100"}}, false},
		{"U value", "X UNKNOWN|/srv=U", []Perfdata{{Label: "/srv", NoValue: true}}, false},
		{"percent and negative", "X OK|a=-5% b=99.5%;80;90",
			[]Perfdata{{Label: "a", Value: -5, UOM: "%"}, {Label: "b", Value: 99.5, UOM: "%", Warn: "80", Crit: "90"}}, false},
		{"long output perfdata", "X OK - first|a=1\nmore text\nstill|b=2c",
			[]Perfdata{{Label: "a", Value: 1}, {Label: "b", Value: 2, UOM: "c"}}, false},
		{"bad item skipped, others kept", "X OK|a=oops b=3", []Perfdata{{Label: "b", Value: 3}}, true},
		{"no equals sign", "X OK|junk c=1", []Perfdata{{Label: "c", Value: 1}}, true},
		{"unterminated quote", "X OK|a=1 'b=2", []Perfdata{{Label: "a", Value: 1}}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseOutput(tt.output)
			if (err != nil) != tt.wantErr {
				t.Errorf("error = %v, want error %v", err, tt.wantErr)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got  %#v\nwant %#v", got, tt.want)
			}
		})
	}
}

// TestParsePerfdataRoundTrip: what Result.String prints parses back to the
// same items.
func TestParsePerfdataRoundTrip(t *testing.T) {
	res := Result{Label: "DISK", Status: OK, Summary: "free", Perfdata: []Perfdata{
		{Label: "/var/lib", Value: 123456789, UOM: "B", Warn: "80", Crit: "90", Min: "0", Max: "1000000000"},
		{Label: "with space", Value: 0.25, UOM: "s"},
		{Label: "o'clock", NoValue: true},
		{Label: "users", Value: 3, Warn: "1", Crit: "4", Min: "0"},
	}}
	got, err := ParseOutput(res.String())
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(got, res.Perfdata) {
		t.Errorf("round trip of %q:\ngot  %#v\nwant %#v", res.String(), got, res.Perfdata)
	}
}

func FuzzParseOutput(f *testing.F) {
	f.Add("X OK|a=1 'b c'=2.5MB;1;2;0;10 d=U")
	f.Add("X|'unterminated")
	f.Fuzz(func(t *testing.T, s string) {
		pd, _ := ParseOutput(s)
		for _, p := range pd {
			if p.Label == "" {
				t.Errorf("empty label from %q", s)
			}
		}
	})
}

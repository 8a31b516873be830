package checkscript

import "testing"

func TestNearest(t *testing.T) {
	names := []string{"dirsize", "disk", "dns", "leader", "load", "ping", "socket", "systemd", "tcp", "users"}
	tests := []struct{ name, want string }{
		{"dsk", "disk"},
		{"disc", "disk"},
		{"sokcet", "socket"},
		{"systmed", "systemd"},
		{"user", "users"},
		{"lead", "load"},    // one edit beats a prefix
		{"syst", "systemd"}, // the only name it begins
		{"tpc", "tcp"},      // a transposition: two edits
		{"nosuch", ""},      // nothing near
		{"xyz", ""},
		{"", ""},
		{"ping", "ping"},
	}
	for _, tt := range tests {
		if got := Nearest(tt.name, names); got != tt.want {
			t.Errorf("Nearest(%q) = %q, want %q", tt.name, got, tt.want)
		}
	}
	if got := Nearest("valdate", []string{"check", "plan", "validate"}); got != "validate" {
		t.Errorf("Nearest(valdate) = %q", got)
	}
}

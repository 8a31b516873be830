package allprobes

import (
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestRegistry checks what the map literals cannot: each key is the name its
// probe answers to, every probe prints its usage, and every light probe is
// there.
func TestRegistry(t *testing.T) {
	for name, p := range Registry {
		if p.Name != name {
			t.Errorf("Registry[%q].Name = %q", name, p.Name)
		}
		if p.Label == "" || p.Summary == "" || p.Define == nil || p.Usage() == "" {
			t.Errorf("probe %q: Label, Summary, Define and usage are required", name)
		}
	}
	for name := range checkscript.Light {
		if _, ok := Registry[name]; !ok {
			t.Errorf("light probe %q missing from Registry", name)
		}
	}
}

// TestIsLight: the light probes, tcp without TLS, go to
// carbonio-health-check; the heavy ones and tcp with TLS do not.
func TestIsLight(t *testing.T) {
	tests := []struct {
		probe string
		args  []string
		want  bool
	}{
		{"load", []string{"-w", "1,1,1", "-c", "2,2,2"}, true},
		{"tcp", []string{"-H", "127.0.0.1", "-p", "25"}, true},
		{"tcp", []string{"-H", "127.0.0.1", "-p", "993", "-S"}, false},
		{"disk", []string{"-w", "20%", "-p", "/"}, true},
		{"disk", []string{"-w", "20%", "-r", "^/opt"}, false}, // regexps: carbonio-health
		{"disk", []string{"-w", "20%", "-p", "/", "-I", "shm"}, false},
		{"dns", []string{"-H", "example.test"}, false},
		{"leader", nil, false},
	}
	for _, tt := range tests {
		if got := IsLight(tt.probe, tt.args); got != tt.want {
			t.Errorf("IsLight(%s, %q) = %v", tt.probe, tt.args, got)
		}
		if _, err := Registry.New(tt.probe, tt.args); err != nil {
			t.Errorf("Registry.New(%s, %q): %v", tt.probe, tt.args, err)
		}
	}
}

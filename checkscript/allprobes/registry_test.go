package allprobes

import (
	"testing"

	"github.com/zextras/carbonio-health/checkscript"
)

// TestRegistry checks what the map literals cannot: each key is the name its
// probe answers to, every probe prints its usage, and the light probes are
// all there.
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
		if _, ok := Registry[name]; !ok || !IsLight(name) {
			t.Errorf("light probe %q missing from Registry", name)
		}
	}
	for name := range heavy {
		if IsLight(name) {
			t.Errorf("probe %q is both light and heavy", name)
		}
	}
}

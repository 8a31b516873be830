package checkscript

import "testing"

// TestProbesTable checks the registry's one rule a map literal cannot: each
// key is the name its probe answers to, and every probe can print its usage.
func TestProbesTable(t *testing.T) {
	for name, p := range probes {
		if p.Name != name {
			t.Errorf("probes[%q].Name = %q", name, p.Name)
		}
		if p.Label == "" || p.Summary == "" || p.Define == nil {
			t.Errorf("probe %q: Label, Summary and Define are required", name)
		}
		if p.Usage() == "" {
			t.Errorf("probe %q: no usage", name)
		}
	}
}

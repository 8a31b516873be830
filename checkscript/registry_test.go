package checkscript

import (
	"flag"
	"testing"
)

// TestProbesTable checks the registry's one rule a map literal cannot: each
// key is the name its probe answers to, and every probe can print its usage.
func TestProbesTable(t *testing.T) {
	for name, p := range Light {
		if p.Name != name {
			t.Errorf("Light[%q].Name = %q", name, p.Name)
		}
		if p.Label == "" || p.Summary == "" || p.Define == nil {
			t.Errorf("probe %q: Label, Summary and Define are required", name)
		}
		if p.Usage() == "" {
			t.Errorf("probe %q: no usage", name)
		}
	}
}

// newWith builds the named probe from args like New, on the check value
// that define's flags fill in: the test constructs it with its inputs
// (stand-in data sources, shorter waits), e.g.
//
//	newWith(t, "load", args, func(fs *flag.FlagSet) func() (Check, error) {
//		return loadFlags(fs, &loadCheck{read: fake})
//	})
func newWith(t *testing.T, name string, args []string, define func(fs *flag.FlagSet) func() (Check, error)) Check {
	t.Helper()
	p, ok := Light.Lookup(name)
	if !ok {
		t.Fatalf("no probe %q", name)
	}
	c, err := p.Build(define, args)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

package consultest

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/zextras/carbonio-health/hcl"
)

// TestRole: the declaration loads, each endpoint a service of the role
// with its one check of the kind asked.
func TestRole(t *testing.T) {
	dir := t.TempDir()
	src := Role("t",
		Endpoint{Service: "web", Port: 25, Interval: "1s"},
		Endpoint{Service: "sock", Check: "present", Socket: "/run/x.sock", Interval: "2s"},
		Endpoint{Service: "sh", Check: "sh", Script: `echo "SH OK"; exit 0`, Interval: "3s"})
	if err := os.WriteFile(filepath.Join(dir, "node.hcl"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	plan, err := hcl.Load(hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}})
	if err != nil {
		t.Fatalf("%v\n%s", err, src)
	}
	want := map[string]hcl.CheckKind{
		hcl.IDPrefix + "t:web:tcp": hcl.KindTCP, hcl.IDPrefix + "t:sock:present": hcl.KindTTL, hcl.IDPrefix + "t:sh:sh": hcl.KindScript,
	}
	got := map[string]hcl.CheckKind{}
	for _, s := range plan.Services {
		for _, c := range s.Checks {
			got[c.ID] = c.Kind
		}
	}
	if len(got) != len(want) {
		t.Errorf("checks %v, want %v\n%s", got, want, src)
	}
	for id, k := range want {
		if got[id] != k {
			t.Errorf("%s: kind %v, want %v\n%s", id, got[id], k, src)
		}
	}
}

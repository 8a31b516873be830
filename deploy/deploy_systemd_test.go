package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// unitDirs are where systemd looks for system units on Debian.
var unitDirs = []string{"/etc/systemd/system", "/lib/systemd/system", "/usr/lib/systemd/system"}

// dependencyKeys are the unit settings that name other units.
var dependencyKeys = map[string][]string{
	"Unit":    {"After", "Before", "Wants", "Requires", "Requisite", "BindsTo", "PartOf", "Upholds", "Conflicts"},
	"Install": {"WantedBy", "RequiredBy", "UpheldBy", "Also"},
}

// verifyUnit runs `systemd-analyze verify` on an installed unit (its
// ExecStart must exist, as on a node) and its drop-ins. Units it names that
// this machine lacks (the Consul agent's service-discover.service and
// .target of a Carbonio node) are stubbed in a temporary unit dir.
func verifyUnit(t *testing.T, path string) {
	t.Helper()
	analyze := tool(t, "systemd-analyze")
	u := parseUnit(t, path)
	stubs := t.TempDir()
	stubbed := map[string]bool{}
	for section, keys := range dependencyKeys {
		for _, key := range keys {
			for _, name := range strings.Fields(strings.Join(u[section][key], " ")) {
				if stubbed[name] || unitExists(name) {
					continue
				}
				stubbed[name] = true
				stub := "[Unit]\nDescription=stub of " + name + " for systemd-analyze verify\n"
				if strings.HasSuffix(name, ".service") {
					stub += "[Service]\nExecStart=/bin/true\n"
				}
				writeFile(t, filepath.Join(stubs, name), stub)
				t.Logf("stubbed %s", name)
			}
		}
	}
	cmd := exec.Command(analyze, "verify", path)
	// A trailing ":" keeps systemd's own unit dirs after the stubs.
	cmd.Env = append(os.Environ(), "SYSTEMD_UNIT_PATH="+stubs+":")
	out, err := cmd.CombinedOutput()
	if err != nil || len(strings.TrimSpace(string(out))) > 0 {
		t.Errorf("systemd-analyze verify %s: %v\n%s", path, err, out)
	}
}

func unitExists(name string) bool {
	for _, d := range unitDirs {
		if _, err := os.Stat(filepath.Join(d, name)); err == nil {
			return true
		}
	}
	return false
}

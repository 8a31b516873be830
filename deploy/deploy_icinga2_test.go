package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// icinga2Main loads what Debian's icinga2.conf loads for checks (the
// constants, the Icinga Template Library with the plugins' commands), the
// shipped CheckCommands and the README's objects.
const icinga2Main = `include "/etc/icinga2/constants.conf"
include <itl>
include <plugins>
include "carbonio-health.conf"
include "readme-objects.conf"
`

// TestIcinga2 validates the shipped CheckCommands and the README's Icinga 2
// objects with Debian's `icinga2 daemon -C`, every path of the daemon in a
// temporary folder.
func TestIcinga2(t *testing.T) {
	icinga2 := tool(t, "icinga2")
	dir := t.TempDir()
	shipped, err := os.ReadFile("icinga2/carbonio-health.conf")
	if err != nil {
		t.Fatal(err)
	}
	writeFile(t, filepath.Join(dir, "carbonio-health.conf"), string(shipped))
	writeFile(t, filepath.Join(dir, "readme-objects.conf"), readmeBlock(t, "icinga2-objects"))
	writeFile(t, filepath.Join(dir, "icinga2.conf"), icinga2Main)
	args := []string{"daemon", "-C", "-c", filepath.Join(dir, "icinga2.conf"), "-DConfigDir=" + dir,
		"-DRunAsUser=root", "-DRunAsGroup=root"}
	for _, c := range []string{"DataDir", "CacheDir", "LogDir", "SpoolDir", "InitRunDir"} {
		p := filepath.Join(dir, c)
		if err := os.Mkdir(p, 0o755); err != nil {
			t.Fatal(err)
		}
		args = append(args, "-D"+c+"="+p)
	}
	out, err := exec.Command(icinga2, args...).CombinedOutput()
	t.Logf("icinga2 daemon -C:\n%s", out)
	if err != nil || !strings.Contains(string(out), "Finished validating the configuration") {
		t.Fatalf("icinga2 daemon -C: %v", err)
	}
	if !strings.Contains(string(out), "Instantiated 3 Services") {
		t.Errorf("want the README's 3 services instantiated")
	}
}

package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackageLintian runs Debian's lintian on the .deb with --no-override:
// the only tags left are those deploy/package/lintian-overrides overrides,
// each after a comment that says why (and, with the overrides, none).
func TestPackageLintian(t *testing.T) {
	t.Parallel() // each waits on its own tool and dev agent
	deb := packageFile(t, "deb")
	lintian := tool(t, "lintian")
	out, err := exec.Command(lintian, "--no-override", deb).CombinedOutput()
	t.Logf("lintian --no-override:\n%s", out)
	if err != nil && !regexp.MustCompile(`(?m)^[EW]: `).Match(out) {
		t.Fatalf("lintian: %v", err)
	}
	overrides, err := os.ReadFile("package/lintian-overrides")
	if err != nil {
		t.Fatal(err)
	}
	// Every override follows a comment that justifies it.
	overridden := map[string]bool{}
	prevComment := false
	for _, line := range strings.Split(string(overrides), "\n") {
		switch {
		case strings.HasPrefix(line, "#"):
			prevComment = true
		case strings.TrimSpace(line) == "":
		default:
			if !prevComment {
				t.Errorf("lintian override %q has no comment saying why", line)
			}
			prevComment = false
			if f := strings.Fields(line); len(f) > 1 {
				overridden[f[1]] = true
			}
		}
	}
	tag := regexp.MustCompile(`(?m)^([EWIPX]): carbonio-health: (\S+)`)
	for _, m := range tag.FindAllStringSubmatch(string(out), -1) {
		if !overridden[m[2]] {
			t.Errorf("lintian --no-override: %s %s is neither fixed nor overridden with a reason", m[1], m[2])
		}
	}
	// With the shipped overrides, nothing at all.
	out, _ = exec.Command(lintian, deb).CombinedOutput()
	for _, m := range tag.FindAllStringSubmatch(string(out), -1) {
		t.Errorf("lintian: %s %s", m[1], m[2])
	}
}

// TestPackageRPM reads the .rpm back with rpm: the same files and version
// as the .deb (units under /usr/lib), the config file marked so, a payload
// that installs, and the scripts.
func TestPackageRPM(t *testing.T) {
	rpmFile, deb := packageFile(t, "rpm"), packageFile(t, "deb")
	rpm := tool(t, "rpm")
	files := strings.Fields(run(t, rpm, "-qpl", rpmFile))
	var debFiles []string
	for _, f := range strings.Fields(run(t, tool(t, "dpkg-deb"), "--contents", deb)) {
		if !strings.HasPrefix(f, "./") || strings.HasSuffix(f, "/") {
			continue // the listing's other columns, directories
		}
		if !strings.Contains(f, "/lintian/") && !strings.Contains(f, "changelog.Debian") {
			debFiles = append(debFiles, strings.Replace(strings.TrimPrefix(f, "."), "/lib/systemd/", "/usr/lib/systemd/", 1))
		}
	}
	have := map[string]bool{}
	for _, f := range files {
		have[f] = true
	}
	for _, f := range debFiles {
		if !have[f] {
			t.Errorf("the .rpm lacks %s, which the .deb has", f)
		}
	}
	if cfg := run(t, rpm, "-qpc", rpmFile); strings.TrimSpace(cfg) != "/etc/carbonio-health/node.hcl.example" {
		t.Errorf("rpm config files: %q", cfg)
	}
	if v := run(t, rpm, "-qp", "--queryformat", "%{VERSION}", rpmFile); v != debVersion(t, deb) {
		t.Errorf("rpm version %q, deb version %q", v, debVersion(t, deb))
	}
	// Unpacked into an empty root (the scriptlets need a system to run in:
	// TestMaintainerScripts runs them), the binary runs and says its version.
	root := t.TempDir()
	run(t, rpm, "--root", root, "--initdb")
	run(t, rpm, "--root", root, "--install", "--nodeps", "--noscripts", rpmFile)
	if got := strings.TrimSpace(run(t, filepath.Join(root, "usr/bin/carbonio-health"), "version")); got != "carbonio-health "+debVersion(t, deb) {
		t.Errorf("the .rpm's binary says %q", got)
	}
	scripts := run(t, rpm, "-qp", "--scripts", rpmFile)
	for _, want := range []string{"postinstall scriptlet", "preuninstall scriptlet", "postuninstall scriptlet", "systemd-sysusers",
		"systemd-update-helper install-system-units", "systemd-update-helper remove-system-units", "systemd-update-helper mark-restart-system-units"} {
		if !strings.Contains(scripts, want) {
			t.Errorf("rpm --scripts lacks %q:\n%s", want, scripts)
		}
	}
}

// TestPackageVersion turns git describe strings into package versions that
// dpkg accepts and orders like the commits.
func TestPackageVersion(t *testing.T) {
	dpkg := tool(t, "dpkg")
	tests := []struct{ describe, want string }{
		{"v1.2.3-0-gabc1234", "1.2.3"},
		{"v1.2.3-4-gabc1234", "1.2.3+4.gabc1234"},
		{"v1.3.0-rc1-2-gabc1234", "1.3.0~rc1+2.gabc1234"},
		{"v1.2.3-0-gabc1234-dirty", "1.2.3+dirty"},
		{"v1.2.3-4-gabc1234-dirty", "1.2.3+4.gabc1234.dirty"},
		{"abc1234", "0.0.0+git7.gabc1234"},
		{"abc1234-dirty", "0.0.0+git7.gabc1234.dirty"},
	}
	for _, tt := range tests {
		cmd := exec.Command("package/version.sh", tt.describe)
		cmd.Env = append(os.Environ(), "COMMITS=7")
		out, err := cmd.Output()
		if got := strings.TrimSpace(string(out)); err != nil || got != tt.want {
			t.Errorf("version.sh %s = %q, %v; want %q", tt.describe, got, err, tt.want)
			continue
		}
		run(t, dpkg, "--validate-version", tt.want+"-1")
	}
	// Untagged < first tag's release candidate < the release < later commits.
	order := []string{"0.0.0+git7.gabc1234", "1.3.0~rc1+2.gabc1234", "1.3.0", "1.3.0+4.gabc1234", "1.3.1"}
	for i := 1; i < len(order); i++ {
		run(t, dpkg, "--compare-versions", order[i-1], "lt", order[i])
	}
	if _, err := exec.Command("package/version.sh").Output(); err != nil {
		t.Errorf("version.sh of this checkout: %v", err)
	}
}

// debVersion is the upstream part of the .deb's version (what the binary
// prints), without the Debian revision.
func debVersion(t *testing.T, deb string) string {
	t.Helper()
	v := strings.TrimSpace(run(t, tool(t, "dpkg-deb"), "--field", deb, "Version"))
	if i := strings.LastIndex(v, "-"); i > 0 {
		v = v[:i]
	}
	return v
}

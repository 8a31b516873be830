package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestPackageManPages: the .deb installs the three manual pages where man
// finds them, compressed as Debian wants, and man formats each without a
// warning; lintian (every tag, info and pedantic ones too, no override)
// has nothing to say about them or about the bash completion, which is
// where bash-completion loads it from, for both commands, and completes.
func TestPackageManPages(t *testing.T) {
	t.Parallel() // each waits on its own tool
	deb := packageFile(t, "deb")
	man, bash := tool(t, "man"), tool(t, "bash")
	out, _ := exec.Command(tool(t, "lintian"), "--display-info", "--pedantic", "--no-override", deb).CombinedOutput()
	t.Logf("lintian:\n%s", out)
	if bad := regexp.MustCompile(`(?m)^[EWIPX]: .*(man|groff|hyphen|completion|whatis).*$`).FindAll(out, -1); len(bad) > 0 {
		t.Errorf("lintian on the manual pages or the completion:\n%s", bad)
	}

	root := t.TempDir()
	run(t, tool(t, "dpkg-deb"), "-x", deb, root)
	for _, page := range []string{"man1/carbonio-health.1.gz", "man1/carbonio-health-check.1.gz", "man5/carbonio-health.hcl.5.gz"} {
		path := filepath.Join(root, "usr/share/man", page)
		cmd := exec.Command(man, "--warnings", "-E", "UTF-8", "-l", "-Tutf8", "-Z", path)
		cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8")
		var stderr strings.Builder
		cmd.Stderr = &stderr
		if err := cmd.Run(); err != nil || stderr.Len() > 0 {
			t.Errorf("man --warnings %s: %v\n%s", page, err, stderr.String())
		}
	}
	// MANPATH as man would search it on the node: `man carbonio-health.hcl`.
	cmd := exec.Command(man, "-M", filepath.Join(root, "usr/share/man"), "5", "carbonio-health.hcl")
	cmd.Env = append(os.Environ(), "LC_ALL=C.UTF-8", "MANPAGER=cat")
	if b, err := cmd.Output(); err != nil || !strings.Contains(string(b), "override") {
		t.Errorf("man 5 carbonio-health.hcl: %v\n%s", err, b)
	}

	dir := filepath.Join(root, "usr/share/bash-completion/completions")
	if target, err := os.Readlink(filepath.Join(dir, "carbonio-health-check")); err != nil || target != "carbonio-health" {
		t.Errorf("completions/carbonio-health-check: %q, %v; want a link to carbonio-health", target, err)
	}
	for cmd, want := range map[string]string{"carbonio-health": "status", "carbonio-health-check": "disk"} {
		prog := `source "$1"; COMP_WORDS=("$2" "$3"); COMP_CWORD=1
f=$(complete -p "$2"); f=${f#*-F }; f=${f%% *}; "$f"; echo "${COMPREPLY[@]}"`
		word := want[:2]
		b, err := exec.Command(bash, "-c", prog, "bash", filepath.Join(dir, cmd), cmd, word).CombinedOutput()
		if err != nil || !strings.Contains(string(b), want) {
			t.Errorf("%s %s<TAB>: %q, %v; want %s", cmd, word, b, err, want)
		}
	}
}

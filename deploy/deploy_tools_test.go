package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"testing"
)

// integration reports whether a missing tool or artifact must fail the test
// (make test sets CARBONIO_HEALTH_INTEGRATION=1) rather than skip it.
func integration() bool { return os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" }

// missing fails the test under integration and skips it otherwise.
func missing(t *testing.T, format string, args ...any) {
	t.Helper()
	if integration() {
		t.Fatalf(format, args...)
	}
	t.Skipf(format, args...)
}

// tool returns the path of one of the Debian tools that consume deploy/'s
// files (installed by `make consumers`).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		missing(t, "%s is not installed: run `make consumers` (as root)", name)
	}
	return p
}

// daemonBinary returns the carbonio-health binary `make build` wrote
// ($CARBONIO_HEALTH_BIN, else bin/carbonio-health).
func daemonBinary(t *testing.T) string {
	t.Helper()
	p := os.Getenv("CARBONIO_HEALTH_BIN")
	if p == "" {
		p = filepath.Join("..", "bin", "carbonio-health")
	}
	p, err := filepath.Abs(p)
	if err == nil {
		_, err = os.Stat(p)
	}
	if err != nil {
		missing(t, "no carbonio-health binary (%v): run `make build`", err)
	}
	return p
}

// packageFile returns the one package of the given extension (deb, rpm)
// that `make package` wrote ($CARBONIO_HEALTH_PKG_DIR, else bin/pkg).
func packageFile(t *testing.T, ext string) string {
	t.Helper()
	dir := os.Getenv("CARBONIO_HEALTH_PKG_DIR")
	if dir == "" {
		dir = filepath.Join("..", "bin", "pkg")
	}
	m, _ := filepath.Glob(filepath.Join(dir, "*."+ext))
	if len(m) != 1 {
		missing(t, "want one .%s in %s, found %v: run `make package`", ext, dir, m)
	}
	p, err := filepath.Abs(m[0])
	if err != nil {
		t.Fatal(err)
	}
	return p
}

// run runs a command and fails the test with its output when it fails.
func run(t *testing.T, name string, args ...string) string {
	t.Helper()
	out, err := exec.Command(name, args...).CombinedOutput()
	if err != nil {
		t.Fatalf("%s %v: %v\n%s", name, args, err, out)
	}
	return string(out)
}

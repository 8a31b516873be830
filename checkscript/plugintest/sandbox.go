// Package plugintest runs our probes side by side with Debian's monitoring
// plugins (the reference for their flags, states and output) on a node of
// their own: a private mount and network namespace (unshare) where loopback
// is the only network, 10.0.0.0/24 answers nothing (a non-responsive host
// that no firewall elsewhere can answer for), a DNS server on 127.0.0.1:53
// is the resolver, an HTTP and a TLS server listen on ports 80 and 443, a
// user is logged in, and two tmpfs filesystems filled to known levels are
// mounted. Only tests import it (make lint checks).
package plugintest

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// envInside marks the re-executed test binary that runs in the sandbox.
const envInside = "CARBONIO_HEALTH_PLUGIN_SANDBOX"

// Nonresponsive is an address nothing answers in the sandbox: packets to
// 10.0.0.0/24 go to the loopback device, which drops what is not its own.
const Nonresponsive = "10.0.0.1"

// Env is the sandbox a test runs in.
type Env struct {
	// Mount1 and Mount2 are tmpfs mount points: Mount1 70% free (space and
	// inodes), Mount2 40% free space and 90% free inodes.
	Mount1, Mount2 string
	// HTTPPort and TLSPort are the servers' ports on 127.0.0.1 (80, 443).
	HTTPPort, TLSPort int
	// Dir is a scratch folder (wrapper scripts, the suite's cwd).
	Dir string
}

// Sandbox runs the calling test in the sandbox. Outside it, it re-executes
// the test binary for this test under `unshare --mount --net`, reports its
// output and returns nil: the caller returns. Inside, it sets the sandbox
// up (once per process) and returns it. Without root or namespaces the test
// is skipped, and fails with CARBONIO_HEALTH_INTEGRATION=1.
func Sandbox(t *testing.T) *Env {
	t.Helper()
	if os.Getenv(envInside) == "1" {
		return setup(t)
	}
	unshare, err := exec.LookPath("unshare")
	if err == nil {
		err = exec.Command(unshare, "--mount", "--net", "true").Run()
	}
	if err != nil {
		if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
			t.Fatalf("the plugin sandbox needs root and unshare(1) (CARBONIO_HEALTH_INTEGRATION=1): %v", err)
		}
		t.Skipf("the plugin sandbox needs root and unshare(1): %v", err)
	}
	name := strings.SplitN(t.Name(), "/", 2)[0]
	ctx, cancel := context.WithTimeout(context.Background(), 15*time.Minute)
	defer cancel()
	cmd := exec.CommandContext(ctx, unshare, "--mount", "--net", "--propagation", "private",
		os.Args[0], "-test.run=^"+name+"$", "-test.v", "-test.count=1", "-test.timeout=15m")
	cmd.Env = append(os.Environ(), envInside+"=1")
	out, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(out)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		t.Log(sc.Text())
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s in the sandbox: %v", name, err)
	}
	return nil
}

var env *Env

// setup builds the sandbox inside the namespaces, once.
func setup(t *testing.T) *Env {
	t.Helper()
	if env != nil {
		return env
	}
	dir, err := os.MkdirTemp("", "plugin-sandbox-")
	if err != nil {
		t.Fatal(err)
	}
	e := &Env{Dir: dir, HTTPPort: 80, TLSPort: 443}
	steps := []func() error{
		func() error { return run("ip", "link", "set", "lo", "up") },
		func() error { return run("ip", "route", "add", "10.0.0.0/24", "dev", "lo") },
		cleanMounts,
		func() error { return resolvConf(dir) },
		loggedInUser,
		func() error { return e.filesystems() },
		func() error { return startDNS() },
		func() error { return startHTTP(e.HTTPPort) },
		func() error { return startTLS(e.TLSPort) },
	}
	for _, step := range steps {
		if err := step(); err != nil {
			t.Fatalf("setting the plugin sandbox up: %v", err)
		}
	}
	env = e
	return e
}

func run(name string, args ...string) error {
	if out, err := exec.Command(name, args...).CombinedOutput(); err != nil {
		return fmt.Errorf("%s %s: %v: %s", name, strings.Join(args, " "), err, out)
	}
	return nil
}

// cleanMounts detaches what other tests may have left mounted (FUSE
// filesystems, mounts in /tmp): check_disk without -p stats every mount.
func cleanMounts() error {
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		return err
	}
	var dirs []string
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		if len(f) < 10 {
			continue
		}
		typ := ""
		for i, x := range f {
			if x == "-" && i+1 < len(f) {
				typ = f[i+1]
			}
		}
		dir := f[4]
		if strings.HasPrefix(typ, "fuse") || strings.HasPrefix(dir, "/tmp/") || strings.HasPrefix(dir, "/run/") || strings.HasPrefix(dir, "/mnt/") {
			dirs = append(dirs, dir)
		}
	}
	for i := len(dirs) - 1; i >= 0; i-- {
		_ = unix.Unmount(dirs[i], unix.MNT_DETACH)
	}
	return nil
}

// resolvConf makes 127.0.0.1 the node's resolver.
func resolvConf(dir string) error {
	conf := filepath.Join(dir, "resolv.conf")
	if err := os.WriteFile(conf, []byte("nameserver 127.0.0.1\n"), 0o644); err != nil {
		return err
	}
	return unix.Mount(conf, "/etc/resolv.conf", "", unix.MS_BIND, "")
}

// loggedInUser gives /run a utmp with one user logged in (check_users.t
// needs one), on a tmpfs of the sandbox's own.
func loggedInUser() error {
	if err := unix.Mount("tmpfs", "/run", "tmpfs", 0, "size=8m"); err != nil {
		return err
	}
	rec := make([]byte, 384) // glibc's struct utmp on Linux
	rec[0] = 7               // USER_PROCESS
	copy(rec[8:], "pts/0")
	copy(rec[44:], "admin")
	return os.WriteFile("/run/utmp", rec, 0o644)
}

// filesystems mounts the two tmpfs of Env and fills them: each holds 100
// MiB and 1000 inodes.
func (e *Env) filesystems() error {
	for i, fill := range []struct {
		dir          *string
		mib, inodes  int
		name, subdir string
	}{{&e.Mount1, 30, 300, "mp1", "sub"}, {&e.Mount2, 60, 100, "mp2", "sub"}} {
		dir := filepath.Join(e.Dir, fill.name)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			return err
		}
		if err := unix.Mount("tmpfs", dir, "tmpfs", 0, "size=100m,nr_inodes=1000"); err != nil {
			return fmt.Errorf("tmpfs %d: %w", i, err)
		}
		if err := os.MkdirAll(filepath.Join(dir, fill.subdir), 0o755); err != nil {
			return err
		}
		// The root and sub count as two inodes; files take the rest.
		if err := os.WriteFile(filepath.Join(dir, "data"), make([]byte, fill.mib<<20), 0o644); err != nil {
			return err
		}
		for n := 3; n < fill.inodes; n++ {
			if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", n)), nil, 0o644); err != nil {
				return err
			}
		}
		*fill.dir = dir
	}
	return nil
}

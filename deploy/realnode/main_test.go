// Package realnode tests what ships on the machine shape it ships to: a
// Debian 12 node booted with systemd as PID 1 (systemd-nspawn), Debian's
// mail daemons on Carbonio's ports in Carbonio's units and targets, a
// service-discover agent joined to a Consul server outside the node, and
// the .deb of `make package` installed as an operator installs it.
//
// One node is booted for the whole package (TestMain tears it down) and the
// tests run in the order of realnode_test.go, each leaving the node as it
// found it: every daemon running, the package installed and passing. The
// root filesystem is built once by `make node` (deploy/realnode/rootfs).
// Under make test (CARBONIO_HEALTH_INTEGRATION=1) anything missing fails;
// nothing skips.
package realnode

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// fixture is the shared node and what surrounds it.
type fixture struct {
	net  *hostNet
	mesh *mesh
	node *Node
	// deb is the package `make package` built; pkgDir its folder, bound
	// at /mnt/pkg in the node.
	deb, pkgDir string
	// boot is the first boot's time to is-system-running, state its answer.
	boot  time.Duration
	state string

	// installed is set once the package is installed and started; steps
	// are the operator's steps and their output; startToHealthy how long
	// from `systemctl start` to every check as expected.
	installed      bool
	steps          []step
	startToHealthy time.Duration
	// installLast is what the install waited for last, when it waited long.
	installLast string
	// services and checks are the IDs the daemon declares (plan -json),
	// its own included.
	services, checks []string
	// lastToPass is what waitHealthy last waited for, when it waited long.
	lastToPass string
}

var (
	fxOnce sync.Once
	fx     *fixture
	fxErr  error
)

func TestMain(m *testing.M) {
	// Interrupted (make stopped, a CI job cancelled): take the node down
	// before going. A test binary killed outright (SIGKILL, or the panic of
	// -timeout) leaves no process behind either (see Node), and its folder
	// and link are removed by the next run.
	sig := make(chan os.Signal, 1)
	signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
	go func() {
		<-sig
		closeFixture()
		os.Exit(1)
	}()
	code := m.Run()
	closeFixture()
	os.Exit(code)
}

var closeOnce sync.Once

// closeFixture tears the shared node down, once.
func closeFixture() {
	closeOnce.Do(func() {
		if fx != nil {
			fx.close()
		}
	})
}

// moduleRoot is the repository root (two folders up).
func moduleRoot() string {
	wd, _ := os.Getwd()
	return filepath.Dir(filepath.Dir(wd))
}

// env returns $name, else the default under the repository root.
func env(name, def string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return filepath.Join(moduleRoot(), def)
}

// shared returns the booted node, booting it on first use.
func shared(t *testing.T) *fixture {
	t.Helper()
	if os.Geteuid() != 0 {
		consultest.Missing(t, "the real node needs root (systemd-nspawn, mounts, veth): make test runs as root")
	}
	for _, tool := range []string{"systemd-nspawn", "unshare", "nsenter", "ip"} {
		if _, err := exec.LookPath(tool); err != nil {
			consultest.Missing(t, "%s is not installed: run `make node` (as root)", tool)
		}
	}
	rootfs := env("CARBONIO_HEALTH_NODE_ROOTFS", "bin/node")
	for _, l := range []string{"shape.key", "base/etc/os-release"} {
		if _, err := os.Stat(filepath.Join(rootfs, l)); err != nil {
			consultest.Missing(t, "no node root filesystem in %s: run `make node` (as root)", rootfs)
		}
	}
	consul := env("CARBONIO_HEALTH_CONSUL", "bin/consul")
	pkgDir := env("CARBONIO_HEALTH_PKG_DIR", "bin/pkg")
	debs, _ := filepath.Glob(filepath.Join(pkgDir, "carbonio-health_*_amd64.deb"))
	if _, err := os.Stat(consul); err != nil || len(debs) != 1 {
		consultest.Missing(t, "need bin/consul (%v) and one .deb in %s (%d): run `make consul package`", err, pkgDir, len(debs))
	}
	fxOnce.Do(func() { fx, fxErr = setup(rootfs, consul, pkgDir, debs[0]) })
	if fxErr != nil {
		t.Fatalf("real node: %v", fxErr)
	}
	if !fx.node.Running() {
		t.Fatal("the shared node is not running (an earlier test left it down)")
	}
	return fx
}

// setup starts the mesh server, provisions the node and boots it.
func setup(rootfs, consul, pkgDir, deb string) (f *fixture, err error) {
	f = &fixture{deb: deb, pkgDir: pkgDir}
	defer func() {
		if err != nil {
			f.close()
		}
	}()
	if f.net, err = newHostNet(); err != nil {
		return f, err
	}
	if f.mesh, err = startMesh(consul, f.net); err != nil {
		return f, err
	}
	removeStaleDirs()
	dir, err := os.MkdirTemp("", fmt.Sprintf("carbonio-realnode-%d-", os.Getpid()))
	if err != nil {
		return f, err
	}
	f.node = &Node{
		Name:   "chn" + filepath.Base(f.net.Dummy)[len("chsrv"):],
		Dir:    dir,
		Layers: []string{filepath.Join(rootfs, "shape"), filepath.Join(rootfs, "base")},
		Binds:  map[string]string{consul: "/usr/bin/consul", pkgDir: "/mnt/pkg"},
		Net:    f.net,
	}
	files, err := f.mesh.nodeFiles(f.net)
	if err != nil {
		return f, err
	}
	if err := provision(f.node, files); err != nil {
		return f, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if f.boot, f.state, err = f.node.Boot(ctx); err != nil {
		return f, err
	}
	if err := f.waitJoined(ctx); err != nil {
		return f, err
	}
	return f, nil
}

// removeStaleDirs removes the node folders of test processes that are
// gone (killed runs).
func removeStaleDirs() {
	dirs, _ := filepath.Glob(filepath.Join(os.TempDir(), "carbonio-realnode-*-*"))
	for _, d := range dirs {
		f := strings.Split(filepath.Base(d), "-")
		if len(f) != 4 {
			continue
		}
		if pid, err := strconv.Atoi(f[2]); err == nil && syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = os.RemoveAll(d)
		}
	}
}

// waitJoined waits until the server's catalog has the node with
// serfHealth passing: the agent joined, through TLS and ACLs.
func (f *fixture) waitJoined(ctx context.Context) error {
	for {
		checks, _, err := f.mesh.Admin().Health().Node(NodeName, nil)
		if err == nil {
			for _, c := range checks {
				if c.CheckID == "serfHealth" && c.Status == "passing" {
					return nil
				}
			}
		}
		select {
		case <-ctx.Done():
			out, _ := f.node.Exec(context.Background(), "journalctl", "-u", "service-discover", "--no-pager", "-n", "40")
			return fmt.Errorf("the node's agent did not join the server (%v, last: %v):\n%s", ctx.Err(), err, out)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// close powers the node off and stops the server; safe on a half set up
// fixture.
func (f *fixture) close() {
	if f.node != nil {
		if os.Getenv("CARBONIO_HEALTH_REALNODE_KEEP") != "" {
			_, _ = f.node.Poweroff(time.Minute)
			fmt.Fprintf(os.Stderr, "realnode: kept the node's writes in %s\n", f.node.Dir)
		} else {
			_ = f.node.Close()
		}
	}
	if f.mesh != nil {
		f.mesh.cluster.RemoveAll()
	}
	if f.net != nil {
		f.net.Close()
	}
}

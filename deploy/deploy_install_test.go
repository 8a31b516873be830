package deploy_test

import (
	"os"
	"os/exec"
	"os/user"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

const (
	installedBinary = "/usr/bin/carbonio-health"
	// installedCheckBinary runs the light probes for the agent's script checks.
	installedCheckBinary = "/usr/bin/carbonio-health-check"
	installedUnit        = "/lib/systemd/system/carbonio-health.service"
	installedDropIn      = "/lib/systemd/system/carbonio-health.service.d/node-file.conf"
	configDir            = "/etc/carbonio-health"
	unitName             = "carbonio-health.service"
)

// TestPackageInstall installs the .deb on this machine as an operator would
// (make test runs as root), runs the installed binary, checks that the
// files are where the unit expects them and that systemd accepts the unit,
// installs it again over itself (the operator's edits stay), removes the
// package (config and registrations stay) and purges it (what
// carbonio-health owns in Consul is deregistered, nothing else; then a
// purge with no agent to reach still succeeds). It leaves the machine as it
// found it.
func TestPackageInstall(t *testing.T) {
	t.Parallel() // each waits on its own tool and dev agent
	deb := packageFile(t, "deb")
	dpkgQuery := tool(t, "dpkg-query")
	if os.Geteuid() != 0 {
		consultest.Missing(t, "installing the .deb needs root (make test runs as root)")
	}
	holdInstallLock(t)
	if st, _ := exec.Command(dpkgQuery, "-W", "-f", "${db:Status-Abbrev}", "carbonio-health").Output(); len(st) > 0 && st[0] != 'u' && st[0] != 'n' {
		t.Fatalf("carbonio-health is already on this machine (%q): this test installs and purges it; run dpkg -P carbonio-health first", st)
	}
	_, userErr := user.Lookup("carbonio-health")
	t.Cleanup(func() {
		if out, err := exec.Command("dpkg", "--purge", "carbonio-health").CombinedOutput(); err != nil {
			t.Errorf("cleanup: dpkg --purge: %v\n%s", err, out)
		}
		os.RemoveAll(configDir) // what the test wrote there itself
		if userErr != nil {     // the package created the user: this test did
			_ = exec.Command("userdel", "carbonio-health").Run()
			_ = exec.Command("groupdel", "carbonio-health").Run()
		}
	})

	agent := consultest.Start(t, consultest.Options{})
	c := agent.Client(t, "")
	owned := &api.AgentServiceRegistration{ID: "carbonio-health:mta:smtp", Name: "carbonio-mta-smtp",
		Meta: map[string]string{"managed-by": "carbonio-health"}}
	foreign := &api.AgentServiceRegistration{ID: "foreign-db", Name: "foreign-db"}
	for _, r := range []*api.AgentServiceRegistration{owned, foreign} {
		if err := c.Agent().ServiceRegister(r); err != nil {
			t.Fatal(err)
		}
	}

	out := dpkg(t, "--install", deb)
	if !strings.Contains(out, "enabled, not started") {
		t.Errorf("postinst did not say the daemon waits for a node file:\n%s", out)
	}
	t.Run("installed binary", func(t *testing.T) {
		if got, want := strings.TrimSpace(run(t, installedBinary, "version")), "carbonio-health "+debVersion(t, deb); got != want {
			t.Errorf("version: %q, want %q", got, want)
		}
		dir := t.TempDir()
		example, err := os.ReadFile(filepath.Join(configDir, "node.hcl.example"))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, "node.hcl"), example, 0o644); err != nil {
			t.Fatal(err)
		}
		if out := run(t, installedBinary, "validate", "-config-dir", dir); !strings.Contains(out, "valid") {
			t.Errorf("validate of the example: %s", out)
		}
		// The example alone is no declaration: the installed defaults read
		// /etc/carbonio-health and find no node file, as the drop-in says.
		if out, err := exec.Command(installedBinary, "validate").CombinedOutput(); err == nil || !strings.Contains(string(out), "no *.hcl") {
			t.Errorf("validate with only the example installed: %v\n%s", err, out)
		}
		// Beside it, what the agent execs for a light probe's script check.
		if out := run(t, installedCheckBinary, "check", "users", "-w", "1000", "-c", "2000"); !strings.HasPrefix(out, "USERS OK - ") {
			t.Errorf("%s check users: %s", installedCheckBinary, out)
		}
	})
	t.Run("files where the unit expects them", func(t *testing.T) { checkInstalledUnit(t) })
	t.Run("systemd-analyze verify", func(t *testing.T) {
		for _, u := range []string{installedUnit, "/lib/systemd/system/carbonio-health-fragment.path", "/lib/systemd/system/carbonio-health-fragment.service"} {
			verifyUnit(t, u)
		}
	})
	t.Run("enabled", func(t *testing.T) {
		if links := enablementLinks(); len(links) == 0 {
			t.Errorf("%s is not enabled: no link in a .wants folder", unitName)
		}
	})

	// The operator's own files, and the Consul address the daemon (and the
	// purge) use.
	writeFile(t, filepath.Join(configDir, "node.hcl"), "node {\n  roles = [\"mta\"]\n}\n")
	writeFile(t, filepath.Join(configDir, "consul.env"), "CONSUL_HTTP_ADDR="+agent.Addr+"\n")

	t.Run("upgrade keeps the config", func(t *testing.T) {
		example := filepath.Join(configDir, "node.hcl.example")
		edited := "# edited by the operator\n"
		b, err := os.ReadFile(example)
		if err != nil {
			t.Fatal(err)
		}
		writeFile(t, example, string(b)+edited)
		dpkg(t, "--install", deb) // postinst configure <installed version>
		for path, want := range map[string]string{example: edited, filepath.Join(configDir, "node.hcl"): "roles"} {
			if b, err := os.ReadFile(path); err != nil || !strings.Contains(string(b), want) {
				t.Errorf("%s after the upgrade: %v, want it to hold %q", path, err, want)
			}
		}
	})

	dpkg(t, "--remove", "carbonio-health")
	t.Run("remove keeps config and registrations", func(t *testing.T) {
		if _, err := os.Stat(installedBinary); !os.IsNotExist(err) {
			t.Errorf("%s after remove: %v", installedBinary, err)
		}
		for _, f := range []string{"node.hcl.example", "node.hcl", "consul.env"} {
			if _, err := os.Stat(filepath.Join(configDir, f)); err != nil {
				t.Errorf("remove lost the config: %v", err)
			}
		}
		if st := run(t, dpkgQuery, "-W", "-f", "${db:Status-Abbrev}", "carbonio-health"); !strings.HasPrefix(st, "rc") {
			t.Errorf("status after remove %q, want rc (config files)", st)
		}
		assertServices(t, c, owned.ID, foreign.ID)
	})

	out = dpkg(t, "--purge", "carbonio-health")
	t.Run("purge deregisters only what is owned", func(t *testing.T) {
		if !strings.Contains(out, "Deregistered 1 services") {
			t.Errorf("purge output:\n%s", out)
		}
		assertServices(t, c, foreign.ID)
		for _, p := range []string{filepath.Join(configDir, "node.hcl.example"), "/var/lib/carbonio-health", installedUnit} {
			if _, err := os.Stat(p); !os.IsNotExist(err) {
				t.Errorf("%s after purge: %v", p, err)
			}
		}
		if links := enablementLinks(); len(links) > 0 {
			t.Errorf("still enabled after purge: %v", links)
		}
		if m, _ := filepath.Glob("/var/lib/systemd/deb-systemd-helper-*/*" + unitName + "*"); len(m) > 0 {
			t.Errorf("deb-systemd-helper still tracks %s after purge: %v", unitName, m)
		}
	})

	t.Run("purge with no agent", func(t *testing.T) {
		dpkg(t, "--install", deb)
		agent.Stop(t)
		out := dpkg(t, "--purge", "carbonio-health")
		if !strings.Contains(out, "could not deregister") {
			t.Errorf("purge without an agent should say it could not deregister:\n%s", out)
		}
	})
}

// checkInstalledUnit checks the installed unit against the installed files:
// its ExecStart binary, the -config-dir the drop-in's condition watches, the
// folder of an EnvironmentFile in that dir, and its user.
func checkInstalledUnit(t *testing.T) {
	u := parseUnit(t, installedUnit)
	exec := strings.Fields(strings.Join(u["Service"]["ExecStart"], " "))
	if st, err := os.Stat(exec[0]); err != nil || st.Mode()&0o111 == 0 {
		t.Errorf("ExecStart %s: %v", exec[0], err)
	}
	cfgDir := ""
	for i, a := range exec {
		if a == "-config-dir" && i+1 < len(exec) {
			cfgDir = exec[i+1]
		}
	}
	if st, err := os.Stat(cfgDir); err != nil || !st.IsDir() {
		t.Errorf("ExecStart's -config-dir %q: %v", cfgDir, err)
	}
	d := parseUnit(t, installedDropIn)
	if got, want := strings.Join(d["Unit"]["ConditionPathExistsGlob"], " "), filepath.Join(cfgDir, "*.hcl"); got != want {
		t.Errorf("drop-in condition %q, want %q (the daemon's -config-dir)", got, want)
	}
	// An EnvironmentFile in the package's config dir goes in a folder the
	// package made (files elsewhere belong to other packages).
	for _, f := range u["Service"]["EnvironmentFile"] {
		f = strings.TrimPrefix(f, "-")
		if !strings.HasPrefix(f, configDir+"/") {
			continue
		}
		if st, err := os.Stat(filepath.Dir(f)); err != nil || !st.IsDir() {
			t.Errorf("EnvironmentFile %s: no folder: %v", f, err)
		}
	}
	for _, name := range u["Service"]["User"] {
		if _, err := user.Lookup(name); err != nil {
			t.Errorf("User=%s: %v", name, err)
		}
	}
}

// enablementLinks are the links `systemctl enable` made for the unit, in
// whichever target's .wants folder its [Install] section names.
func enablementLinks() []string {
	m, _ := filepath.Glob(filepath.Join("/etc/systemd/system", "*.wants", unitName))
	return m
}

// assertServices fails unless the agent holds exactly the given service IDs.
func assertServices(t *testing.T, c *api.Client, ids ...string) {
	t.Helper()
	svcs, err := c.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]bool{}
	for _, id := range ids {
		want[id] = true
		if svcs[id] == nil {
			t.Errorf("service %s is gone", id)
		}
	}
	for id := range svcs {
		if !want[id] {
			t.Errorf("service %s is still registered", id)
		}
	}
}

// dpkg runs dpkg with args, waiting while another dpkg or apt (another
// worker's make plugins) holds the lock, and returns its output.
func dpkg(t *testing.T, args ...string) string {
	t.Helper()
	for deadline := time.Now().Add(10 * time.Minute); ; time.Sleep(2 * time.Second) {
		out, err := exec.Command("dpkg", args...).CombinedOutput()
		if err == nil {
			return string(out)
		}
		if !strings.Contains(string(out), "lock") || time.Now().After(deadline) {
			t.Fatalf("dpkg %v: %v\n%s", args, err, out)
		}
	}
}

// holdInstallLock serialises this test with any other run of it on the
// machine (another checkout's make test): both install the same package.
func holdInstallLock(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile("/run/lock/carbonio-health-package-test.lock", os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		t.Fatal(err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
}

func writeFile(t *testing.T, path, content string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
}

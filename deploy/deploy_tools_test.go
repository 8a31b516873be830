package deploy_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// tool returns the path of one of the Debian tools that consume deploy/'s
// files (installed by `make consumers`).
func tool(t *testing.T, name string) string {
	t.Helper()
	p, err := exec.LookPath(name)
	if err != nil {
		consultest.Missing(t, "%s is not installed: run `make consumers` (as root)", name)
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
		consultest.Missing(t, "no carbonio-health binary (%v): run `make build`", err)
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
		consultest.Missing(t, "want one .%s in %s, found %v: run `make package`", ext, dir, m)
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

// shippedFile returns a file of deploy/ as a test installs it: the
// installed binary's path replaced by the one `make build` wrote, and any
// more old, new pairs replaced.
func shippedFile(t *testing.T, path string, oldnew ...string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return strings.NewReplacer(append([]string{"/usr/bin/carbonio-health", daemonBinary(t)}, oldnew...)...).Replace(string(b))
}

// devNode starts a dev agent that holds owned services in the given states,
// keyed "role:key" (carbonio-health:role:key, named carbonio-role-key), each
// with one TTL check "tcp" as the catalog's port checks have.
func devNode(t *testing.T, states map[string]string) *consultest.Agent {
	t.Helper()
	agent := consultest.Start(t, consultest.Options{})
	c := agent.Client(t, "")
	for key, status := range states {
		registerTTL(t, c, "carbonio-health:"+key, "carbonio-"+strings.ReplaceAll(key, ":", "-"), "tcp", status)
	}
	return agent
}

// registerTTL registers an owned service with one TTL check (ID
// <service ID>:<check>, as the catalog names them) in state status, and
// waits until the catalog shows it (status changes sync at once).
func registerTTL(t *testing.T, c *api.Client, id, name, check, status string) {
	t.Helper()
	err := c.Agent().ServiceRegister(&api.AgentServiceRegistration{ID: id, Name: name,
		Meta:  map[string]string{"managed-by": "carbonio-health"},
		Check: &api.AgentServiceCheck{CheckID: id + ":" + check, Name: check, TTL: "10m", Status: status, Notes: name + " " + status}})
	if err != nil {
		t.Fatal(err)
	}
	consultest.Eventually(t, id+" in the catalog as "+status, func() bool {
		checks, _, err := c.Health().Checks(name, nil)
		return err == nil && len(checks) == 1 && checks[0].Status == status
	})
}

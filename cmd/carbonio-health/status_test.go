package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/consul/sdk/testutil/retry"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// TestStatusFollowsTheNode runs the daemon against a real agent and reads
// the node back with `status` as Nagios would, while an operator stops a
// listener, deletes a socket and brings them back.
func TestStatusFollowsTheNode(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{})
	tcp := consultest.Listen(t, "tcp", "")
	port := tcp.Addr().(*net.TCPAddr).Port
	sock := filepath.Join(t.TempDir(), "mysql.sock")
	unix := consultest.Listen(t, "unix", sock)
	decl := consultest.Role("t",
		consultest.Endpoint{Service: "imap", Port: port, Interval: "1s"},
		consultest.Endpoint{Service: "mariadb", Check: "socket", Socket: sock, Interval: "1s"})
	startTestDaemon(t, &registrar.Daemon{Client: agent.Client(t, "")}, writeNode(t, decl))
	// Someone else's failing service whose ID looks like ours but carries
	// no managed-by meta: status and Zabbix discovery must not see it.
	foreign := &api.AgentServiceRegistration{ID: hcl.IDPrefix + "t:foreign", Name: "carbonio-t-foreign",
		Check: &api.AgentServiceCheck{CheckID: hcl.IDPrefix + "t:foreign:ttl", TTL: "1h", Status: api.HealthCritical}}
	if err := agent.Client(t, "").Agent().ServiceRegister(foreign); err != nil {
		t.Fatal(err)
	}

	status := statusOf(agent)
	steps := []struct {
		name string
		act  func()
		code int
		want string
	}{
		{"all up", func() {}, 0, "HEALTH OK"},
		{"listener stopped", func() { tcp.Close() }, 2, "carbonio-t-imap"},
		{"socket deleted too", func() { unix.Close(); os.Remove(sock) }, 2, "carbonio-t-mariadb"},
		{"both back", func() {
			consultest.Listen(t, "tcp", fmt.Sprintf("127.0.0.1:%d", port))
			consultest.Listen(t, "unix", sock)
		}, 0, "HEALTH OK"},
	}
	for _, s := range steps {
		s.act()
		start := time.Now()
		var code int
		var out string
		retry.RunWith(consultest.Wait(), t, func(r *retry.R) {
			if code, out = status(); code != s.code || !strings.Contains(out, s.want) {
				r.Fatalf("%s: status exit %d, %q; want %d with %q", s.name, code, out, s.code, s.want)
			}
		})
		t.Logf("%s: status answered %d after %v: %s", s.name, code, time.Since(start).Round(time.Millisecond), out)
	}
	if code, out := status("-format", "zabbix-discovery"); code != 0 || strings.Contains(out, "foreign") ||
		!strings.Contains(out, "carbonio-health:t:imap") {
		t.Errorf("zabbix discovery lists a foreign service or misses ours: %d %s", code, out)
	}
	if code, out := status("-check", hcl.IDPrefix+"t:foreign:ttl"); code != 3 {
		t.Errorf("status -check of a foreign check: %d %s, want UNKNOWN (no such check of ours)", code, out)
	}
	// One check for a Zabbix item, and the agent gone: UNKNOWN, never OK.
	if code, out := status("-check", "carbonio-health:t:mariadb:socket", "-format", "json"); code != 0 || !strings.Contains(out, `"code": 0`) {
		t.Errorf("one check as JSON: %d %s", code, out)
	}
	agent.Stop(t)
	if code, out := status(); code != 3 || !strings.Contains(out, "UNKNOWN") {
		t.Errorf("agent stopped: %d %s", code, out)
	}
}

// TestStatusDaemonDownNewestFirst: with the daemon stopped (its heartbeat
// expired) the checks the agent runs still count, so SMTP going down is
// CRITICAL naming SMTP, and on a node that already had other failures the
// newest one leads the line, from the agent's view and from the catalog's.
func TestStatusDaemonDownNewestFirst(t *testing.T) {
	agent := consultest.Start(t, consultest.Options{})
	smtp := consultest.Listen(t, "tcp", "")
	closed := consultest.Listen(t, "tcp", "")
	closedPort := closed.Addr().(*net.TCPAddr).Port
	closed.Close()
	decl := consultest.Role("t",
		consultest.Endpoint{Service: "smtp", Port: smtp.Addr().(*net.TCPAddr).Port, Interval: "1s"},
		consultest.Endpoint{Service: "imap", Port: closedPort, Interval: "1s"},
		consultest.Endpoint{Service: "pop", Port: closedPort, Interval: "1s"},
		consultest.Endpoint{Service: "mariadb", Check: "socket", Socket: filepath.Join(t.TempDir(), "absent.sock"), Interval: "1s"})
	stop := startTestDaemon(t, &registrar.Daemon{Client: agent.Client(t, ""),
		Options: registrar.Options{Self: "/bin/true", Heartbeat: true}}, writeNode(t, decl))
	status := statusOf(agent)
	consultest.Eventually(t, "imap, pop and mariadb critical with their outputs in the catalog, smtp passing", func() bool {
		code, out := status("-node", "*")
		return code == 2 && strings.Contains(out, "3 critical") && strings.Contains(out, "mariadb") && !strings.Contains(out, "no output")
	})
	stop()
	stopped := time.Now()
	consultest.Eventually(t, "the heartbeat to expire", func() bool {
		_, out := status()
		return strings.Contains(out, "daemon down or its token refused")
	})
	t.Logf("daemon stopped: heartbeat expired after %v", time.Since(stopped).Round(time.Second))
	smtp.Close()
	for _, scope := range [][]string{nil, {"-node", "*"}} {
		var code int
		var out string
		consultest.Eventually(t, fmt.Sprintf("status %v to name SMTP first", scope), func() bool {
			code, out = status(scope...)
			_, after, _ := strings.Cut(out, " checks on ")
			_, first, _ := strings.Cut(after, ": ")
			return code == 2 && strings.HasPrefix(first, "carbonio-t-smtp tcp:")
		})
		if !strings.Contains(out, "the 1 checks it feeds are stale") || strings.Contains(out, "mariadb") {
			t.Errorf("status %v: the TTL check of the stopped daemon is counted, or the stale entry missing: %s", scope, out)
		}
		t.Logf("status %v: %s", scope, out)
	}
}

// startTestDaemon runs d until stop or the end of the test, with the
// declarations of dir and no built-in catalog (and, unless set, no log);
// it returns once d is ready, failing the test if d exits first.
func startTestDaemon(t *testing.T, d *registrar.Daemon, dir string) (stop func()) {
	t.Helper()
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}}
	ready, done := make(chan struct{}), make(chan error, 1)
	d.Ready, d.Load = ready, func() (*hcl.Plan, error) { return hcl.Load(opts) }
	if d.Log == nil {
		d.Log = hclog.NewNullLogger()
	}
	ctx, cancel := context.WithCancel(context.Background())
	go func() { done <- d.Run(ctx) }()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); <-done }) }
	t.Cleanup(stop)
	select {
	case <-ready:
	case err := <-done:
		t.Fatalf("daemon: %v", err)
	}
	return stop
}

// statusOf runs `carbonio-health status` against agent with more
// arguments, as Nagios would: its exit code and its output.
func statusOf(agent *consultest.Agent) func(args ...string) (int, string) {
	return func(args ...string) (int, string) {
		var out bytes.Buffer
		code := dispatch(context.Background(), append([]string{"status", "-http-addr", agent.Addr}, args...), &out, &out)
		return code, strings.TrimSpace(out.String())
	}
}

package allprobes

// The stored output of every probe of the registry stays put when only
// measured numbers move (issue 17 item 3): each probe is run twice on real
// inputs that differ only in what it measures (free space, load averages,
// the number of users, response and round-trip times, a pool's addresses,
// a tree's size), and its steady form (what Consul stores) must be one
// line. A probe without a driver here fails the test: a new probe comes
// with one.

import (
	"bufio"
	"context"
	"crypto/tls"
	"encoding/binary"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/miekg/dns"
	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/plugintest"
	"github.com/zextras/carbonio-health/registrar/consultest"
)

// steadyPending are the probes whose steady form is another engineer's
// work in progress: their moving output is logged, not failed, until it
// stops moving (the test then asks to take them off the list).
var steadyPending = map[string]string{}

// steadyDriver runs a probe twice on inputs that differ only in measured
// numbers. measures is false for a probe whose line holds no measurement
// (leader, systemd): its two lines may be equal.
type steadyDriver struct {
	run      func(t *testing.T) (a, b checkscript.Result)
	measures bool
}

func runCheck(t *testing.T, probe string, args ...string) checkscript.Result {
	t.Helper()
	c, err := Registry.New(probe, args)
	if err != nil {
		t.Fatalf("%s %q: %v", probe, args, err)
	}
	return c.Run(context.Background())
}

func TestSteadyRegistry(t *testing.T) {
	drivers := map[string][]steadyDriver{
		"disk":    {{run: steadyDisk("-w", "1%", "-c", "0%"), measures: true}, {run: steadyDisk("-w", "100%", "-c", "0%"), measures: true}},
		"load":    {{run: steadyLoad("-w", "5", "-c", "10"), measures: true}, {run: steadyLoad("-r", "-w", "0.1", "-c", "10"), measures: true}},
		"users":   {{run: steadyUsers(0, "-w", "5", "-c", "10"), measures: true}, {run: steadyUsers(1, "-w", "0", "-c", "10"), measures: true}},
		"tcp":     {{run: steadyTCP(false), measures: true}, {run: steadyTCP(true), measures: true}},
		"ping":    {{run: steadyPing, measures: true}},
		"dns":     {{run: steadyDNS("-w", "1", "-c", "5"), measures: true}, {run: steadyDNS("-w", "0.001", "-c", "5"), measures: true}},
		"socket":  {{run: steadySocket, measures: true}},
		"dirsize": {{run: steadyDirsize, measures: true}},
		"leader":  {{run: steadyLeader}},
		"systemd": {{run: steadySystemd}},
	}
	for _, name := range Registry.Names() {
		t.Run(name, func(t *testing.T) {
			ds, ok := drivers[name]
			if !ok {
				t.Fatalf("probe %q has no driver in TestSteadyRegistry: give it one", name)
			}
			moving := false
			for _, d := range ds {
				a, b := d.run(t)
				t.Logf("full:   %s\n        %s\nsteady: %s", a, b, a.SteadyString())
				if d.measures && a.String() == b.String() {
					t.Errorf("the driver's two runs gave one line, so it shows nothing: %s", a)
				}
				if a.Status != b.Status {
					t.Fatalf("the two runs differ in state: %s / %s", a, b)
				}
				if a.SteadyString() != b.SteadyString() {
					moving = true
					if _, pending := steadyPending[name]; !pending {
						t.Errorf("stored output moves with the measurements:\n  %s\n  %s", a.SteadyString(), b.SteadyString())
					}
				}
			}
			if why, pending := steadyPending[name]; pending {
				if !moving {
					t.Errorf("%s is steady now: take it off steadyPending (%s)", name, why)
				} else {
					t.Logf("pending: %s", why)
				}
			}
		})
	}
}

func steadyDisk(thresholds ...string) func(t *testing.T) (a, b checkscript.Result) {
	return func(t *testing.T) (a, b checkscript.Result) {
		dir := t.TempDir()
		args := append(thresholds, "-p", dir)
		a = runCheck(t, "disk", args...)
		f, err := os.Create(filepath.Join(dir, "grow"))
		if err != nil {
			t.Fatal(err)
		}
		defer f.Close()
		if _, err := f.Write(make([]byte, 64<<20)); err != nil {
			t.Fatal(err)
		}
		_ = f.Sync()
		return a, runCheck(t, "disk", args...)
	}
}

func steadyLoad(args ...string) func(t *testing.T) (a, b checkscript.Result) {
	return func(t *testing.T) (a, b checkscript.Result) {
		sys := filepath.Join(t.TempDir(), "devices", "system", "cpu")
		if err := os.MkdirAll(sys, 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(sys, "online"), []byte("0-1\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		t.Setenv("HOST_SYS", filepath.Dir(filepath.Dir(filepath.Dir(sys))))
		var r [2]checkscript.Result
		for i, avg := range []string{"0.50 0.40 0.30 1/100 42\n", "0.90 0.85 0.70 2/100 43\n"} {
			proc := t.TempDir()
			if err := os.WriteFile(filepath.Join(proc, "loadavg"), []byte(avg), 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("HOST_PROC", proc)
			r[i] = runCheck(t, "load", args...)
		}
		return r[0], r[1]
	}
}

func steadyUsers(from int, args ...string) func(t *testing.T) (a, b checkscript.Result) {
	return func(t *testing.T) (a, b checkscript.Result) {
		var r [2]checkscript.Result
		for i := range r {
			dir := t.TempDir()
			var utmp []byte
			for range from + i {
				rec := make([]byte, 384)
				binary.LittleEndian.PutUint16(rec, 7) // USER_PROCESS
				utmp = append(utmp, rec...)
			}
			if err := os.MkdirAll(filepath.Join(dir, "run"), 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(dir, "run", "utmp"), utmp, 0o644); err != nil {
				t.Fatal(err)
			}
			t.Setenv("HOST_VAR", dir)
			r[i] = runCheck(t, "users", args...)
		}
		return r[0], r[1]
	}
}

// steadyTCP serves a banner that names the connection (a moving number,
// as some servers print the time), first after 10 ms, then after 60 ms.
func steadyTCP(useTLS bool) func(t *testing.T) (a, b checkscript.Result) {
	return func(t *testing.T) (a, b checkscript.Result) {
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		port := strconv.Itoa(ln.Addr().(*net.TCPAddr).Port)
		if useTLS {
			cfg, err := plugintest.SelfSignedTLS("localhost", time.Now().Add(30*24*time.Hour))
			if err != nil {
				t.Fatal(err)
			}
			ln = tls.NewListener(ln, cfg)
		}
		t.Cleanup(func() { ln.Close() })
		var n atomic.Int32
		go func() {
			for {
				c, err := ln.Accept()
				if err != nil {
					return
				}
				i := n.Add(1)
				time.Sleep(time.Duration(10+50*(i-1)) * time.Millisecond)
				fmt.Fprintf(c, "220 mail.example.test ESMTP ready, session %d\r\n", 1000+i)
				_, _ = bufio.NewReader(c).ReadString('\n')
				c.Close()
			}
		}()
		args := []string{"-H", "127.0.0.1", "-p", port, "-e", "220", "-q", "QUIT", "-w", "5", "-c", "9"}
		if useTLS {
			args = append(args, "-S")
		}
		return runCheck(t, "tcp", args...), runCheck(t, "tcp", args...)
	}
}

// steadyPing pings loopback until two runs measure different round trips.
// Its thresholds are far over any round trip of a loaded machine (a reply
// can wait for its reader for tens of ms): the two runs must be in one
// state.
func steadyPing(t *testing.T) (a, b checkscript.Result) {
	args := []string{"-H", "127.0.0.1", "-w", "3000,20%", "-c", "5000,60%", "-p", "2", "-i", "20ms"}
	a = runCheck(t, "ping", args...)
	if a.Status == checkscript.Unknown {
		t.Skipf("no ICMP here: %s", a)
	}
	for range 20 {
		if b = runCheck(t, "ping", args...); b.String() != a.String() {
			break
		}
	}
	return a, b
}

// steadyDNS answers from a pool, another address and another delay each
// time.
func steadyDNS(args ...string) func(t *testing.T) (a, b checkscript.Result) {
	return func(t *testing.T) (a, b checkscript.Result) {
		var n atomic.Int32
		pc, err := net.ListenPacket("udp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		srv := &dns.Server{PacketConn: pc, Handler: dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
			m := new(dns.Msg)
			m.SetReply(r)
			if r.Question[0].Qtype == dns.TypeA {
				i := n.Add(1)
				time.Sleep(time.Duration(5+30*(i%2)) * time.Millisecond)
				rr, _ := dns.NewRR(fmt.Sprintf("pool.example.test. 60 IN A 192.0.2.%d", 10+i))
				m.Answer = append(m.Answer, rr)
			}
			_ = w.WriteMsg(m)
		})}
		go func() { _ = srv.ActivateAndServe() }()
		t.Cleanup(func() { _ = srv.Shutdown() })
		args = append([]string{"-H", "pool.example.test", "-s", pc.LocalAddr().String()}, args...)
		return runCheck(t, "dns", args...), runCheck(t, "dns", args...)
	}
}

func steadySocket(t *testing.T) (a, b checkscript.Result) {
	path := filepath.Join(t.TempDir(), "s.sock")
	consultest.Listen(t, "unix", path)
	a = runCheck(t, "socket", "-p", path, "-C")
	for range 20 {
		if b = runCheck(t, "socket", "-p", path, "-C"); b.String() != a.String() {
			break
		}
	}
	return a, b
}

func steadyDirsize(t *testing.T) (a, b checkscript.Result) {
	dir := t.TempDir()
	grow := func(n int) {
		if err := os.WriteFile(filepath.Join(dir, fmt.Sprintf("f%d", n)), make([]byte, 64<<10), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	grow(1)
	a = runCheck(t, "dirsize", "-p", dir)
	grow(2)
	return a, runCheck(t, "dirsize", "-p", dir)
}

// steadyLeader asks a stand-in of Consul's status endpoint: a leader is
// named, nothing is measured.
func steadyLeader(t *testing.T) (a, b checkscript.Result) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `"10.0.0.5:8300"`)
	}))
	t.Cleanup(srv.Close)
	return runCheck(t, "leader", "-H", srv.URL), runCheck(t, "leader", "-H", srv.URL)
}

// steadySystemd runs the probe with no bus to ask (its tests in
// systemdprobe run it against a stand-in systemd): its line names units
// and states, and counts of units by state, nothing measured.
func steadySystemd(t *testing.T) (a, b checkscript.Result) {
	t.Setenv("DBUS_SYSTEM_BUS_ADDRESS", "unix:path="+filepath.Join(t.TempDir(), "no-bus"))
	return runCheck(t, "systemd", "-u", "x.service", "-t", "2"), runCheck(t, "systemd", "-u", "x.service", "-t", "2")
}

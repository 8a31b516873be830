// Package consultest starts real Consul agents (the pinned build in bin/)
// for integration tests: single-node servers on random loopback ports, with a
// data dir and a config dir of their own, in the script-check and ACL
// configurations the tests need. Agents can be stopped, wiped and started
// again on the same ports, as an operator would.
package consultest

import (
	"crypto/rand"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"testing"
)

// Binary returns the Consul binary: $CARBONIO_HEALTH_CONSUL, else bin/consul
// at the module root. When it is missing the test fails under
// CARBONIO_HEALTH_INTEGRATION=1 (make test) and is skipped otherwise.
func Binary(t testing.TB) string {
	t.Helper()
	path := os.Getenv("CARBONIO_HEALTH_CONSUL")
	if path == "" {
		if root, err := moduleRoot(); err == nil {
			path = filepath.Join(root, "bin", "consul")
		}
	}
	if st, err := os.Stat(path); err == nil && !st.IsDir() {
		return path
	}
	msg := fmt.Sprintf("no Consul binary at %q: run `make consul`", path)
	if os.Getenv("CARBONIO_HEALTH_INTEGRATION") == "1" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// moduleRoot walks up from the working directory to go.mod.
func moduleRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("no go.mod above the working directory")
		}
		dir = parent
	}
}

// portMu serialises port picking within one test binary; across binaries
// (packages tested in parallel) the kernel's ephemeral port allocation
// makes collisions unlikely, and Start retries once on a bind failure.
var portMu sync.Mutex

// freePorts returns n distinct loopback TCP ports that were free a moment
// ago (each also free for UDP, which serf needs).
func freePorts(n int) ([]int, error) {
	portMu.Lock()
	defer portMu.Unlock()
	var ports []int
	var closers []func()
	defer func() {
		for _, c := range closers {
			c()
		}
	}()
	for len(ports) < n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("pick a port: %w", err)
		}
		closers = append(closers, func() { l.Close() })
		port := l.Addr().(*net.TCPAddr).Port
		u, err := net.ListenPacket("udp", "127.0.0.1:"+strconv.Itoa(port))
		if err != nil {
			continue // taken for UDP: try another
		}
		closers = append(closers, func() { u.Close() })
		ports = append(ports, port)
	}
	return ports, nil
}

// uuid returns a random RFC 4122 version 4 UUID, the token format Consul
// expects.
func uuid() string {
	var b [16]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:16])
}

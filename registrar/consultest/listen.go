package consultest

import (
	"net"
	"testing"
)

// Listen opens a listener that accepts and closes every connection until
// the test ends: network "tcp" with address "" for a free loopback port (or
// "127.0.0.1:port" to take one back), or "unix" with a socket path. It
// stands in for the endpoints the checks look at.
func Listen(t testing.TB, network, address string) net.Listener {
	t.Helper()
	if network == "tcp" && address == "" {
		address = "127.0.0.1:0"
	}
	l, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	Serve(l)
	return l
}

// Serve accepts and closes every connection of l, in a goroutine, until l
// is closed: Listen's loop, for listeners whose lifetime is not one test's
// (a fixture shared by a package's tests).
func Serve(l net.Listener) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
}

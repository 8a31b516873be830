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
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			_ = c.Close()
		}
	}()
	return l
}

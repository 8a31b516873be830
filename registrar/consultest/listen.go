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
	return ListenFunc(t, network, address, closeConn)
}

// ListenFunc is Listen with handle run on every connection accepted, one
// after the other in the accepting goroutine; handle owns the connection
// (closes it, or keeps it open to stand in for a peer that never answers).
func ListenFunc(t testing.TB, network, address string, handle func(net.Conn)) net.Listener {
	t.Helper()
	if network == "tcp" && address == "" {
		address = "127.0.0.1:0"
	}
	l, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = l.Close() })
	ServeFunc(l, handle)
	return l
}

// Serve accepts and closes every connection of l, in a goroutine, until l
// is closed: Listen's loop, for listeners whose lifetime is not one test's
// (a fixture shared by a package's tests).
func Serve(l net.Listener) { ServeFunc(l, closeConn) }

// ServeFunc accepts every connection of l and hands it to handle, in a
// goroutine, until l is closed.
func ServeFunc(l net.Listener, handle func(net.Conn)) {
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			handle(c)
		}
	}()
}

func closeConn(c net.Conn) { _ = c.Close() }

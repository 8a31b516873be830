package checkscript

import (
	"net"
	"sync"
	"testing"
	"time"
)

// The test servers of the probes' tests: TCP and unix listeners whose
// connections a handler answers (or not).

// listen opens a listener, failing the test on error.
func listen(t testing.TB, network, address string) net.Listener {
	t.Helper()
	ln, err := net.Listen(network, address)
	if err != nil {
		t.Fatal(err)
	}
	return ln
}

// serveConns runs handler for every connection to ln, each on its own goroutine
// with a 5 s deadline, and closes the connection when handler returns. When
// the test ends ln is closed and the handlers are waited for.
func serveConns(t testing.TB, ln net.Listener, handler func(net.Conn)) {
	var wg sync.WaitGroup
	t.Cleanup(func() { _ = ln.Close(); wg.Wait() })
	wg.Add(1)
	go func() {
		defer wg.Done()
		for {
			conn, err := ln.Accept()
			if err != nil {
				return
			}
			wg.Add(1)
			go func() {
				defer wg.Done()
				defer func() { _ = conn.Close() }()
				_ = conn.SetDeadline(time.Now().Add(5 * time.Second))
				handler(conn)
			}()
		}
	}()
}

// hangUp is the handler that closes every connection at once.
func hangUp(net.Conn) {}

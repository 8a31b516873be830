package registrar

import (
	"context"
	"fmt"
	"net"
	"os"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// flapDecl declares one socket TTL check on sock, evaluated every
// interval, with the damping counts given ("" for the defaults).
func flapDecl(sock string, interval time.Duration, damping string) string {
	return fmt.Sprintf(`
role "t" {
  service "sock" {
    check "present" {
      type     = "ttl"
      probe    = "socket"
      args     = { p = %q }
      interval = %q
      %s
    }
  }
}
node { roles = ["t"] }
`, sock, interval.String(), damping)
}

// flapSocket makes sock go away and come back every period until ctx ends
// (down half of it, up the other half). It then leaves the socket up and
// sends its listener on the channel returned, for the caller to close.
func flapSocket(ctx context.Context, t testing.TB, sock string, period time.Duration) <-chan net.Listener {
	last := make(chan net.Listener, 1)
	go func() {
		defer close(last)
		for {
			l, err := net.Listen("unix", sock)
			if err != nil {
				t.Error(err)
				return
			}
			consultest.Serve(l)
			select {
			case <-ctx.Done():
				last <- l
				return
			case <-time.After(period / 2):
			}
			l.Close()
			os.Remove(sock)
			time.Sleep(period / 2)
		}
	}()
	return last
}

// TestDampingSocketFlaps: with the defaults a socket that goes away is
// critical at once; while it flaps faster than the check's interval it
// stays critical (no pass between two failures, so no catalog write per
// flap); once it stays up for an interval the check passes again.
func TestDampingSocketFlaps(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, false)
	load, _ := declDir(t, flapDecl(n.sock, 2*time.Second, ""))
	startDaemon(t, &Daemon{Client: n.client, Log: testLogger(t), Load: load})
	waitCheck(t, n.client, sockChk, api.HealthCritical, "is not present")
	up := consultest.Listen(t, "unix", n.sock)
	waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
	up.Close()
	os.Remove(n.sock)
	waitCheck(t, n.client, sockChk, api.HealthCritical, "is not present")

	ctx, stop := context.WithCancel(context.Background())
	flapping := flapSocket(ctx, t, n.sock, 200*time.Millisecond)
	end := time.Now().Add(3 * time.Second)
	for time.Now().Before(end) {
		if st, out := checkStatus(t, n.client, sockChk); st != api.HealthCritical {
			t.Fatalf("a flapping socket turned %s: %s", st, out)
		}
		time.Sleep(50 * time.Millisecond)
	}
	stop()
	if l := <-flapping; l != nil {
		t.Cleanup(func() { l.Close() })
	}
	steady := time.Now()
	back := waitCheck(t, n.client, sockChk, api.HealthPassing, "is present")
	t.Logf("flapping every 200 ms for 3 s: critical throughout; passing %v after it stayed up (interval 2 s, success_before_passing 2)",
		back.Sub(steady).Round(time.Millisecond))
}

package realnode

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// The host side of the node's one network link. The node's agent joins a
// Consul server on the host: the server binds an address of an interface
// of its own (so it outlives the node's reboots, which take the node's veth
// link away; the kernel here has no dummy interfaces, so it is one end of a
// veth pair whose other end stays on the host), and the node reaches it
// over its veth link, in the same /24:
//
//	host: chsrv<N> 10.222.N.1/32, ve-<node> 10.222.N.254/24
//	node: host0 10.222.N.2/24 (node-net.service, from /etc/node-net.env)
//
// N is picked free at each run. The server interface's alias names the
// test process that made it; one whose process is gone (a run that was
// killed) is removed by the next run.
type hostNet struct {
	// Dummy is the interface holding ServerIP.
	Dummy string
	// ServerIP is the Consul server's address; NodeIP the node's, HostIP
	// the host end of the veth link; Prefix the /24 they share (10.222.N.).
	ServerIP, NodeIP, HostIP, Prefix string
}

// aliasPrefix marks the dummy interfaces of these tests.
const aliasPrefix = "carbonio-health realnode test, pid "

// newHostNet removes what killed runs left and creates the dummy interface
// (a veth pair) on a free /24.
func newHostNet() (*hostNet, error) {
	removeStaleLinks()
	used := map[string]bool{}
	if addrs, err := net.InterfaceAddrs(); err == nil {
		for _, a := range addrs {
			used[strings.Split(a.String(), "/")[0]] = true
		}
	}
	for n := 1 + os.Getpid()%200; n < 250; n++ {
		prefix := fmt.Sprintf("10.222.%d.", n)
		dummy := fmt.Sprintf("chsrv%d", n)
		if used[prefix+"1"] || used[prefix+"254"] || linkExists(dummy) {
			continue
		}
		h := &hostNet{Dummy: dummy, ServerIP: prefix + "1", NodeIP: prefix + "2", HostIP: prefix + "254", Prefix: prefix}
		for _, args := range [][]string{
			{"link", "add", dummy, "type", "veth", "peer", "name", dummy + "p"},
			{"link", "set", dummy + "p", "up"},
			{"link", "set", "dev", dummy, "alias", aliasPrefix + strconv.Itoa(os.Getpid())},
			{"addr", "add", h.ServerIP + "/32", "dev", dummy},
			{"link", "set", dummy, "up"},
		} {
			if err := ip(args...); err != nil {
				h.Close()
				return nil, err
			}
		}
		return h, nil
	}
	return nil, fmt.Errorf("no free 10.222.N.0/24 for the node's link")
}

// attach configures the host end of the node's veth link once
// systemd-nspawn has made it.
func (h *hostNet) attach(ctx context.Context, link string) error {
	for !linkExists(link) {
		select {
		case <-ctx.Done():
			return fmt.Errorf("no link %s on the host: %w", link, ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
	if err := ip("addr", "replace", h.HostIP+"/24", "dev", link); err != nil {
		return err
	}
	return ip("link", "set", link, "up")
}

// Close removes the server's interface (both ends).
func (h *hostNet) Close() {
	_ = ip("link", "del", h.Dummy)
}

// removeStaleLinks removes the server interfaces of test processes that
// are gone.
func removeStaleLinks() {
	links, _ := filepath.Glob("/sys/class/net/chsrv*[0-9]")
	for _, l := range links {
		b, _ := os.ReadFile(filepath.Join(l, "ifalias"))
		pid, err := strconv.Atoi(strings.TrimPrefix(strings.TrimSpace(string(b)), aliasPrefix))
		if !strings.HasPrefix(string(b), aliasPrefix) || err != nil {
			continue
		}
		if syscall.Kill(pid, 0) == syscall.ESRCH {
			_ = ip("link", "del", filepath.Base(l))
		}
	}
}

func linkExists(name string) bool {
	_, err := os.Stat(filepath.Join("/sys/class/net", name))
	return err == nil
}

// ip runs iproute2's ip.
func ip(args ...string) error {
	out, err := exec.Command("ip", args...).CombinedOutput()
	if err != nil {
		return fmt.Errorf("ip %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(string(out)))
	}
	return nil
}

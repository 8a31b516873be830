package realnode

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"time"
)

// Node is a Debian 12 root filesystem (make node: bin/node) booted with
// systemd as PID 1 under systemd-nspawn, on a throwaway overlay of its own.
//
// Lifetime: Boot mounts the overlay (the layers read-only below, Dir/upper
// above) in a private mount namespace and starts systemd-nspawn there,
// itself in a new PID namespace whose init is `unshare --kill-child`: when
// the test process dies, however it dies, that unshare gets SIGKILL (its
// Pdeathsig), which kills every process of the node, and the mount and the
// veth link go with their namespaces. Poweroff shuts the node down cleanly
// and keeps Dir/upper, so Boot starts the same node again (a reboot); Close
// powers off and removes Dir.
//
// The node reaches the host through one veth link (--network-veth, so a
// private network: its listeners never land on the host's ports); the host
// side is configured by Boot from Net.
type Node struct {
	// Name is the machine name (and the host side of the link, ve-Name).
	Name string
	// Dir holds upper/ (the node's writes), work/, root/ (the mount
	// point) and console.log (the container's console).
	Dir string
	// Layers are the read-only root filesystem layers, top first.
	Layers []string
	// Binds are host paths bound read-only into the node: host path →
	// path in the node.
	Binds map[string]string
	// Net is the link's addressing.
	Net *hostNet

	mu     sync.Mutex
	cmd    *exec.Cmd
	pid    int // the node's PID 1, as the host sees it
	exited chan struct{}
}

// bootTimeout bounds a boot to is-system-running (the budget is 15 s; this
// catches a hang on a loaded machine, it is not a timing claim).
const bootTimeout = 3 * time.Minute

// Boot starts the node and returns when systemd says the boot finished
// (is-system-running: running or degraded), with how long that took from
// the start of systemd-nspawn and what systemd answered.
func (n *Node) Boot(ctx context.Context) (time.Duration, string, error) {
	start := time.Now()
	if err := n.Start(ctx); err != nil {
		return 0, "", err
	}
	ctx, cancel := context.WithTimeout(ctx, bootTimeout)
	defer cancel()
	state, err := n.waitBooted(ctx)
	if err != nil {
		return 0, "", n.failed(err)
	}
	return time.Since(start), state, nil
}

// Start starts the node and returns once its systemd runs and its link is
// configured on the host, without waiting for the boot to finish.
func (n *Node) Start(ctx context.Context) error {
	n.mu.Lock()
	if n.cmd != nil {
		n.mu.Unlock()
		return fmt.Errorf("node %s is running", n.Name)
	}
	for _, d := range []string{"upper", "work", "root"} {
		if err := os.MkdirAll(filepath.Join(n.Dir, d), 0o755); err != nil {
			n.mu.Unlock()
			return err
		}
	}
	console, err := os.OpenFile(filepath.Join(n.Dir, "console.log"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		n.mu.Unlock()
		return err
	}
	fmt.Fprintf(console, "==== boot %s\n", time.Now().Format(time.RFC3339Nano))
	args := []string{"systemd-nspawn", "-D", filepath.Join(n.Dir, "root"), "-M", n.Name, "-b",
		"--register=no", "--keep-unit", "--network-veth", "--console=passive", "--resolv-conf=delete"}
	for host, in := range n.Binds {
		args = append(args, "--bind-ro="+host+":"+in)
	}
	mount := fmt.Sprintf("mount -t overlay overlay -o lowerdir=%s,upperdir=%s,workdir=%s %s",
		strings.Join(n.Layers, ":"), filepath.Join(n.Dir, "upper"), filepath.Join(n.Dir, "work"), filepath.Join(n.Dir, "root"))
	cmd := exec.Command("unshare", "--mount", "--propagation", "private", "--pid", "--fork", "--kill-child", "--mount-proc",
		"sh", "-c", mount+` && exec "$@"`, "node")
	cmd.Args = append(cmd.Args, args...)
	cmd.Stdout, cmd.Stderr = console, console
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	exited := make(chan struct{})
	started := make(chan error, 1)
	go func() {
		// The kernel sends Pdeathsig when the thread that started the
		// process ends, not the process: keep this one for the node's life.
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		err := cmd.Start()
		started <- err
		if err != nil {
			return
		}
		_ = cmd.Wait()
		console.Close()
		close(exited)
	}()
	if err := <-started; err != nil {
		console.Close()
		n.mu.Unlock()
		return fmt.Errorf("start node %s: %w", n.Name, err)
	}
	n.cmd, n.exited = cmd, exited
	n.mu.Unlock()

	ctx, cancel := context.WithTimeout(ctx, bootTimeout)
	defer cancel()
	pid, err := n.findInit(ctx, cmd.Process.Pid)
	if err != nil {
		return n.failed(err)
	}
	n.mu.Lock()
	n.pid = pid
	n.mu.Unlock()
	if err := n.Net.attach(ctx, "ve-"+n.Name); err != nil {
		return n.failed(err)
	}
	return nil
}

// failed adds the end of the console to a boot error.
func (n *Node) failed(err error) error {
	b, _ := os.ReadFile(filepath.Join(n.Dir, "console.log"))
	if len(b) > 3000 {
		b = b[len(b)-3000:]
	}
	return fmt.Errorf("node %s: %w\nconsole:\n%s", n.Name, err, b)
}

// findInit finds the node's systemd: the child of systemd-nspawn, which is
// the child of the sh that unshare forked.
func (n *Node) findInit(ctx context.Context, unsharePid int) (int, error) {
	for {
		for _, nspawn := range descendants(unsharePid) {
			if comm(nspawn) != "systemd-nspawn" {
				continue
			}
			for _, c := range children(nspawn) {
				if comm(c) == "systemd" {
					return c, nil
				}
			}
		}
		select {
		case <-n.exited:
			return 0, errors.New("systemd-nspawn exited")
		case <-ctx.Done():
			return 0, fmt.Errorf("no systemd in the node: %w", ctx.Err())
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// waitBooted waits until systemd finished booting and returns its state.
func (n *Node) waitBooted(ctx context.Context) (string, error) {
	for {
		out, _ := n.Exec(ctx, "systemctl", "is-system-running", "--wait")
		state := strings.TrimSpace(out)
		switch state {
		case "running", "degraded":
			return state, nil
		}
		select {
		case <-n.exited:
			return "", errors.New("the node stopped while booting")
		case <-ctx.Done():
			return "", fmt.Errorf("boot did not finish (is-system-running: %q): %w", state, ctx.Err())
		case <-time.After(100 * time.Millisecond):
		}
	}
}

// PID is the node's PID 1 as the host sees it (0 when it is not running).
func (n *Node) PID() int {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.pid
}

// Running reports whether the node runs.
func (n *Node) Running() bool {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.cmd != nil
}

// Exec runs a command inside the node (every namespace of its PID 1, as
// root, with a plain environment) and returns its combined output.
func (n *Node) Exec(ctx context.Context, args ...string) (string, error) {
	return n.ExecInput(ctx, "", args...)
}

// ExecInput is Exec with stdin.
func (n *Node) ExecInput(ctx context.Context, stdin string, args ...string) (string, error) {
	pid := n.PID()
	if pid == 0 {
		return "", fmt.Errorf("node %s is not running", n.Name)
	}
	cmd := exec.CommandContext(ctx, "nsenter", append([]string{"-t", strconv.Itoa(pid), "-a", "--"}, args...)...)
	cmd.Env = []string{"PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin", "LANG=C.UTF-8", "HOME=/root", "TERM=dumb"}
	cmd.Stdin = strings.NewReader(stdin)
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &out
	err := cmd.Run()
	if err != nil {
		err = fmt.Errorf("in node %s: %s: %w\n%s", n.Name, strings.Join(args, " "), err, out.String())
	}
	return out.String(), err
}

// Sh runs a shell command line inside the node.
func (n *Node) Sh(ctx context.Context, script string) (string, error) {
	return n.Exec(ctx, "sh", "-c", script)
}

// HostPath is where a path of the node's root is seen from the host.
func (n *Node) HostPath(p string) string {
	return fmt.Sprintf("/proc/%d/root%s", n.PID(), p)
}

// Poweroff shuts the node down (systemctl poweroff) and waits for it,
// killing it after the grace time. Its writes stay for the next Boot.
func (n *Node) Poweroff(grace time.Duration) (time.Duration, error) {
	n.mu.Lock()
	cmd, exited := n.cmd, n.exited
	n.mu.Unlock()
	if cmd == nil {
		return 0, nil
	}
	start := time.Now()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	_, _ = n.Exec(ctx, "systemctl", "--no-block", "poweroff")
	cancel()
	var err error
	select {
	case <-exited:
	case <-time.After(grace):
		err = fmt.Errorf("node %s did not power off within %s: killed", n.Name, grace)
		_ = syscall.Kill(-cmd.Process.Pid, syscall.SIGKILL)
		<-exited
	}
	n.mu.Lock()
	n.cmd, n.exited, n.pid = nil, nil, 0
	n.mu.Unlock()
	return time.Since(start), err
}

// Close powers the node off and removes its folder (its writes).
func (n *Node) Close() error {
	_, err := n.Poweroff(time.Minute)
	if rmErr := os.RemoveAll(n.Dir); err == nil {
		err = rmErr
	}
	return err
}

// children lists the child processes of pid.
func children(pid int) []int {
	var out []int
	tasks, _ := filepath.Glob(fmt.Sprintf("/proc/%d/task/*/children", pid))
	for _, t := range tasks {
		b, _ := os.ReadFile(t)
		for _, f := range strings.Fields(string(b)) {
			if c, err := strconv.Atoi(f); err == nil {
				out = append(out, c)
			}
		}
	}
	return out
}

// descendants lists pid's children and theirs, two levels down.
func descendants(pid int) []int {
	var out []int
	for _, c := range children(pid) {
		out = append(out, c)
		out = append(out, children(c)...)
	}
	return out
}

// comm is a process's command name.
func comm(pid int) string {
	b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/comm", pid))
	return strings.TrimSpace(string(b))
}

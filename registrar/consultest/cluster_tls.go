package consultest

import (
	"bytes"
	"fmt"
	"os/exec"
	"path/filepath"
	"strings"
)

// clusterSecrets are the cluster-wide files and keys a Carbonio cluster
// shares, made with the consul CLI as Carbonio's setup does.
type clusterSecrets struct {
	// CAFile is the CA certificate (consul tls ca create).
	CAFile string
	// ServerCert and ServerKey are a server certificate for
	// server.<dc>.consul (consul tls cert create -server), used by every
	// server (verify_server_hostname checks that name, not the address).
	ServerCert, ServerKey string
	// GossipKey is the serf encryption key (consul keygen).
	GossipKey string
}

// makeSecrets runs `consul tls ca create`, `consul tls cert create -server`
// and `consul keygen` in dir. ips are added to the server certificate so a
// client that checks addresses also accepts it.
func makeSecrets(bin, dir, dc string, ips []string) (clusterSecrets, error) {
	var s clusterSecrets
	if _, err := consulCLI(bin, dir, "tls", "ca", "create", "-days", "30"); err != nil {
		return s, err
	}
	args := []string{"tls", "cert", "create", "-server", "-dc", dc, "-days", "30"}
	for _, ip := range ips {
		args = append(args, "-additional-ipaddress", ip)
	}
	if _, err := consulCLI(bin, dir, args...); err != nil {
		return s, err
	}
	key, err := consulCLI(bin, dir, "keygen")
	if err != nil {
		return s, err
	}
	s.CAFile = filepath.Join(dir, "consul-agent-ca.pem")
	s.ServerCert = filepath.Join(dir, dc+"-server-consul-0.pem")
	s.ServerKey = filepath.Join(dir, dc+"-server-consul-0-key.pem")
	s.GossipKey = strings.TrimSpace(key)
	return s, nil
}

// consulCLI runs the consul binary in dir and returns its stdout.
func consulCLI(bin, dir string, args ...string) (string, error) {
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	if err := cmd.Run(); err != nil {
		return "", fmt.Errorf("consul %s: %w: %s", strings.Join(args, " "), err, strings.TrimSpace(errb.String()))
	}
	return out.String(), nil
}

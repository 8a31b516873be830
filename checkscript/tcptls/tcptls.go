// Package tcptls is the TLS half of the tcp probe (-S, --sni, -D) over
// crypto/tls: a package of its own so that carbonio-health-check, which
// runs the light probes, does not link and initialise crypto/tls at every
// exec.
package tcptls

import (
	"context"
	"crypto/tls"
	"net"

	"github.com/zextras/carbonio-health/checkscript"
)

// TCP is the tcp probe with TLS: its entry in the registry of every probe
// (allprobes.Registry), in place of checkscript.Light's.
var TCP = checkscript.TCPProbe(Client)

// Client is a checkscript.TLSClient over crypto/tls.
func Client(ctx context.Context, raw net.Conn, serverName string) (net.Conn, *checkscript.LeafCert, error) {
	cfg := &tls.Config{
		// check_tcp does not verify the chain either: it checks that TLS
		// works and, with -D, how long the certificate stays valid.
		InsecureSkipVerify: true, //nolint:gosec // monitoring probe, see above
		ServerName:         serverName,
	}
	tc := tls.Client(raw, cfg)
	if err := tc.HandshakeContext(ctx); err != nil {
		return nil, nil, err
	}
	certs := tc.ConnectionState().PeerCertificates
	if len(certs) == 0 {
		return tc, nil, nil
	}
	return tc, &checkscript.LeafCert{CommonName: certs[0].Subject.CommonName, NotAfter: certs[0].NotAfter}, nil
}

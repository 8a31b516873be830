package checkscript

import (
	"strings"
	"testing"
)

// testTLS is tcptls.Client, given by tls_client_test.go; testProbes is
// Light with the tcp probe over it, as allprobes.Registry holds it.
var (
	testTLS    TLSClient
	testProbes = Light
)

// UseTLSClient makes the tests' tcp probe speak TLS through client.
func UseTLSClient(client TLSClient) bool {
	testTLS = client
	testProbes = Light.With(Registry{"tcp": TCPProbe(client)})
	return true
}

// TestLightTCPRefusesTLS: Light's tcp, which carbonio-health-check runs,
// refuses the TLS flags with a message naming the binary that has them.
func TestLightTCPRefusesTLS(t *testing.T) {
	for _, args := range [][]string{{"-S"}, {"--ssl"}, {"--sni", "h.test"}, {"-D", "5"}} {
		_, err := Light.New("tcp", append([]string{"-H", "h", "-p", "443"}, args...))
		if err == nil || !strings.Contains(err.Error(), "carbonio-health check tcp") {
			t.Errorf("Light tcp %q: error %v", args, err)
		}
		if _, err := testProbes.New("tcp", append([]string{"-H", "h", "-p", "443"}, args...)); err != nil {
			t.Errorf("tcp with TLS %q: %v", args, err)
		}
	}
}

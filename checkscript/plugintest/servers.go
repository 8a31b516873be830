package plugintest

import (
	"bufio"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"fmt"
	"math/big"
	"net"
	"strconv"
	"strings"
	"time"

	"github.com/miekg/dns"
)

// The names the sandbox's DNS server knows: check_dns.t's defaults, and a
// name with two addresses and one with an IPv6 address.
const (
	ValidName    = "monitoring-plugins.org"
	ValidIP      = "130.133.8.40"
	ValidReverse = "orwell.monitoring-plugins.org."
	InvalidName  = "nosuchhost.altinity.com"
	PoolName     = "pool.example.test" // 192.0.2.10 and 192.0.2.11
	DualName     = "dual.example.test" // 192.0.2.1 and 2001:db8::1
	EmptyName    = "empty.example.test"
	LocalName    = "localhost"
)

// zone answers the sandbox's queries; any other name is NXDOMAIN.
var zone = map[string][]string{
	ValidName + ".":                   {ValidName + ". 300 IN A " + ValidIP},
	"40.8.133.130.in-addr.arpa.":      {"40.8.133.130.in-addr.arpa. 300 IN PTR " + ValidReverse},
	PoolName + ".":                    {PoolName + ". 60 IN A 192.0.2.11", PoolName + ". 60 IN A 192.0.2.10"},
	DualName + ".":                    {DualName + ". 60 IN A 192.0.2.1", DualName + ". 60 IN AAAA 2001:db8::1"},
	EmptyName + ".":                   {},
	LocalName + ".":                   {"localhost. 60 IN A 127.0.0.1"},
	"1.0.0.127.in-addr.arpa.":         {"1.0.0.127.in-addr.arpa. 60 IN PTR localhost."},
	"www.heise.de.":                   {"www.heise.de. 60 IN AAAA ::1"},
	"dns.example.test.":               {"dns.example.test. 60 IN A 127.0.0.1"},
	"slow.example.test.":              {"slow.example.test. 60 IN A 192.0.2.30"},
	"authoritative.example.test.":     {"authoritative.example.test. 60 IN A 192.0.2.40"},
	"non-authoritative.example.test.": {"non-authoritative.example.test. 60 IN A 192.0.2.41"},
}

// startDNS serves zone on 127.0.0.1:53, UDP and TCP, authoritative for
// every name but non-authoritative.example.test; slow.example.test answers
// after 1.5 s.
func startDNS() error {
	handler := dns.HandlerFunc(func(w dns.ResponseWriter, r *dns.Msg) {
		m := new(dns.Msg)
		m.SetReply(r)
		q := r.Question[0]
		name := strings.ToLower(q.Name)
		rrs, ok := zone[name]
		m.Authoritative = name != "non-authoritative.example.test."
		if !ok {
			m.Rcode = dns.RcodeNameError
		}
		if name == "slow.example.test." {
			time.Sleep(1500 * time.Millisecond)
		}
		for _, s := range rrs {
			rr, err := dns.NewRR(s)
			if err == nil && rr.Header().Rrtype == q.Qtype {
				m.Answer = append(m.Answer, rr)
			}
		}
		_ = w.WriteMsg(m)
	})
	pc, err := net.ListenPacket("udp", "127.0.0.1:53")
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", "127.0.0.1:53")
	if err != nil {
		return err
	}
	for _, s := range []*dns.Server{{PacketConn: pc, Handler: handler}, {Listener: ln, Handler: handler}} {
		started := make(chan struct{})
		s.NotifyStartedFunc = func() { close(started) }
		go func() { _ = s.ActivateAndServe() }()
		select {
		case <-started:
		case <-time.After(5 * time.Second):
			return fmt.Errorf("the sandbox's DNS server did not start")
		}
	}
	return nil
}

// startHTTP answers every request on 127.0.0.1:port (and [::1]:port) with
// a small HTTP response, as check_tcp.t's web server.
func startHTTP(port int) error {
	serve := func(c net.Conn) {
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		r := bufio.NewReader(c)
		for {
			line, err := r.ReadString('\n')
			if err != nil || strings.TrimSpace(line) == "" {
				break
			}
		}
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\nContent-Length: 2\r\nConnection: close\r\n\r\nok"))
	}
	for _, addr := range []string{"127.0.0.1", "::1"} {
		ln, err := net.Listen("tcp", net.JoinHostPort(addr, strconv.Itoa(port)))
		if err != nil {
			if addr == "::1" {
				continue // no IPv6 loopback: check_tcp.t skips its IPv6 cases too
			}
			return err
		}
		go accept(ln, serve)
	}
	return nil
}

// startTLS serves TLS on 127.0.0.1:port with a self-signed certificate for
// localhost valid 365 days, and answers as startHTTP.
func startTLS(port int) error {
	cfg, err := SelfSignedTLS("localhost", time.Now().Add(365*24*time.Hour))
	if err != nil {
		return err
	}
	ln, err := net.Listen("tcp", net.JoinHostPort("127.0.0.1", strconv.Itoa(port)))
	if err != nil {
		return err
	}
	go accept(tls.NewListener(ln, cfg), func(c net.Conn) {
		defer c.Close()
		_ = c.SetDeadline(time.Now().Add(10 * time.Second))
		_, _ = bufio.NewReader(c).ReadString('\n')
		_, _ = c.Write([]byte("HTTP/1.1 200 OK\r\n\r\n"))
	})
	return nil
}

// SelfSignedTLS is a server configuration with a fresh self-signed
// certificate for cn that expires at notAfter.
func SelfSignedTLS(cn string, notAfter time.Time) (*tls.Config, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: cn},
		DNSNames:     []string{cn},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     notAfter,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, err
	}
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}}, nil
}

func accept(ln net.Listener, serve func(net.Conn)) {
	for {
		c, err := ln.Accept()
		if err != nil {
			return
		}
		go serve(c)
	}
}

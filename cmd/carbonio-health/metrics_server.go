package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"
	"github.com/prometheus/exporter-toolkit/web"

	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/metrics"
)

// DefaultMetricsAddr is where `run` serves /metrics unless -metrics-addr
// says otherwise (empty: no endpoint): every address of the node, as
// Carbonio's other exporters listen, so that its Prometheus, on another
// node, reaches it at the address it finds in Consul. The unit and the
// README state the same value (TestMetricsAddrStatedOnce).
const DefaultMetricsAddr = ":9171"

// metricsServer is the -metrics-addr endpoint of `run`.
type metricsServer struct {
	collector *metrics.Collector
	exporter  registrar.Exporter
	srv       *http.Server
	ln        net.Listener
	// webConfig is -web.config.file ("": plain HTTP, no authentication).
	webConfig string
}

// listenMetrics checks webConfig and binds addr before the daemon starts,
// so that a bad web config or a taken port fails `run` at once, and so that
// port 0 gives the port that is then registered.
func listenMetrics(addr, webConfig string, log hclog.Logger) (*metricsServer, error) {
	if webConfig != "" {
		protected, err := checkWebConfig(webConfig)
		if err != nil {
			return nil, fmt.Errorf("-web.config.file: %w", err)
		}
		if !protected {
			log.Warn("the web config sets neither TLS nor basic_auth_users: /metrics is open to anyone who reaches it", "web_config_file", webConfig)
		}
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	exp, err := registrar.ExporterAt(ln.Addr())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	m := &metricsServer{collector: metrics.New(version), exporter: exp, ln: ln, webConfig: webConfig}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.collector.Handler())
	// The server's own errors (a client's failed TLS handshake, …) go to
	// the daemon's log at debug level, not to stderr unformatted.
	errLog := log.StandardLogger(&hclog.StandardLoggerOptions{ForceLevel: hclog.Debug})
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second, ErrorLog: errLog}
	return m, nil
}

// serve answers scrapes until ctx ends, through exporter-toolkit's server:
// TLS and basic auth as the web config says, the file re-read at each new
// connection (a certificate renewed, a user added); a file that went bad
// since the start refuses requests, it never serves them unprotected.
func (m *metricsServer) serve(ctx context.Context, log hclog.Logger) {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.srv.Shutdown(sctx)
	}()
	log.Info("serving metrics", "address", m.ln.Addr().String(), "path", "/metrics", "web_config_file", m.webConfig)
	noSocket := false
	flags := &web.FlagConfig{WebListenAddresses: &[]string{m.ln.Addr().String()}, WebSystemdSocket: &noSocket, WebConfigFile: &m.webConfig}
	if err := web.Serve(m.ln, m.srv, flags, newSlog(log)); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics endpoint stopped", "error", err)
	}
}

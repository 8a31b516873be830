package main

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/registrar"
	"github.com/zextras/carbonio-health/registrar/metrics"
)

// metricsServer is the -metrics-addr endpoint of `run`.
type metricsServer struct {
	collector *metrics.Collector
	exporter  registrar.Exporter
	srv       *http.Server
	ln        net.Listener
}

// listenMetrics binds addr before the daemon starts, so a taken port fails
// `run` at once, and so port 0 gives the port that is then registered.
func listenMetrics(addr string) (*metricsServer, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	exp, err := registrar.ExporterAt(ln.Addr())
	if err != nil {
		ln.Close()
		return nil, fmt.Errorf("-metrics-addr: %w", err)
	}
	m := &metricsServer{collector: metrics.New(version), exporter: exp, ln: ln}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.collector.Handler())
	m.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	return m, nil
}

// serve answers scrapes until ctx ends.
func (m *metricsServer) serve(ctx context.Context, log hclog.Logger) {
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = m.srv.Shutdown(sctx)
	}()
	log.Info("serving metrics", "address", m.ln.Addr().String(), "path", "/metrics")
	if err := m.srv.Serve(m.ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
		log.Error("metrics endpoint stopped", "error", err)
	}
}

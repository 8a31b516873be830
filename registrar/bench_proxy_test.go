package registrar

import (
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/hcl"
)

// countingProxy sits between the daemon and the agent and counts the HTTP
// calls by kind, so benchmarks report agent calls measured on the wire.
type countingProxy struct {
	srv    *httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

func newCountingProxy(tb testing.TB, agentAddr string) *countingProxy {
	tb.Helper()
	target, err := url.Parse("http://" + agentAddr)
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{counts: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.ErrorLog = log.New(io.Discard, "", 0) // a call cut by its context is the caller's business
	p.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[callKind(r)]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.srv.Close)
	return p
}

// callKind names a call: register, deregister, ttl-update, reload, watch
// (a blocking query of the NodeWatch), leader (/v1/status/leader), read.
func callKind(r *http.Request) string {
	switch {
	case strings.HasPrefix(r.URL.Path, "/v1/agent/service/register"):
		return "register"
	case strings.HasPrefix(r.URL.Path, "/v1/agent/service/deregister"):
		return "deregister"
	case strings.HasPrefix(r.URL.Path, "/v1/agent/check/update"):
		return "ttl-update"
	case strings.HasPrefix(r.URL.Path, "/v1/agent/reload"):
		return "reload"
	case strings.HasPrefix(r.URL.Path, "/v1/catalog/node-services/"), strings.HasPrefix(r.URL.Path, "/v1/health/node/"):
		return "watch"
	case r.URL.Path == "/v1/status/leader":
		return "leader"
	default:
		return "read"
	}
}

// URL is the proxy's address for api.Config.
func (p *countingProxy) URL() string { return strings.TrimPrefix(p.srv.URL, "http://") }

// Count returns the number of calls of one kind.
func (p *countingProxy) Count(kind string) int {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.counts[kind]
}

// Total returns every call counted.
func (p *countingProxy) Total() int {
	p.mu.Lock()
	defer p.mu.Unlock()
	n := 0
	for _, c := range p.counts {
		n += c
	}
	return n
}

// Reset zeroes the counters.
func (p *countingProxy) Reset() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.counts = map[string]int{}
}

// clientFor returns an API client for addr with no token.
func clientFor(tb testing.TB, addr string) *api.Client {
	tb.Helper()
	cfg := api.DefaultNonPooledConfig()
	cfg.Address, cfg.Token, cfg.TokenFile = addr, "", ""
	c, err := api.NewClient(cfg)
	if err != nil {
		tb.Fatal(err)
	}
	return c
}

// hclLoader loads dir without the built-in catalog.
func hclLoader(dir string) func() (*hcl.Plan, error) {
	opts := hcl.Options{NoBuiltin: true, ConfigDirs: []string{dir}}
	return func() (*hcl.Plan, error) { return hcl.Load(opts) }
}

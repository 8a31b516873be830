package registrar

import (
	"net"
	"strconv"

	"github.com/hashicorp/consul/api"
)

// The daemon's own metrics endpoint, registered the way Carbonio's
// exporters are: service ExporterName tagged ExporterTag (what Carbonio's
// Prometheus selects with consul_sd_configs), the port also in Meta
// MetaPromPort (some of its jobs take the scrape port from there), no checks.
const (
	ExporterName = "carbonio-health"
	ExporterTag  = "prometheus-exporter"
	MetaPromPort = "prom_port"
)

// Exporter is where the daemon serves /metrics.
type Exporter struct {
	// Address is the listening host; empty (the node's address in Consul)
	// when the daemon listens on every address.
	Address string
	// Port is the listening port.
	Port int
}

// ExporterAt returns the Exporter of a listener's address (host:port).
func ExporterAt(addr net.Addr) (Exporter, error) {
	host, port, err := net.SplitHostPort(addr.String())
	if err != nil {
		return Exporter{}, err
	}
	p, err := strconv.Atoi(port)
	if err != nil {
		return Exporter{}, err
	}
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		host = ""
	}
	return Exporter{Address: host, Port: p}, nil
}

// exporterService is the registration of the metrics endpoint, owned like
// every other service (Meta managed-by, hash), so reconcile, deregister and
// the ownership rules apply to it unchanged.
func exporterService(e Exporter) ServiceState {
	reg := &api.AgentServiceRegistration{
		ID:      ExporterName,
		Name:    ExporterName,
		Tags:    []string{ExporterTag},
		Port:    e.Port,
		Address: e.Address,
		Meta: map[string]string{
			MetaManagedBy: ManagedBy,
			MetaPromPort:  strconv.Itoa(e.Port),
			"description": "carbonio-health metrics (/metrics) for Prometheus",
		},
	}
	st := ServiceState{Registration: reg, Hash: sealRegistration(reg)}
	return st
}

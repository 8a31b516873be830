package registrar

import (
	"net"
	"reflect"
	"testing"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

func TestExporterAt(t *testing.T) {
	tests := []struct {
		addr string
		want Exporter
	}{
		{"127.0.0.1:9999", Exporter{Address: "127.0.0.1", Port: 9999}},
		{"[::1]:9100", Exporter{Address: "::1", Port: 9100}},
		{"0.0.0.0:9100", Exporter{Port: 9100}}, // every address: the node's in Consul
		{"[::]:9100", Exporter{Port: 9100}},
	}
	for _, tt := range tests {
		addr, err := net.ResolveTCPAddr("tcp", tt.addr)
		if err != nil {
			t.Fatal(err)
		}
		got, err := ExporterAt(addr)
		if err != nil || got != tt.want {
			t.Errorf("ExporterAt(%s) = %+v, %v; want %+v", tt.addr, got, err, tt.want)
		}
	}
}

// TestDesiredExporter: with an Exporter the state gains the service
// Carbonio's Prometheus selects, owned and hashed like the declared ones;
// without one it is absent (and a running daemon deregisters it).
func TestDesiredExporter(t *testing.T) {
	plan := loadTestPlan(t, testNode)
	without := Desired(plan, Options{})
	with := Desired(plan, Options{Exporter: &Exporter{Address: "127.0.0.1", Port: 9999}})
	if len(with.Services) != len(without.Services)+1 {
		t.Fatalf("%d services with the exporter, %d without", len(with.Services), len(without.Services))
	}
	var exp *ServiceState
	for i, s := range with.Services {
		if s.ID() == ExporterName {
			exp = &with.Services[i]
		}
		if i > 0 && with.Services[i-1].ID() > s.ID() {
			t.Errorf("services not sorted by ID: %s before %s", with.Services[i-1].ID(), s.ID())
		}
	}
	if exp == nil {
		t.Fatal("no carbonio-health service")
	}
	r := exp.Registration
	if r.Name != ExporterName || !reflect.DeepEqual(r.Tags, []string{ExporterTag}) || r.Port != 9999 || r.Address != "127.0.0.1" ||
		r.Meta[MetaPromPort] != "9999" || r.Meta[MetaManagedBy] != ManagedBy || r.Meta[MetaHash] != exp.Hash || len(r.Checks) != 0 {
		t.Errorf("exporter registration %+v", r)
	}
	other := Desired(plan, Options{Exporter: &Exporter{Address: "127.0.0.1", Port: 9998}})
	for _, s := range other.Services {
		if s.ID() == ExporterName && s.Hash == exp.Hash {
			t.Error("another port, same hash: a moved endpoint would not be re-registered")
		}
	}
}

// TestExporterFollowsTheFlag: the metrics endpoint's service is owned like
// the declared ones: registered while the daemon has an Exporter, moved
// with its port, gone when it runs without one, and a foreign service with
// the same ID is never touched.
func TestExporterFollowsTheFlag(t *testing.T) {
	n := newNodeFixture(t, consultest.Options{}, true)
	load, _ := n.declare(t, false)
	run := func(e *Exporter) {
		r := startDaemon(t, &Daemon{Client: n.client, Log: testLogger(t), Load: load, Options: Options{Exporter: e}})
		if err := r.Stop(t); err != nil {
			t.Fatal(err)
		}
	}
	exporter := func() *api.AgentService { return owned(t, n.client)[ExporterName] }

	run(&Exporter{Address: "127.0.0.1", Port: 9171})
	if e := exporter(); e == nil || e.Port != 9171 || e.Meta[MetaPromPort] != "9171" || len(e.Tags) != 1 || e.Tags[0] != ExporterTag {
		t.Fatalf("with -metrics-addr: %+v", e)
	}
	plan, err := load()
	if err != nil {
		t.Fatal(err)
	}
	if d, err := DiffAgent(t.Context(), n.client, Desired(plan, Options{})); err != nil || !d.Empty() {
		t.Errorf("plan -diff, which knows no -metrics-addr: %+v, %v; want nothing to change", d, err)
	}
	run(&Exporter{Address: "127.0.0.1", Port: 9172})
	if e := exporter(); e == nil || e.Port != 9172 {
		t.Fatalf("moved to 9172: %+v", e)
	}
	run(nil)
	if e := exporter(); e != nil {
		t.Fatalf("without -metrics-addr the service stays: %+v", e)
	}

	foreign := &api.AgentServiceRegistration{ID: ExporterName, Name: ExporterName, Port: 1234}
	if err := n.client.Agent().ServiceRegister(foreign); err != nil {
		t.Fatal(err)
	}
	run(&Exporter{Address: "127.0.0.1", Port: 9171})
	run(nil)
	all, err := n.client.Agent().Services()
	if err != nil {
		t.Fatal(err)
	}
	if s := all[ExporterName]; s == nil || Owned(s) || s.Port != 1234 {
		t.Errorf("foreign carbonio-health service touched: %+v", s)
	}
}

package registrar

// Registration scale (README "Benchmarks", item 3): cold registration of N
// services with 5 TTL checks each into a fresh real agent, timed, with the
// agent calls it took. Run by make bench (deploy/bench/run.sh):
//
//	go test -run '^$' -bench BenchmarkColdRegistration -benchtime 1x ./registrar

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/hashicorp/consul/api"
	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/registrar/consultest"
)

// syntheticState is n services of 5 TTL checks each, owned and hashed like
// Desired's output.
func syntheticState(n int) State {
	st := State{}
	for i := 0; i < n; i++ {
		id := fmt.Sprintf("carbonio-health:bench:svc-%05d", i)
		reg := &api.AgentServiceRegistration{
			ID: id, Name: fmt.Sprintf("carbonio-bench-svc-%05d", i), Port: 10000 + i%50000,
			Tags: []string{"bench"}, Meta: map[string]string{MetaManagedBy: ManagedBy},
		}
		for c := 0; c < 5; c++ {
			reg.Checks = append(reg.Checks, &api.AgentServiceCheck{CheckID: fmt.Sprintf("%s:c%d", id, c), Name: "c", TTL: "90s"})
		}
		s := ServiceState{Registration: reg, Hash: hashRegistration(reg)}
		reg.Meta[MetaHash] = s.Hash
		st.Services = append(st.Services, s)
	}
	return st
}

func BenchmarkColdRegistration(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			agent := consultest.Start(b, consultest.Options{})
			counter := newCountingProxy(b, agent.Addr)
			client := clientFor(b, counter.URL())
			st := syntheticState(n)
			r := &Reconciler{Client: client, Log: hclog.NewNullLogger(), Mode: ScriptAPI}
			total := timeRegistrations(b, r, st, counter, func(out Outcome) bool { return len(out.Registered) == n })
			reportRegistrations(b, total, counter.Total(), n)
		})
	}
}

// timeRegistrations times b.N cold reconciles of st (the agent emptied of
// owned services before each, untimed) and checks each outcome with ok.
func timeRegistrations(b *testing.B, r *Reconciler, st State, counter *countingProxy, ok func(Outcome) bool) time.Duration {
	ctx := context.Background()
	var total time.Duration
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		if _, err := r.Reconcile(ctx, State{}); err != nil {
			b.Fatal(err)
		}
		counter.Reset()
		b.StartTimer()
		start := time.Now()
		out, err := r.Reconcile(ctx, st)
		total += time.Since(start)
		if err != nil || !ok(out) {
			b.Fatalf("cold registration of %d services: %+v, %v", len(st.Services), out, err)
		}
	}
	return total
}

// reportRegistrations reports time per pass and per service, and calls per
// service (counted over the last pass).
func reportRegistrations(b *testing.B, total time.Duration, calls, n int) {
	b.ReportMetric(float64(total.Milliseconds())/float64(b.N), "ms/registration")
	b.ReportMetric(float64(calls)/float64(n), "calls/service")
	b.ReportMetric(float64(total.Microseconds())/float64(b.N)/float64(n), "µs/service")
}

// benchSizes are the service counts, or $BENCH_SIZES (e.g. "10,100").
func benchSizes() []int {
	env := os.Getenv("BENCH_SIZES")
	if env == "" {
		return []int{10, 100, 1000, 5000}
	}
	var out []int
	for _, f := range strings.Split(env, ",") {
		if n, err := strconv.Atoi(strings.TrimSpace(f)); err == nil && n > 0 {
			out = append(out, n)
		}
	}
	return out
}

// BenchmarkColdRegistrationConfigFile delivers the same services through the
// agent config fragment and one reload (the path script checks take), for
// comparison with the API path above.
func BenchmarkColdRegistrationConfigFile(b *testing.B) {
	for _, n := range benchSizes() {
		b.Run(fmt.Sprintf("services=%d", n), func(b *testing.B) {
			agent := consultest.Start(b, consultest.Options{})
			counter := newCountingProxy(b, agent.Addr)
			client := clientFor(b, counter.URL())
			st := syntheticState(n)
			r := &Reconciler{Client: client, Log: hclog.NewNullLogger(), AllViaFile: true,
				FragmentPath: filepath.Join(agent.ConfigDir, FragmentName)}
			total := timeRegistrations(b, r, st, counter, func(out Outcome) bool {
				svcs, _ := agent.Client(b, "").Agent().Services() // not through the counter
				return out.Reloaded && len(svcs) >= n
			})
			reportRegistrations(b, total, counter.Total(), n)
		})
	}
}

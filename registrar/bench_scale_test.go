package registrar

// Registration scale (deploy/bench/README.md, item 3): cold registration of N
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
		s := ServiceState{Registration: reg, Hash: sealRegistration(reg)}
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
			timeRegistrations(b, r, st, counter, func(out Outcome) int { return len(out.Registered) })
		})
	}
}

// timeRegistrations times b.N cold reconciles of st (the agent emptied of
// owned services before each, untimed) and reports them; registered says
// how many of st's services a pass left in the agent.
//
// Each pass gets registrationBudget: the agent's cost per service grows
// with what it already holds (deploy/bench/README.md), so a large size on a
// slow machine would otherwise stretch make bench by tens of minutes. A
// pass cut short reports the budget as its time, how many services made
// it, and finished=0.
func timeRegistrations(b *testing.B, r *Reconciler, st State, counter *countingProxy, registered func(Outcome) int) {
	n := len(st.Services)
	budget := registrationBudget()
	var total time.Duration
	passes, done, cut := 0, 0, false
	for passes < b.N && !cut {
		b.StopTimer()
		if _, err := r.Reconcile(context.Background(), State{}); err != nil {
			b.Fatal(err)
		}
		counter.Reset()
		ctx, cancel := context.WithTimeout(context.Background(), budget)
		b.StartTimer()
		start := time.Now()
		out, err := r.Reconcile(ctx, st)
		elapsed := time.Since(start)
		cut = err != nil && ctx.Err() != nil
		cancel()
		done = registered(out)
		switch {
		case cut:
			b.Logf("%d services: cut at the %s budget, %d in the agent", n, budget, done)
			elapsed = budget
		case err != nil || done != n:
			b.Fatalf("cold registration of %d services: %+v, %v", n, out, err)
		}
		total += elapsed
		passes++
	}
	finished := 1.0
	if cut {
		finished = 0
	}
	b.ReportMetric(float64(total.Milliseconds())/float64(passes), "ms/registration")
	b.ReportMetric(float64(counter.Total())/float64(max(done, 1)), "calls/service")
	b.ReportMetric(float64(total.Microseconds())/float64(passes)/float64(max(done, 1)), "µs/service")
	b.ReportMetric(float64(done), "registered")
	b.ReportMetric(finished, "finished")
}

// registrationBudget is the longest one registration pass may take,
// $BENCH_BUDGET (a Go duration) or 2 minutes.
func registrationBudget() time.Duration {
	if d, err := time.ParseDuration(os.Getenv("BENCH_BUDGET")); err == nil && d > 0 {
		return d
	}
	return 2 * time.Minute
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
			direct := agent.Client(b, "") // not through the counter
			timeRegistrations(b, r, st, counter, func(Outcome) int {
				svcs, _ := direct.Agent().Services()
				return len(svcs)
			})
		})
	}
}

package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"runtime/debug"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// CarbonioAgentConfigDir is where Carbonio's Consul agent reads its
// configuration (service-discover); the script-check fragment goes there.
const CarbonioAgentConfigDir = "/etc/zextras/service-discover"

func runDaemon(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := newFlagSet(ctx, "run", stderr)
	var dirs []string
	addConfigDirFlag(fs, &dirs)
	cf := addConsulFlags(fs)
	defer cf.close()
	cf.defaultTokenFile = DaemonTokenFile
	agentDir := fs.String("agent-config-dir", "", "the Consul agent's -config-dir, where services with script checks are written when the agent only allows local script checks (default "+CarbonioAgentConfigDir+" when it exists)")
	stage := fs.String("fragment-stage", "", "stage the agent config fragment in this folder for carbonio-health-fragment.service (root) to check and install into -agent-config-dir, instead of writing it there: the daemon then needs no write access to the agent's config dir")
	mode := fs.String("script-checks", string(registrar.ScriptAuto), "how script checks reach the agent: auto, api (enable_script_checks) or config (enable_local_script_checks + -agent-config-dir)")
	viaConfig := fs.Bool("register-via-config", false, "write every service into the agent's config dir and reload it, instead of one API call per service (faster for very many services; needs -agent-config-dir)")
	resync := fs.Duration("resync", registrar.DefaultResync, "how often the agent is compared with the declaration when nothing was heard (reads only; a blocking watch of the node wakes the daemon on any change)")
	deregister := fs.Bool("deregister-on-exit", false, "remove every owned service when stopping (default: keep them; expiring TTL checks are the alarm)")
	fullOutput := fs.Bool("full-output", false, "store each probe's full line (measurements, perfdata) in Consul instead of its steady form: about one catalog write per such check every check_update_interval")
	self := fs.String("self", "", "path of the carbonio-health binary the agent runs for script checks, given \"check <probe> …\" (default this executable); "+CheckBinary+" next to it runs the light probes")
	logLevel := fs.String("log-level", "info", "trace, debug, info, warn or error")
	logJSON := fs.Bool("log-json", false, "log as JSON lines")
	metricsAddr := fs.String("metrics-addr", DefaultMetricsAddr, "serve Prometheus metrics at ADDR/metrics (host:port; :port is every address of the node) and register that endpoint in Consul as service carbonio-health tagged prometheus-exporter; empty: no endpoint")
	webConfig := fs.String("web.config.file", "", "exporter-toolkit web configuration of the metrics endpoint: TLS (tls_server_config) and basic auth (basic_auth_users, bcrypt hashes); checked at start, an error stops run")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	if os.Getenv("GOGC") == "" {
		// A mailstore daemon's heap is mostly dirsize's folders (about a
		// byte a file, long-lived; the file lists and the table of linked
		// inodes are outside the heap): a collection at 10 % over the
		// live heap instead of Go's 100 % keeps the headroom to about
		// 1 MiB. At 25 % the daemon's peak was 0.9 MiB higher (65.3
		// against 64.4 MiB, deploy/bench/dirsize.sh's daemon step at
		// 5,000,000 files), for 156 collections instead of 238 over the
		// first walk and a burst of 50,000 changes. No memory limit: the
		// lists, outside the heap, are what would need one, and a limit
		// near the live heap cost 2.5 times the burst's CPU
		// (deploy/bench/README.md, "dirsize").
		debug.SetGCPercent(10)
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name: "carbonio-health", Level: hclog.LevelFromString(*logLevel),
		Output: stderr, JSONFormat: *logJSON,
	})
	scripts, err := resolveSelf(*self)
	if err != nil {
		log.Error("cannot find this executable; pass -self", "error", err)
		return 1
	}
	scripts.FullOutput = *fullOutput
	if *agentDir == "" {
		*agentDir = existingDir(CarbonioAgentConfigDir)
	}
	client, err := cf.client()
	if err != nil {
		log.Error("consul connection settings", "error", err)
		return 1
	}
	hup := make(chan os.Signal, 1)
	signal.Notify(hup, syscall.SIGHUP)
	defer signal.Stop(hup)
	reload := make(chan struct{}, 1)
	go forwardSignals(ctx, hup, reload)

	opts := loadOptions(dirs)
	opts.DeferPresence = true // the daemon follows if_present folders while it runs
	d := &registrar.Daemon{
		Client:           client,
		AgentAddress:     cf.config().Address,
		Log:              log,
		Load:             func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Reload:           reload,
		Options:          scripts,
		ScriptMode:       registrar.ScriptMode(*mode),
		AgentConfigDir:   *agentDir,
		FragmentStage:    *stage,
		Resync:           *resync,
		AllViaConfig:     *viaConfig,
		DeregisterOnExit: *deregister,
	}
	if *metricsAddr == "" && *webConfig != "" {
		log.Error("-web.config.file is set but -metrics-addr is empty: there is no endpoint to protect")
		return 1
	}
	if *metricsAddr != "" {
		m, err := listenMetrics(*metricsAddr, *webConfig, log.Named("metrics"))
		if err != nil {
			log.Error("metrics endpoint", "error", err)
			return 1
		}
		d.Metrics, d.Options.Exporter = m.collector, &m.exporter
		mctx, stopMetrics := context.WithCancel(ctx)
		defer stopMetrics() // also when Run fails
		go m.serve(mctx, log.Named("metrics"))
	}
	log.Info("starting", "version", version, "config_dirs", opts.ConfigDirs, "agent_config_dir", *agentDir)
	if err := d.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "carbonio-health run: %v\n", err)
		if errors.Is(err, registrar.ErrDeclaration) {
			return ExitConfig
		}
		return 1
	}
	return 0
}

// ExitConfig is run's exit status when the declaration does not load
// (EX_CONFIG of sysexits.h): the unit does not restart on it
// (RestartPreventExitStatus=), as no restart can fix a file.
const ExitConfig = 78

// forwardSignals turns SIGHUP into reload requests until ctx ends.
func forwardSignals(ctx context.Context, in <-chan os.Signal, out chan<- struct{}) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-in:
			select {
			case out <- struct{}{}:
			case <-time.After(time.Second):
			}
		}
	}
}

// CheckBinary is the slim entry point for the light probes' script checks
// (cmd/carbonio-health-check), installed next to carbonio-health.
const CheckBinary = "carbonio-health-check"

// resolveSelf returns the registrar options of `run` (and of `plan -diff`,
// which compares against what run registers): the binaries the agent runs
// for script checks (with `check <probe> …`), as absolute paths: Self is the
// -self flag, else this executable; Light is carbonio-health-check next to
// Self when it is there (it costs less per exec, and runs checkscript.Light's
// probes only); and the heartbeat, which tells readers of the catalog
// whether this node's checks are fed (registrar/heartbeat.go).
func resolveSelf(self string) (registrar.Options, error) {
	if self == "" {
		exe, err := os.Executable()
		if err != nil {
			return registrar.Options{}, err
		}
		self = exe
	}
	if abs, err := filepath.Abs(self); err == nil {
		self = abs
	}
	if filepath.Base(self) == CheckBinary {
		return registrar.Options{}, fmt.Errorf("-self %s: %s runs only the light probes; give carbonio-health", self, CheckBinary)
	}
	opts := registrar.Options{Self: self, Heartbeat: true}
	slim := filepath.Join(filepath.Dir(self), CheckBinary)
	if st, err := os.Stat(slim); err == nil && st.Mode().IsRegular() && st.Mode()&0o111 != 0 {
		opts.Light = slim
	}
	return opts, nil
}

// existingDir returns dir when it is a directory, else "".
func existingDir(dir string) string {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir
	}
	return ""
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"path/filepath"
	"syscall"
	"time"

	"github.com/hashicorp/go-hclog"

	"github.com/zextras/carbonio-health/hcl"
	"github.com/zextras/carbonio-health/registrar"
)

// CarbonioAgentConfigDir is where Carbonio's Consul agent reads its
// configuration (service-discover); the script-check fragment goes there.
const CarbonioAgentConfigDir = "/etc/zextras/service-discover"

func init() {
	commands["run"] = command{
		summary: "the node daemon: register the declared services in the local Consul agent and keep them true",
		run:     runDaemon,
	}
}

func runDaemon(ctx context.Context, args []string, _, stderr io.Writer) int {
	fs := flag.NewFlagSet("run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var dirs configDirs
	addConfigDirFlag(fs, &dirs)
	cf := addConsulFlags(fs)
	agentDir := fs.String("agent-config-dir", "", "the Consul agent's -config-dir, where services with script checks are written when the agent only allows local script checks (default "+CarbonioAgentConfigDir+" when it exists)")
	mode := fs.String("script-checks", string(registrar.ScriptAuto), "how script checks reach the agent: auto, api (enable_script_checks) or config (enable_local_script_checks + -agent-config-dir)")
	viaConfig := fs.Bool("register-via-config", false, "write every service into the agent's config dir and reload it, instead of one API call per service (faster for very many services; needs -agent-config-dir)")
	resync := fs.Duration("resync", registrar.DefaultResync, "how often the agent is compared with the declaration when nothing was heard (reads only; a blocking watch of the node wakes the daemon on any change)")
	deregister := fs.Bool("deregister-on-exit", false, "remove every owned service when stopping (default: keep them; expiring TTL checks are the alarm)")
	fullOutput := fs.Bool("full-output", false, "store each probe's full line (measurements, perfdata) in Consul instead of its steady form: about one catalog write per such check every check_update_interval")
	self := fs.String("self", "", "path of this binary as the agent runs it for script checks (default this executable)")
	logLevel := fs.String("log-level", "info", "trace, debug, info, warn or error")
	logJSON := fs.Bool("log-json", false, "log as JSON lines")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	log := hclog.New(&hclog.LoggerOptions{
		Name: "carbonio-health", Level: hclog.LevelFromString(*logLevel),
		Output: stderr, JSONFormat: *logJSON,
	})
	if *self == "" {
		exe, err := os.Executable()
		if err != nil {
			log.Error("cannot find this executable; pass -self", "error", err)
			return 1
		}
		*self = exe
	}
	if abs, err := filepath.Abs(*self); err == nil {
		*self = abs
	}
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
	d := &registrar.Daemon{
		Client:           client,
		AgentAddress:     cf.config().Address,
		Log:              log,
		Load:             func() (*hcl.Plan, error) { return hcl.Load(opts) },
		Reload:           reload,
		Options:          registrar.Options{Self: *self, FullOutput: *fullOutput},
		ScriptMode:       registrar.ScriptMode(*mode),
		AgentConfigDir:   *agentDir,
		Resync:           *resync,
		AllViaConfig:     *viaConfig,
		DeregisterOnExit: *deregister,
	}
	log.Info("starting", "version", version, "config_dirs", opts.ConfigDirs, "agent_config_dir", *agentDir)
	if err := d.Run(ctx); err != nil && ctx.Err() == nil {
		fmt.Fprintf(stderr, "carbonio-health run: %v\n", err)
		return 1
	}
	return 0
}

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

// existingDir returns dir when it is a directory, else "".
func existingDir(dir string) string {
	if st, err := os.Stat(dir); err == nil && st.IsDir() {
		return dir
	}
	return ""
}

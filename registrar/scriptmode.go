package registrar

import (
	"errors"
	"fmt"
)

// ScriptMode is how services with script checks reach the agent.
type ScriptMode string

// The script modes. ScriptAuto is a request only: ChooseScriptMode turns it
// into one of the others.
const (
	// ScriptAuto picks ScriptConfig when the agent allows local script
	// checks and its config dir is writable, else ScriptAPI when the agent
	// allows script checks over the HTTP API.
	ScriptAuto ScriptMode = "auto"
	// ScriptAPI registers them through the HTTP API like every other
	// service; the agent needs enable_script_checks.
	ScriptAPI ScriptMode = "api"
	// ScriptConfig writes them into FragmentName in the agent's config dir
	// and reloads the agent; it needs enable_local_script_checks only.
	ScriptConfig ScriptMode = "config"
)

// AgentScripts is what the agent allows, read from /v1/agent/self.
type AgentScripts struct {
	// Remote is enable_script_checks; Local is enable_local_script_checks
	// (true whenever Remote is).
	Remote, Local bool
}

// ParseAgentScripts reads the script-check settings from the answer of
// /v1/agent/self (DebugConfig.EnableRemoteScriptChecks and
// DebugConfig.EnableLocalScriptChecks).
func ParseAgentScripts(self map[string]map[string]interface{}) (AgentScripts, error) {
	dc, ok := self["DebugConfig"]
	if !ok {
		return AgentScripts{}, errors.New("agent self: no DebugConfig (is the token allowed agent:read?)")
	}
	var s AgentScripts
	s.Remote, _ = dc["EnableRemoteScriptChecks"].(bool)
	s.Local, _ = dc["EnableLocalScriptChecks"].(bool)
	s.Local = s.Local || s.Remote
	return s, nil
}

// ScriptChoice is the input of ChooseScriptMode.
type ScriptChoice struct {
	// Want is the operator's request (ScriptAuto by default).
	Want ScriptMode
	// Agent is what the agent allows.
	Agent AgentScripts
	// ConfigDir is the agent's config dir ("" when not given); ConfigDirErr
	// is why a fragment cannot be written there (nil when it can).
	ConfigDir    string
	ConfigDirErr error
	// Stage is the staging folder of the fragment ("" when written
	// directly); ConfigDirErr then says why staging cannot work.
	Stage string
	// Scripts counts the script checks of the declaration.
	Scripts int
}

// ChooseScriptMode decides how script checks reach the agent, or explains
// which setting to change. With no script checks declared it answers the
// mode that needs nothing (ScriptAPI) and never fails.
func ChooseScriptMode(c ScriptChoice) (ScriptMode, error) {
	if c.Scripts == 0 {
		return ScriptAPI, nil
	}
	configOK := c.ConfigDir != "" && c.ConfigDirErr == nil
	dirProblem := "-agent-config-dir is not set"
	if c.ConfigDir != "" && c.ConfigDirErr != nil {
		dirProblem = fmt.Sprintf("-agent-config-dir %s is not writable: %v", c.ConfigDir, c.ConfigDirErr)
		if c.Stage != "" {
			dirProblem = fmt.Sprintf("the fragment cannot be staged for %s: %v", c.ConfigDir, c.ConfigDirErr)
		}
	}
	switch c.Want {
	case ScriptAPI:
		if c.Agent.Remote {
			return ScriptAPI, nil
		}
		return "", fmt.Errorf("%d script checks declared and -script-checks=api, but the Consul agent has enable_script_checks = false: set enable_script_checks = true in the agent's configuration (only with ACLs enabled), or use -script-checks=config with enable_local_script_checks = true", c.Scripts)
	case ScriptConfig:
		if !c.Agent.Local {
			return "", fmt.Errorf("%d script checks declared and -script-checks=config, but the Consul agent has enable_local_script_checks = false: set enable_local_script_checks = true in the agent's configuration and restart it", c.Scripts)
		}
		if !configOK {
			return "", fmt.Errorf("%d script checks declared and -script-checks=config, but %s: give the directory the agent reads with -config-dir (Carbonio: /etc/zextras/service-discover)", c.Scripts, dirProblem)
		}
		return ScriptConfig, nil
	case ScriptAuto, "":
	default:
		return "", fmt.Errorf("-script-checks must be auto, api or config, not %q", c.Want)
	}
	switch {
	case c.Agent.Local && configOK:
		return ScriptConfig, nil
	case c.Agent.Remote:
		return ScriptAPI, nil
	case c.Agent.Local:
		return "", fmt.Errorf("%d script checks declared; the Consul agent allows them only from its config files (enable_local_script_checks = true), but %s: give the directory the agent reads with -config-dir (Carbonio: /etc/zextras/service-discover)", c.Scripts, dirProblem)
	default:
		return "", fmt.Errorf("%d script checks declared, but the Consul agent runs none: set enable_local_script_checks = true in the agent's configuration (safe: only its config files may define scripts) and pass -agent-config-dir, or enable_script_checks = true (only with ACLs enabled)", c.Scripts)
	}
}

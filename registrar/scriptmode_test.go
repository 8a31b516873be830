package registrar

import (
	"errors"
	"strings"
	"testing"
)

func TestChooseScriptMode(t *testing.T) {
	none, local, remote := AgentScripts{}, AgentScripts{Local: true}, AgentScripts{Remote: true, Local: true}
	denied := errors.New("permission denied")
	tests := []struct {
		name    string
		c       ScriptChoice
		want    ScriptMode
		errWant string // substring of the error; "" for success
	}{
		{"no scripts needs nothing", ScriptChoice{Agent: none}, ScriptAPI, ""},
		{"auto prefers the config dir", ScriptChoice{Agent: remote, ConfigDir: "/d", Scripts: 3}, ScriptConfig, ""},
		{"auto local with dir", ScriptChoice{Agent: local, ConfigDir: "/d", Scripts: 3}, ScriptConfig, ""},
		{"auto remote without dir", ScriptChoice{Agent: remote, Scripts: 3}, ScriptAPI, ""},
		{"auto local without dir", ScriptChoice{Agent: local, Scripts: 3}, "", "-agent-config-dir is not set"},
		{"auto local dir not writable", ScriptChoice{Agent: local, ConfigDir: "/d", ConfigDirErr: denied, Scripts: 3}, "", "/d is not writable"},
		{"auto nothing allowed", ScriptChoice{Agent: none, ConfigDir: "/d", Scripts: 3}, "", "enable_local_script_checks = true"},
		{"api on a local-only agent", ScriptChoice{Want: ScriptAPI, Agent: local, Scripts: 1}, "", "enable_script_checks = false"},
		{"api on a remote agent", ScriptChoice{Want: ScriptAPI, Agent: remote, ConfigDir: "/d", Scripts: 1}, ScriptAPI, ""},
		{"config on a none agent", ScriptChoice{Want: ScriptConfig, Agent: none, ConfigDir: "/d", Scripts: 1}, "", "enable_local_script_checks = false"},
		{"config without dir", ScriptChoice{Want: ScriptConfig, Agent: local, Scripts: 1}, "", "-agent-config-dir is not set"},
		{"bad request", ScriptChoice{Want: "shell", Agent: remote, Scripts: 1}, "", "auto, api or config"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ChooseScriptMode(tt.c)
			if tt.errWant != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWant) {
					t.Fatalf("error %v, want one containing %q", err, tt.errWant)
				}
				return
			}
			if err != nil || got != tt.want {
				t.Fatalf("got %q, %v; want %q", got, err, tt.want)
			}
		})
	}
}

func TestParseAgentScripts(t *testing.T) {
	tests := []struct {
		name string
		self map[string]map[string]interface{}
		want AgentScripts
		err  bool
	}{
		{"local", map[string]map[string]interface{}{"DebugConfig": {"EnableLocalScriptChecks": true, "EnableRemoteScriptChecks": false}}, AgentScripts{Local: true}, false},
		{"remote implies local", map[string]map[string]interface{}{"DebugConfig": {"EnableRemoteScriptChecks": true}}, AgentScripts{Remote: true, Local: true}, false},
		{"none", map[string]map[string]interface{}{"DebugConfig": {}}, AgentScripts{}, false},
		{"no debug config", map[string]map[string]interface{}{"Config": {}}, AgentScripts{}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := ParseAgentScripts(tt.self)
			if (err != nil) != tt.err || got != tt.want {
				t.Fatalf("got %+v, %v", got, err)
			}
		})
	}
}

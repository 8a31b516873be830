package registrar

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
)

// FragmentName is the file this tool owns in the agent's config dir. It holds
// the services that carry script checks when the agent only allows scripts
// from its own configuration (enable_local_script_checks), and the daemon's
// heartbeat (heartbeat.go), which the agent writes with its own token.
const FragmentName = "carbonio-health.json"

// fragment is an agent config file with services, in the agent's own
// snake_case configuration format.
type fragment struct {
	Services []fragmentService `json:"services"`
}

type fragmentService struct {
	ID      string            `json:"id"`
	Name    string            `json:"name"`
	Tags    []string          `json:"tags,omitempty"`
	Address string            `json:"address,omitempty"`
	Port    int               `json:"port,omitempty"`
	Meta    map[string]string `json:"meta,omitempty"`
	Checks  []fragmentCheck   `json:"checks,omitempty"`
}

type fragmentCheck struct {
	ID            string   `json:"id"`
	Name          string   `json:"name,omitempty"`
	Notes         string   `json:"notes,omitempty"`
	Args          []string `json:"args,omitempty"`
	TCP           string   `json:"tcp,omitempty"`
	HTTP          string   `json:"http,omitempty"`
	TLSSkipVerify bool     `json:"tls_skip_verify,omitempty"`
	Interval      string   `json:"interval,omitempty"`
	Timeout       string   `json:"timeout,omitempty"`
	TTL           string   `json:"ttl,omitempty"`
	// Consul's own flap damping of the checks it runs.
	SuccessBeforePassing   int `json:"success_before_passing,omitempty"`
	FailuresBeforeCritical int `json:"failures_before_critical,omitempty"`
}

// renderFragment returns the config file holding services, or nil when there
// are none (the file is then removed).
func renderFragment(services []ServiceState) []byte {
	if len(services) == 0 {
		return nil
	}
	var f fragment
	for _, s := range services {
		r := s.Registration
		fs := fragmentService{ID: r.ID, Name: r.Name, Tags: r.Tags, Address: r.Address, Port: r.Port, Meta: r.Meta}
		for _, c := range r.Checks {
			fs.Checks = append(fs.Checks, fragmentCheck{
				ID: c.CheckID, Name: c.Name, Notes: c.Notes, Args: c.Args, TCP: c.TCP,
				HTTP: c.HTTP, TLSSkipVerify: c.TLSSkipVerify,
				Interval: c.Interval, Timeout: c.Timeout, TTL: c.TTL,
				SuccessBeforePassing: c.SuccessBeforePassing, FailuresBeforeCritical: c.FailuresBeforeCritical,
			})
		}
		f.Services = append(f.Services, fs)
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		panic("registrar: marshal fragment: " + err.Error())
	}
	return append(b, '\n')
}

// writeFragment makes path hold content (nil: no file), atomically by
// rename, and reports whether the file changed.
func writeFragment(path string, content []byte) (bool, error) {
	if same, err := holds(path, content); err != nil || same {
		return false, err
	}
	if content == nil {
		if err := os.Remove(path); err != nil {
			return false, fmt.Errorf("remove agent config fragment: %w", err)
		}
		return true, nil
	}
	if err := renameInto(path, content); err != nil {
		return false, fmt.Errorf("write agent config fragment: %w", err)
	}
	return true, nil
}

// renameInto makes path hold content (mode 0644) atomically: a temporary
// file in the same folder, renamed over it.
func renameInto(path string, content []byte) error {
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+FragmentName+".*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name()) // no-op after a successful rename
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Chmod(0o644); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	return os.Rename(tmp.Name(), path)
}

// dirWritable reports whether a file can be created in dir.
func dirWritable(dir string) error {
	f, err := os.CreateTemp(dir, "."+FragmentName+".probe.*")
	if err != nil {
		return err
	}
	name := f.Name()
	f.Close()
	return os.Remove(name)
}

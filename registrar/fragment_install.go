package registrar

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"syscall"

	"github.com/zextras/carbonio-health/hcl"
)

// The installer's half of the staged fragment (fragment_stage.go): run as
// root by carbonio-health-fragment.service, it lets into the agent's config
// dir only what the daemon itself would write there, so that the daemon's
// user can make the agent run nothing but carbonio-health's probes and the
// commands root declared.

// InstallPolicy says what an installed fragment may hold.
type InstallPolicy struct {
	// Self is the carbonio-health binary: a script check may run it only as
	// `Self check …`. Light is carbonio-health-check, which runs nothing but
	// the light probes.
	Self, Light string
	// Commands are the operators' own script-check commands, as declared in
	// root's declaration files: each is allowed exactly as declared.
	Commands [][]string
}

// DeclaredCommands returns the commands plan gives script checks (an
// operator's own plugins), for InstallPolicy.Commands.
func DeclaredCommands(plan *hcl.Plan) [][]string {
	var out [][]string
	for _, s := range plan.Services {
		for _, c := range s.Checks {
			if c.Kind == hcl.KindScript && len(c.Command) > 0 {
				out = append(out, c.Command)
			}
		}
	}
	return out
}

// Check decodes a staged fragment and refuses anything the daemon does
// not write: another top-level setting or field, a service this tool does
// not own (ID carbonio-health or carbonio-health:…, Meta managed-by), a
// check of another ID, a script check that runs anything but the policy's
// commands, an HTTP check of another scheme. It returns the fragment as
// the daemon renders it, which is what gets installed (nothing the decoder
// skipped can reach the agent).
func (p InstallPolicy) Check(staged []byte) ([]byte, error) {
	var f fragment
	dec := json.NewDecoder(bytes.NewReader(staged))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&f); err != nil {
		return nil, fmt.Errorf("not a fragment carbonio-health writes: %w", err)
	}
	if dec.More() {
		return nil, errors.New("not a fragment carbonio-health writes: data after the JSON object")
	}
	if len(f.Services) == 0 {
		return nil, errors.New("no services")
	}
	seen := map[string]bool{}
	for _, s := range f.Services {
		if err := p.checkService(s, seen); err != nil {
			return nil, fmt.Errorf("service %q: %w", s.ID, err)
		}
	}
	b, err := json.MarshalIndent(f, "", "  ")
	if err != nil {
		return nil, err
	}
	return append(b, '\n'), nil
}

func (p InstallPolicy) checkService(s fragmentService, seen map[string]bool) error {
	switch {
	case s.ID != ExporterName && !strings.HasPrefix(s.ID, ManagedBy+":"):
		return fmt.Errorf("the ID is not %s or %s:…", ExporterName, ManagedBy)
	case s.Meta[MetaManagedBy] != ManagedBy:
		return fmt.Errorf("meta %s is not %s", MetaManagedBy, ManagedBy)
	case seen[s.ID]:
		return errors.New("declared twice")
	}
	seen[s.ID] = true
	for _, c := range s.Checks {
		if err := p.checkCheck(c); err != nil {
			return fmt.Errorf("check %q: %w", c.ID, err)
		}
	}
	return nil
}

func (p InstallPolicy) checkCheck(c fragmentCheck) error {
	if !strings.HasPrefix(c.ID, ManagedBy+":") {
		return fmt.Errorf("the ID is not %s:…", ManagedBy)
	}
	kinds := 0
	for _, set := range []bool{len(c.Args) > 0, c.TCP != "", c.HTTP != "", c.TTL != ""} {
		if set {
			kinds++
		}
	}
	if kinds != 1 {
		return errors.New("not exactly one of args, tcp, http, ttl")
	}
	switch {
	case len(c.Args) > 0:
		return p.allowed(c.Args)
	case c.TCP != "":
		if _, _, err := net.SplitHostPort(c.TCP); err != nil {
			return fmt.Errorf("tcp: %w", err)
		}
	case c.HTTP != "":
		if u, err := url.Parse(c.HTTP); err != nil || (u.Scheme != "http" && u.Scheme != "https") {
			return fmt.Errorf("http %q is not an http or https URL", c.HTTP)
		}
	}
	return nil
}

// allowed says whether the agent may run args.
func (p InstallPolicy) allowed(args []string) error {
	switch {
	case p.Light != "" && args[0] == p.Light:
		return nil
	case p.Self != "" && args[0] == p.Self && len(args) > 1 && args[1] == "check":
		return nil
	}
	for _, cmd := range p.Commands {
		if slices.Equal(cmd, args) {
			return nil
		}
	}
	return fmt.Errorf("runs %q, which is neither `%s check …`, %s, nor a command declared in the node's files", args[0], p.Self, p.Light)
}

// maxStaged bounds a staged fragment (a node's is a few tens of KiB).
const maxStaged = 16 << 20

// readStaged reads the staged file as root reads a file its owner may
// replace at any time: not through a link (O_NOFOLLOW), not blocking on a
// FIFO (O_NONBLOCK), only a regular file, and no more than maxStaged.
func readStaged(path string) ([]byte, error) {
	f, err := os.OpenFile(path, os.O_RDONLY|syscall.O_NOFOLLOW|syscall.O_NONBLOCK, 0)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	st, err := f.Stat()
	if err != nil {
		return nil, err
	}
	if !st.Mode().IsRegular() {
		return nil, fmt.Errorf("%s is not a regular file", path)
	}
	b, err := io.ReadAll(io.LimitReader(f, maxStaged+1))
	if err == nil && len(b) > maxStaged {
		err = fmt.Errorf("%s is larger than %d bytes", path, maxStaged)
	}
	return b, err
}

// InstallFragment installs the fragment staged in stage into agentDir, as
// Check renders it (atomically, mode 0644), or removes the installed one
// when none is staged. It says what it did. A refused fragment leaves the
// installed one as it was.
func InstallFragment(stage, agentDir string, p InstallPolicy) (string, error) {
	staged := filepath.Join(stage, FragmentName)
	installed := filepath.Join(agentDir, FragmentName)
	b, err := readStaged(staged)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		changed, err := writeFragment(installed, nil)
		if err != nil || !changed {
			return "nothing staged, nothing installed", err
		}
		return "nothing staged: removed " + installed, nil
	case err != nil:
		return "", fmt.Errorf("read staged fragment: %w", err)
	}
	content, err := p.Check(b)
	if err != nil {
		return "", fmt.Errorf("refused %s (%s stays as it was): %w", staged, installed, err)
	}
	changed, err := writeFragment(installed, content)
	if err != nil {
		return "", err
	}
	if !changed {
		return installed + " is up to date", nil
	}
	return "installed " + installed, nil
}

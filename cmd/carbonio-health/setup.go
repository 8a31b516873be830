package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/user"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"

	"github.com/hashicorp/consul/api"

	"github.com/zextras/carbonio-health/checkscript/consulstatus"
	"github.com/zextras/carbonio-health/hcl"
)

// Where setup writes tokens by default: Carbonio's packages keep each
// service's token in /etc/carbonio/<svc>/service-discover/token (mode 0600);
// the daemon's is the one `run` reads by default.
const (
	setupStatusTokenFile = "/etc/carbonio/health/service-discover/status-token"
	statusPolicyName     = "carbonio-health-status-policy"
)

func runSetup(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	fs := newFlagSet(ctx, "setup", stderr)
	var dirs []string
	addConfigDirFlag(fs, &dirs)
	cf := addConsulFlags(fs)
	readOnly := fs.Bool("read-only", false, "create the read-only token of `status`, Nagios and Zabbix ("+statusPolicyName+") instead of the daemon's")
	out := fs.String("out", "", "where to write the token, mode 0600 (default "+DaemonTokenFile+", with -read-only "+setupStatusTokenFile+")")
	owner := fs.String("owner", "", "user (and its group) to own the token file, e.g. carbonio-health or nagios (default: left as created)")
	widen := fs.Bool("allow-widen", false, "update an existing policy even when the new rules grant more than it did (the difference is printed either way)")
	dryRun := fs.Bool("dry-run", false, "print what would change and change nothing")
	if err := fs.Parse(args); err != nil {
		return 2
	}
	fail := func(err error) int {
		fmt.Fprintf(stderr, "carbonio-health setup: %v\n", err)
		return 1
	}
	cfg := cf.config()
	if cfg.Token == "" && cfg.TokenFile == "" {
		fmt.Fprintln(stderr, "carbonio-health setup: reading the management token from stdin")
		tok, err := readToken(os.Stdin)
		if err != nil {
			return fail(fmt.Errorf("no management token in -token-file or $CONSUL_HTTP_TOKEN(_FILE), and none on stdin: %w", err))
		}
		cfg.Token = tok
	}
	client, err := api.NewClient(cfg)
	if err != nil {
		return fail(fmt.Errorf("consul client: %w", err))
	}
	defer cfg.Transport.CloseIdleConnections() // as consulFlags.close
	node, err := client.Agent().NodeName()
	if err != nil {
		return fail(consulError(cfg.Address, err))
	}

	s := setupRun{client: client, stdout: stdout, dryRun: *dryRun, widen: *widen, uid: -1, gid: -1}
	if *readOnly {
		s.policy, s.rules = statusPolicyName, statusRules()
		s.comment = "carbonio-health status: read every node's and service's health (written by `carbonio-health setup -read-only`)"
		s.description = "carbonio-health status (read-only) on " + node
		s.out = setupStatusTokenFile
	} else {
		plan, err := hcl.Load(loadOptions(dirs))
		if err != nil {
			return fail(fmt.Errorf("declaration: %w", err))
		}
		s.policy, s.rules = policyName(node), daemonRules(plan, node)
		s.comment = "carbonio-health run on " + node + ": its own services, node and agent (written by `carbonio-health setup`)"
		s.description = "carbonio-health on " + node
		s.out = DaemonTokenFile
	}
	if *out != "" {
		s.out = *out
	}
	if *owner != "" {
		if s.uid, s.gid, err = lookupOwner(*owner); err != nil {
			return fail(err)
		}
	}
	if err := s.run(ctx); err != nil {
		return fail(err)
	}
	return 0
}

// setupRun is one `setup`: a policy with rules, a token linked to it, and
// the token's file.
type setupRun struct {
	client                       *api.Client
	stdout                       io.Writer
	dryRun, widen                bool
	policy, comment, description string
	rules                        []aclRule
	out                          string
	uid, gid                     int // -1: leave the owner
}

func (s *setupRun) run(ctx context.Context) error {
	p, err := s.ensurePolicy(ctx)
	if err != nil || s.dryRun {
		return err
	}
	return s.ensureToken(ctx, p)
}

// ensurePolicy creates the policy, or updates it when its rules differ;
// it refuses to grant more than before unless -allow-widen.
func (s *setupRun) ensurePolicy(ctx context.Context) (*api.ACLPolicy, error) {
	q := (&api.QueryOptions{}).WithContext(ctx)
	w := (&api.WriteOptions{}).WithContext(ctx)
	want := renderRules(s.comment, s.rules)
	old, _, err := s.client.ACL().PolicyReadByName(s.policy, q)
	if err != nil {
		return nil, fmt.Errorf("read policy %s: %w", s.policy, err)
	}
	if old == nil {
		if s.dryRun {
			fmt.Fprintf(s.stdout, "policy %s: would be created (%d rules):\n%s", s.policy, len(s.rules), want)
			return nil, nil
		}
		fmt.Fprintf(s.stdout, "policy %s: created (%d rules)\n", s.policy, len(s.rules))
		p, _, err := s.client.ACL().PolicyCreate(&api.ACLPolicy{Name: s.policy, Description: s.description, Rules: want}, w)
		if err != nil {
			return nil, fmt.Errorf("create policy %s: %w", s.policy, err)
		}
		return p, nil
	}
	if old.Rules == want {
		fmt.Fprintf(s.stdout, "policy %s: unchanged\n", s.policy)
		return old, nil
	}
	oldRules, perr := parseRules(old.Rules)
	wider := widening(oldRules, s.rules)
	if perr != nil {
		// Rules we cannot read might be narrower than ours: never assume.
		wider = s.rules
		fmt.Fprintf(s.stdout, "policy %s: its current rules could not be compared (%v):\n%s\n", s.policy, perr, old.Rules)
	}
	fmt.Fprintf(s.stdout, "policy %s: rules differ:\n", s.policy)
	for _, l := range ruleDiff(oldRules, s.rules) {
		fmt.Fprintf(s.stdout, "  %s\n", l)
	}
	if len(wider) > 0 && !s.widen {
		var names []string
		for _, r := range wider {
			names = append(names, r.short())
		}
		return nil, fmt.Errorf("the new rules of policy %s grant more than it does now (%s); check the declaration and run again with -allow-widen",
			s.policy, strings.Join(names, ", "))
	}
	if s.dryRun {
		fmt.Fprintf(s.stdout, "policy %s: would be updated\n", s.policy)
		return nil, nil
	}
	old.Rules = want
	p, _, err := s.client.ACL().PolicyUpdate(old, w)
	if err != nil {
		return nil, fmt.Errorf("update policy %s: %w", s.policy, err)
	}
	fmt.Fprintf(s.stdout, "policy %s: updated\n", s.policy)
	return p, nil
}

// ensureToken reuses the token in the out file when Consul still knows it
// (linking the policy if needed), or creates one, and writes the file.
func (s *setupRun) ensureToken(ctx context.Context, p *api.ACLPolicy) error {
	w := (&api.WriteOptions{}).WithContext(ctx)
	secret, err := readTokenFile(s.out)
	if err != nil {
		return err
	}
	var tok *api.ACLToken
	if secret != "" {
		tok, _, err = s.client.ACL().TokenReadSelf((&api.QueryOptions{Token: secret}).WithContext(ctx))
		if err != nil {
			if k := consulstatus.Classify(err); k != consulstatus.Denied && k != consulstatus.NotFound {
				return fmt.Errorf("look up the token in %s: %w", s.out, err)
			}
			fmt.Fprintf(s.stdout, "token in %s: unknown to Consul, replaced\n", s.out)
			tok = nil
		}
	}
	switch {
	case tok == nil:
		tok, _, err = s.client.ACL().TokenCreate(&api.ACLToken{Description: s.description,
			Policies: []*api.ACLTokenPolicyLink{{ID: p.ID}}}, w)
		if err != nil {
			return fmt.Errorf("create token: %w", err)
		}
		fmt.Fprintf(s.stdout, "token %s: created\n", tok.AccessorID)
	case !linksPolicy(tok, p):
		tok.Policies = append(tok.Policies, &api.ACLTokenPolicyLink{ID: p.ID})
		accessor := tok.AccessorID
		if tok, _, err = s.client.ACL().TokenUpdate(tok, w); err != nil {
			return fmt.Errorf("link policy %s to token %s: %w", p.Name, accessor, err)
		}
		fmt.Fprintf(s.stdout, "token %s: policy %s linked\n", tok.AccessorID, p.Name)
	default:
		fmt.Fprintf(s.stdout, "token %s: unchanged\n", tok.AccessorID)
	}
	changed, err := writeTokenFile(s.out, tok.SecretID, s.uid, s.gid)
	if err != nil {
		return err
	}
	if changed {
		fmt.Fprintf(s.stdout, "wrote %s (mode 0600)\n", s.out)
	}
	return nil
}

func linksPolicy(tok *api.ACLToken, p *api.ACLPolicy) bool {
	for _, l := range tok.Policies {
		if l.ID == p.ID {
			return true
		}
	}
	return false
}

// readToken reads a token from the first line of r.
func readToken(r io.Reader) (string, error) {
	line, err := bufio.NewReader(r).ReadString('\n')
	line = strings.TrimSpace(line)
	if line == "" {
		if err == nil || errors.Is(err, io.EOF) {
			err = errors.New("empty")
		}
		return "", err
	}
	return line, nil
}

// readTokenFile returns the token in path, "" when there is no file.
func readTokenFile(path string) (string, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, os.ErrNotExist) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read token file: %w", err)
	}
	return strings.TrimSpace(string(b)), nil
}

// writeTokenFile makes path hold secret with mode 0600 (and the owner when
// uid/gid ≥ 0), atomically by rename; it reports whether anything changed.
func writeTokenFile(path, secret string, uid, gid int) (bool, error) {
	content := []byte(secret + "\n")
	if st, err := os.Stat(path); err == nil {
		old, rerr := os.ReadFile(path)
		sameOwner := uid < 0 || ownedBy(st, uid, gid)
		if rerr == nil && string(old) == string(content) && st.Mode().Perm() == 0o600 && sameOwner {
			return false, nil
		}
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return false, fmt.Errorf("token file: %w", err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(path), "."+filepath.Base(path)+".*")
	if err != nil {
		return false, fmt.Errorf("token file: %w", err)
	}
	defer os.Remove(tmp.Name()) // no-op after the rename
	if err := tmp.Chmod(0o600); err != nil {
		tmp.Close()
		return false, fmt.Errorf("token file: %w", err)
	}
	if uid >= 0 {
		if err := tmp.Chown(uid, gid); err != nil {
			tmp.Close()
			return false, fmt.Errorf("token file owner: %w", err)
		}
	}
	if _, err := tmp.Write(content); err != nil {
		tmp.Close()
		return false, fmt.Errorf("token file: %w", err)
	}
	if err := tmp.Close(); err != nil {
		return false, fmt.Errorf("token file: %w", err)
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return false, fmt.Errorf("token file: %w", err)
	}
	return true, nil
}

// ownedBy reports whether the file belongs to uid:gid.
func ownedBy(st os.FileInfo, uid, gid int) bool {
	sys, ok := st.Sys().(*syscall.Stat_t)
	return ok && int(sys.Uid) == uid && int(sys.Gid) == gid
}

// lookupOwner returns the uid and primary gid of a user name.
func lookupOwner(name string) (int, int, error) {
	u, err := user.Lookup(name)
	if err != nil {
		return 0, 0, fmt.Errorf("-owner: %w", err)
	}
	uid, err := strconv.Atoi(u.Uid)
	if err != nil {
		return 0, 0, fmt.Errorf("-owner %s: uid %q", name, u.Uid)
	}
	gid, err := strconv.Atoi(u.Gid)
	if err != nil {
		return 0, 0, fmt.Errorf("-owner %s: gid %q", name, u.Gid)
	}
	return uid, gid, nil
}

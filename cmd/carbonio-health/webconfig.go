package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strconv"

	"github.com/prometheus/exporter-toolkit/web"
	"golang.org/x/crypto/bcrypt"
	"gopkg.in/yaml.v3"
)

// checkWebConfig validates the -web.config.file of the metrics endpoint
// (exporter-toolkit's format: tls_server_config, basic_auth_users, …) before
// anything is served, so that a mistake stops `run` at once instead of
// leaving an endpoint that is open, or that refuses every scrape. Its error
// names the file and, where the mistake sits in it, the line and column:
// a YAML error, an unknown key, a password that is not a bcrypt hash, a
// certificate, key or CA file that cannot be read. The rest (a key that does
// not match its certificate, an unknown cipher) is exporter-toolkit's own
// check, prefixed with the file and the line of tls_server_config. It
// returns whether the file turns on TLS or basic auth: a file that does
// neither leaves the endpoint as open as no file.
func checkWebConfig(path string) (protected bool, err error) {
	src, err := os.ReadFile(path)
	if err != nil {
		return false, fmt.Errorf("-web.config.file: %w", err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(src, &doc); err != nil {
		return false, atLine(path, err, 0)
	}
	root := mapping(&doc)
	_, usersVal := entry(root, "basic_auth_users")
	users := mapping(usersVal)
	if users != nil {
		for i := 0; i+1 < len(users.Content); i += 2 {
			user, hash := users.Content[i], users.Content[i+1]
			if _, err := bcrypt.Cost([]byte(hash.Value)); err != nil {
				return false, fmt.Errorf("%s:%d:%d: basic_auth_users: the password of %q is not a bcrypt hash (%v); write its hash, e.g. from `htpasswd -nBC 10 %s`",
					path, hash.Line, hash.Column, user.Value, err, user.Value)
			}
		}
	}
	tlsKey, tlsVal := entry(root, "tls_server_config")
	tlsConf := mapping(tlsVal)
	for _, key := range []string{"cert_file", "key_file", "client_ca_file"} {
		_, n := entry(tlsConf, key)
		if n == nil || n.Value == "" {
			continue
		}
		file := n.Value
		if !filepath.IsAbs(file) {
			file = filepath.Join(filepath.Dir(path), file) // as exporter-toolkit resolves it
		}
		if _, err := os.ReadFile(file); err != nil {
			return false, fmt.Errorf("%s:%d:%d: tls_server_config: %s: %w", path, n.Line, n.Column, key, err)
		}
	}
	if err := web.Validate(path); err != nil {
		line := 0
		if tlsKey != nil {
			line = tlsKey.Line
		}
		return false, atLine(path, err, line)
	}
	return (users != nil && len(users.Content) > 0) || (tlsConf != nil && len(tlsConf.Content) > 0), nil
}

// mapping returns n (or a document's root) when it is a mapping, else nil.
func mapping(n *yaml.Node) *yaml.Node {
	if n != nil && n.Kind == yaml.DocumentNode && len(n.Content) == 1 {
		n = n.Content[0]
	}
	if n == nil || n.Kind != yaml.MappingNode {
		return nil
	}
	return n
}

// entry returns the key and value nodes of key in mapping m; nil, nil
// when m is nil or lacks it.
func entry(m *yaml.Node, key string) (k, v *yaml.Node) {
	if m == nil {
		return nil, nil
	}
	for i := 0; i+1 < len(m.Content); i += 2 {
		if m.Content[i].Value == key {
			return m.Content[i], m.Content[i+1]
		}
	}
	return nil, nil
}

// yamlLineRe finds the line a YAML library's error names ("yaml: line 3:
// …", "line 4: field x not found in type web.Config").
var yamlLineRe = regexp.MustCompile(`line (\d+)`)

// atLine leads err with path:line: the line the error names, else line
// (0: none known).
func atLine(path string, err error, line int) error {
	if m := yamlLineRe.FindStringSubmatch(err.Error()); m != nil {
		line, _ = strconv.Atoi(m[1])
	}
	if line > 0 {
		return fmt.Errorf("%s:%d: %w", path, line, err)
	}
	return fmt.Errorf("%s: %w", path, err)
}

package main

import (
	"flag"
	"os"
	"strings"

	"github.com/zextras/carbonio-health/hcl"
)

// DefaultConfigDir holds the node's own declaration files in production.
const DefaultConfigDir = "/etc/carbonio-health"

// configDirs is the repeatable -config-dir flag.
type configDirs []string

func (c *configDirs) String() string { return strings.Join(*c, ",") }

func (c *configDirs) Set(s string) error {
	*c = append(*c, s)
	return nil
}

// addConfigDirFlag declares -config-dir on fs.
func addConfigDirFlag(fs *flag.FlagSet, dirs *configDirs) {
	fs.Var(dirs, "config-dir", "directory (or file) of node declarations, *.hcl; repeatable (default "+DefaultConfigDir+" when it exists)")
}

// loadOptions returns the loader options for the given -config-dir values:
// the default directory is read when none is given and it exists.
func loadOptions(dirs configDirs) hcl.Options {
	if len(dirs) == 0 {
		if _, err := os.Stat(DefaultConfigDir); err == nil {
			dirs = configDirs{DefaultConfigDir}
		}
	}
	return hcl.Options{ConfigDirs: dirs}
}

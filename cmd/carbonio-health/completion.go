package main

import (
	"flag"
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/zextras/carbonio-health/checkscript"
	"github.com/zextras/carbonio-health/checkscript/allprobes"
)

// bashCompletion is the bash completion of carbonio-health and
// carbonio-health-check, written by `carbonio-health generate` from the
// command table, the commands' flag sets and the probe registries: command
// names, each command's flags, probe names after `check`, each probe's
// flags, and the values of flags that take a fixed set (files otherwise).
func bashCompletion() string {
	var b strings.Builder
	b.WriteString("# bash completion for carbonio-health and carbonio-health-check.\n")
	b.WriteString("# Written by `carbonio-health generate -bash-completion FILE` from the commands'\n")
	b.WriteString("# and the probes' own flag definitions: do not edit.\n\n")
	names := append(slices.Collect(maps.Keys(commands)), "version")
	slices.Sort(names)
	fmt.Fprintf(&b, "_carbonio_health_commands=%q\n", strings.Join(names, " "))
	fmt.Fprintf(&b, "_carbonio_health_probes=%q\n", strings.Join(allprobes.Registry.Names(), " "))
	fmt.Fprintf(&b, "_carbonio_health_light_probes=%q\n\n", strings.Join(checkscript.Light.Names(), " "))

	// The flags of each command and probe, and those that take a value.
	b.WriteString("# _carbonio_health_flags KIND NAME: the flags of command or probe NAME;\n")
	b.WriteString("# _carbonio_health_takes_value KIND NAME FLAG: whether FLAG takes a value.\n")
	b.WriteString("_carbonio_health_flags() {\n\tcase \"$1 $2\" in\n")
	var valued []string
	for _, n := range names {
		fs := commandFlags(n)
		if fs == nil {
			continue
		}
		flags, vals := completionFlags(fs, commandSpelling)
		fmt.Fprintf(&b, "\t\"command %s\") echo %q ;;\n", n, strings.Join(flags, " "))
		for _, v := range vals {
			valued = append(valued, "command "+n+" "+v)
		}
	}
	for _, p := range allprobes.Registry.Probes() {
		flags, vals := completionFlags(p.FlagSet(), checkscript.Spelling)
		fmt.Fprintf(&b, "\t\"probe %s\") echo %q ;;\n", p.Name, strings.Join(flags, " "))
		for _, v := range vals {
			valued = append(valued, "probe "+p.Name+" "+v)
		}
	}
	b.WriteString("\tesac\n}\n")
	b.WriteString("_carbonio_health_takes_value() {\n\tcase \"$1 $2 $3\" in\n")
	for _, v := range valued {
		fmt.Fprintf(&b, "\t%q) return 0 ;;\n", v)
	}
	b.WriteString("\tesac\n\treturn 1\n}\n\n")
	b.WriteString(completionFunctions)
	return b.String()
}

// completionFlags lists a flag set's names as spell writes them, and
// those that take a value (there also as the parser reads them besides:
// a multi-letter name after one dash or two).
func completionFlags(fs *flag.FlagSet, spell func(*flag.Flag) string) (flags, valued []string) {
	fs.VisitAll(func(f *flag.Flag) {
		if !isFlagName(f.Name) {
			return
		}
		typed := spell(f)
		flags = append(flags, typed)
		if bf, ok := f.Value.(interface{ IsBoolFlag() bool }); !ok || !bf.IsBoolFlag() {
			valued = append(valued, typed)
			switch {
			case len(f.Name) == 1:
			case strings.HasPrefix(typed, "--"): // one dash is accepted too
				valued = append(valued, "-"+f.Name)
			default:
				valued = append(valued, "--"+f.Name)
			}
		}
	})
	return flags, valued
}

// completionFunctions complete a command line from the tables above.
const completionFunctions = `# _carbonio_health_words KIND NAME: complete the current word among NAME's
# flags, a flag's value, or files.
_carbonio_health_words() {
	local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}
	if [[ $prev == -* ]] && _carbonio_health_takes_value "$1" "$2" "$prev"; then
		case "$1 $2 ${prev#-}" in
		"command status format" | "command status -format")
			COMPREPLY=($(compgen -W "nagios json zabbix-discovery" -- "$cur")) ;;
		"command status role" | "command status -role")
			COMPREPLY=($(compgen -W "all mta proxy mailstore directory replica" -- "$cur")) ;;
		"command run script-checks" | "command run -script-checks")
			COMPREPLY=($(compgen -W "auto api config" -- "$cur")) ;;
		"command run log-level" | "command run -log-level")
			COMPREPLY=($(compgen -W "trace debug info warn error" -- "$cur")) ;;
		*)
			compopt -o filenames 2>/dev/null
			COMPREPLY=($(compgen -f -- "$cur")) ;;
		esac
		return
	fi
	COMPREPLY=($(compgen -W "$(_carbonio_health_flags "$1" "$2")" -- "$cur"))
}

# _carbonio_health_probe FIRST PROBES: complete "[-steady] probe [flags]"
# whose first word is COMP_WORDS[FIRST].
_carbonio_health_probe() {
	local i=$1 cur=${COMP_WORDS[COMP_CWORD]}
	if [[ ${COMP_WORDS[i]} == -steady || ${COMP_WORDS[i]} == --steady ]] && ((COMP_CWORD > i)); then
		((i++))
	fi
	if ((COMP_CWORD == i)); then
		COMPREPLY=($(compgen -W "$2" -- "$cur"))
		[[ $i == "$1" ]] && COMPREPLY+=($(compgen -W "-steady" -- "$cur"))
		return
	fi
	_carbonio_health_words probe "${COMP_WORDS[i]}"
}

_carbonio_health() {
	COMPREPLY=()
	if ((COMP_CWORD == 1)); then
		COMPREPLY=($(compgen -W "$_carbonio_health_commands" -- "${COMP_WORDS[1]}"))
		return
	fi
	case ${COMP_WORDS[1]} in
	check) _carbonio_health_probe 2 "$_carbonio_health_probes" ;;
	*) _carbonio_health_words command "${COMP_WORDS[1]}" ;;
	esac
}

_carbonio_health_check() {
	COMPREPLY=()
	local first=1
	if [[ ${COMP_WORDS[1]} == check ]] && ((COMP_CWORD > 1)); then
		first=2
	fi
	_carbonio_health_probe "$first" "$_carbonio_health_light_probes"
}

complete -F _carbonio_health carbonio-health
complete -F _carbonio_health_check carbonio-health-check
`

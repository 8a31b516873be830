package checkscript

import (
	"slices"
)

// diskPath is one entry of check_disk's path list.
type diskPath struct {
	name   string
	limits diskLimits
	group  string
	best   *mountEntry
	given  bool // -p: check_disk stats it when reading the flag, whatever follows
}

// diskEntry is one filesystem (or group of them) to evaluate.
type diskEntry struct {
	label   string   // the mount point, the device (-M) or the group's name
	dir     string   // the mount point ("none": skipped, as check_disk)
	members []string // the mount points whose figures add up: one, or every one of the group
	limits  diskLimits
}

// diskSelection is what a run checks: the entries to evaluate, every name
// to statfs (each path, as check_disk stats it, the -p ones even when their
// filesystem is skipped, and the mount points whose figures are read), and
// the paths no mount holds.
type diskSelection struct {
	entries  []diskEntry
	stat     []string
	notFound []string
}

// selectPaths replays the command line's selection on the mount table as
// check_disk does (its process_arguments and main loop): paths in the
// order given, a path given twice once with its last thresholds, each
// mapped to the mount holding it, each filesystem once, the type, device
// and remote filters, the groups. ok is false when res is the answer.
func (c *diskCheck) selectPaths(mounts []mountEntry) (sel diskSelection, res Result, ok bool) {
	var list []*diskPath
	find := func(name string) *diskPath {
		for _, p := range list {
			if p.name == name {
				return p
			}
		}
		p := &diskPath{name: name}
		list = append(list, p)
		return p
	}
	for _, op := range c.ops {
		switch op.kind {
		case opPath, opOperand:
			p := find(op.arg)
			p.limits, p.group, p.given = op.limits, op.group, p.given || op.kind == opPath
			if p.best == nil {
				p.best = bestMount(p.name, mounts, c.exact)
			}
		case opSelect:
			found := false
			for i, m := range mounts {
				if op.match(m.Dev) || op.match(m.Dir) {
					found = true
					p := find(m.Dir)
					p.limits, p.group = op.limits, op.group
					if p.best == nil {
						p.best = &mounts[i]
					}
				}
			}
			if !found {
				return sel, Result{Label: "DISK", Status: Unknown, Colon: true,
					Summary: "Regular expression did not match any path or disk - " + op.arg}, false
			}
		case opIgnore:
			list = slices.DeleteFunc(list, func(p *diskPath) bool {
				return p.best != nil && (op.match(p.best.Dev) || op.match(p.best.Dir))
			})
		case opAll:
			for i, m := range mounts {
				p := find(m.Dir)
				p.best, p.limits, p.group = &mounts[i], op.limits, op.group
			}
		}
	}
	seen := map[string]bool{}
	for _, p := range list {
		if p.given {
			sel.stat = append(sel.stat, p.name)
		}
		if p.best == nil {
			sel.notFound = append(sel.notFound, p.name)
			continue
		}
		m := p.best
		if seen[m.Dir] {
			continue
		}
		seen[m.Dir] = true
		if p.group == "" && c.filtered(*m, p, &sel) {
			continue
		}
		e := diskEntry{label: m.Dir, dir: m.Dir, members: []string{m.Dir}, limits: p.limits}
		if c.showDevice || m.Dir == "none" {
			e.label = m.Dev
		}
		if p.group != "" {
			e.label, e.members = p.group, nil
			for _, q := range list {
				if q.group == p.group && q.best != nil {
					sel.stat = append(sel.stat, q.name)
					e.members = append(e.members, q.best.Dir)
					seen[q.best.Dir] = true
				}
			}
		} else {
			sel.stat = append(sel.stat, p.name)
		}
		sel.stat = append(sel.stat, e.members...)
		sel.entries = append(sel.entries, e)
	}
	return sel, Result{}, true
}

// filtered applies check_disk's filters to a path outside any group:
// network filesystems with -l (stat-ed with -L), -X types (iso9660
// always), -x devices and mount points, types not in -N.
func (c *diskCheck) filtered(m mountEntry, p *diskPath, sel *diskSelection) bool {
	switch {
	case m.remote() && c.local:
		if c.statRemote {
			sel.stat = append(sel.stat, p.name)
		}
		return true
	case slices.Contains(c.excludeType, m.Type):
		return true
	case slices.Contains(c.excludeDev, m.Dev) || slices.Contains(c.excludeDev, m.Dir):
		return true
	case len(c.includeType) > 0 && !slices.Contains(c.includeType, m.Type):
		return true
	}
	return false
}

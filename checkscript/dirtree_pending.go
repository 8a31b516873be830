package checkscript

// pendingNames is a folder's names waiting for their lookup, with their
// events' masks OR-ed: a slice searched in turn rather than a map, since
// a burst of changes mostly touches one or two names in each of many
// folders, and a map of one name costs about 250 bytes (a table of 8
// slots) against 24 here. Bounded by maxPendingNames, so a search is
// short.
type pendingNames []pendingName

type pendingName struct {
	name string
	mask uint32
}

// get returns name's mask, 0 when it is not pending.
func (p pendingNames) get(name string) uint32 {
	for _, n := range p {
		if n.name == name {
			return n.mask
		}
	}
	return 0
}

// add ORs mask into name's, adding the name when missing.
func (p *pendingNames) add(name string, mask uint32) {
	for i := range *p {
		if (*p)[i].name == name {
			(*p)[i].mask |= mask
			return
		}
	}
	*p = append(*p, pendingName{name, mask})
}

// del forgets name.
func (p *pendingNames) del(name string) {
	for i, n := range *p {
		if n.name == name {
			last := len(*p) - 1
			(*p)[i], (*p)[last] = (*p)[last], pendingName{}
			*p = (*p)[:last]
			return
		}
	}
}

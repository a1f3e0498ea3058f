package scheduler

import (
	"bytes"
	"sort"
)

// ChangeKind says how a file differs between two trees.
type ChangeKind string

const (
	Added    ChangeKind = "added"
	Modified ChangeKind = "modified"
	Deleted  ChangeKind = "deleted"
)

// Change is one differing file.
type Change struct {
	Path string
	Kind ChangeKind
}

// DiffTrees lists the files that differ between two output trees, sorted by path.
func DiffTrees(old, nu map[string][]byte) []Change {
	var out []Change
	for p, c := range nu {
		o, ok := old[p]
		switch {
		case !ok:
			out = append(out, Change{Path: p, Kind: Added})
		case !bytes.Equal(o, c):
			out = append(out, Change{Path: p, Kind: Modified})
		}
	}
	for p := range old {
		if _, ok := nu[p]; !ok {
			out = append(out, Change{Path: p, Kind: Deleted})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

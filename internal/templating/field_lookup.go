package templating

// LookupField returns the value at a field path of obj and whether it exists.
// Paths have the syntax of the getField template helper: dot-separated keys,
// each optionally followed by [N] list indexes or ["quoted.key"] keys, e.g.
// "spec.ports[0].port". A leading dot is accepted (".spec.replicas"). A path
// that does not parse, or that walks into a value that is neither a map nor a
// list where it needs one, is an error.
func LookupField(obj map[string]any, path string) (any, bool, error) {
	if len(path) > 1 && path[0] == '.' {
		path = path[1:]
	}
	steps, err := parsePath(path)
	if err != nil {
		return nil, false, err
	}
	return getPath(obj, steps)
}

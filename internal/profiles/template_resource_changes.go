package profiles

import (
	"fmt"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/templating"
)

// watchedContent is the part of a templateResourceRef's object whose change
// deploys the profile again (what the Resources feature's hash covers): the
// fields of watchFields when set (a missing field counts as empty); else, with
// ignoreStatusChanges, everything but the status and the metadata a status
// write changes (resourceVersion, managedFields); else the whole object.
// Templates always see the whole object. where names the reference in errors
// (a watchFields path that does not parse).
func watchedContent(obj map[string]any, ref libv1beta1.TemplateResourceRef, where string) (any, error) {
	if len(ref.WatchFields) > 0 {
		fields := make(map[string]any, len(ref.WatchFields))
		for j, p := range ref.WatchFields {
			v, _, err := templating.LookupField(obj, p)
			if err != nil {
				return nil, fmt.Errorf("%s.watchFields[%d] %q: %w", where, j, p, err)
			}
			fields[p] = v
		}
		return fields, nil
	}
	if !ref.IgnoreStatusChanges {
		return obj, nil
	}
	out := make(map[string]any, len(obj))
	for k, v := range obj {
		if k != "status" {
			out[k] = v
		}
	}
	if meta, ok := obj["metadata"].(map[string]any); ok {
		m := make(map[string]any, len(meta))
		for k, v := range meta {
			if k != "resourceVersion" && k != "managedFields" {
				m[k] = v
			}
		}
		out["metadata"] = m
	}
	return out, nil
}

package scheduler

import (
	"fmt"
	"strings"
)

// Error is a scheduling failure confined to one deployment target on one cluster
// type (or to one object of the control plane when those are empty).
type Error struct {
	Environment      string
	ClusterType      string
	DeploymentTarget string
	// Object names the control-plane object at fault when no target is concerned,
	// as <Kind>/<name>.
	Object string
	Err    error
}

func (e *Error) Error() string {
	var parts []string
	if e.Environment != "" {
		parts = append(parts, "environment "+e.Environment)
	}
	if e.ClusterType != "" {
		parts = append(parts, "cluster type "+e.ClusterType)
	}
	if e.DeploymentTarget != "" {
		parts = append(parts, "deployment target "+e.DeploymentTarget)
	}
	if e.Object != "" {
		parts = append(parts, e.Object)
	}
	return fmt.Sprintf("%s: %v", strings.Join(parts, ", "), e.Err)
}

func (e *Error) Unwrap() error { return e.Err }

package scheduler

import (
	"context"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strings"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// WorkloadSource opens the application teams' repositories a WorkloadRegistration
// points at.
type WorkloadSource interface {
	// Open returns the tree of ref.Repo at ref.Branch (ref.Path is applied by the caller).
	Open(ctx context.Context, ref v1alpha1.RepositoryReference) (fs.FS, error)
}

// Target is a deployment target of the environment being scheduled.
type Target struct {
	// Name is <workload>-<target>.
	Name        string
	Workload    string
	Workspace   string
	Environment string
	// Labels are the target's labels ∪ the workload's labels ∪ workload=, workspace=.
	Labels        map[string]string
	Manifests     map[string]string
	ConfigSchemas []string
}

// RegisteredWorkload is a Workload together with the registration that onboarded it.
type RegisteredWorkload struct {
	Registration v1alpha1.WorkloadRegistration
	Workload     v1alpha1.Workload
}

// CleanRepoPath turns a path of a RepositoryReference ("./x", "x/", "/x", ".") into
// an fs.FS path.
func CleanRepoPath(p string) string {
	p = path.Clean("/" + strings.TrimSpace(p))
	p = strings.TrimPrefix(p, "/")
	if p == "" {
		return "."
	}
	return p
}

// ResolveWorkloads finds the Workload of every registration: a Workload of the same
// name in m itself, else every Workload found at the registration's repo, branch
// and path through src. A registration that cannot be resolved yields an error and
// no workload; the others are still returned.
func ResolveWorkloads(ctx context.Context, environment string, m *Manifests, src WorkloadSource) ([]RegisteredWorkload, []*Error) {
	inTree := map[string]v1alpha1.Workload{}
	for _, w := range m.Workloads {
		inTree[w.Name] = w
	}
	var out []RegisteredWorkload
	var errs []*Error
	for _, reg := range m.Registrations {
		if w, ok := inTree[reg.Name]; ok {
			out = append(out, RegisteredWorkload{Registration: reg, Workload: w})
			continue
		}
		fail := func(err error) {
			errs = append(errs, &Error{Environment: environment, Object: "WorkloadRegistration/" + reg.Name, Err: err})
		}
		if err := ctx.Err(); err != nil {
			fail(err)
			continue
		}
		ref := reg.Spec.Workload
		if src == nil {
			fail(fmt.Errorf("workload not found in the control plane and no source to fetch %s", describeRef(ref)))
			continue
		}
		fsys, err := src.Open(ctx, ref)
		if err != nil {
			fail(fmt.Errorf("opening %s: %w", describeRef(ref), err))
			continue
		}
		wm, err := Load(fsys, CleanRepoPath(ref.Path))
		if err != nil {
			fail(fmt.Errorf("loading %s: %w", describeRef(ref), err))
			continue
		}
		if len(wm.Workloads) == 0 {
			fail(fmt.Errorf("no Workload found in %s", describeRef(ref)))
			continue
		}
		for _, w := range wm.Workloads {
			out = append(out, RegisteredWorkload{Registration: reg, Workload: w})
		}
	}
	return out, errs
}

func describeRef(ref v1alpha1.RepositoryReference) string {
	return fmt.Sprintf("%s (branch %s, path %s)", ref.Repo, ref.Branch, ref.Path)
}

// BuildTargets returns the deployment targets of the environment, sorted by name:
// one per Workload deployment target whose environment matches, plus explicit
// DeploymentTarget objects of the environment whose names are not taken.
func BuildTargets(environment string, workloads []RegisteredWorkload, explicit []v1alpha1.DeploymentTarget) ([]Target, []*Error) {
	var targets []Target
	var errs []*Error
	seen := map[string]string{}
	for _, rw := range workloads {
		w := rw.Workload
		for _, dt := range w.Spec.DeploymentTargets {
			if dt.Environment != environment {
				continue
			}
			name := w.Name + "-" + dt.Name
			if prev, dup := seen[name]; dup {
				errs = append(errs, &Error{Environment: environment, DeploymentTarget: name,
					Err: fmt.Errorf("deployment target name already produced by %s", prev)})
				continue
			}
			seen[name] = "Workload/" + w.Name
			labels := map[string]string{}
			for k, v := range w.Labels {
				labels[k] = v
			}
			for k, v := range dt.Labels {
				labels[k] = v
			}
			labels[v1alpha1.WorkloadLabel] = w.Name
			labels[v1alpha1.WorkspaceLabel] = rw.Registration.Spec.Workspace
			schemas := append(append([]string{}, w.Spec.ConfigSchemas...), dt.ConfigSchemas...)
			targets = append(targets, Target{
				Name:          name,
				Workload:      w.Name,
				Workspace:     rw.Registration.Spec.Workspace,
				Environment:   environment,
				Labels:        labels,
				Manifests:     copyStrings(dt.Manifests),
				ConfigSchemas: schemas,
			})
		}
	}
	for _, dt := range explicit {
		if dt.Spec.Environment != environment {
			continue
		}
		if _, dup := seen[dt.Name]; dup {
			continue
		}
		seen[dt.Name] = "DeploymentTarget/" + dt.Name
		targets = append(targets, Target{
			Name:          dt.Name,
			Workload:      dt.Labels[v1alpha1.WorkloadLabel],
			Workspace:     dt.Labels[v1alpha1.WorkspaceLabel],
			Environment:   environment,
			Labels:        copyStrings(dt.Labels),
			Manifests:     copyStrings(dt.Spec.Manifests),
			ConfigSchemas: append([]string{}, dt.Spec.ConfigSchemas...),
		})
	}
	sort.Slice(targets, func(i, j int) bool { return targets[i].Name < targets[j].Name })
	return targets, errs
}

func copyStrings(m map[string]string) map[string]string {
	out := make(map[string]string, len(m))
	for k, v := range m {
		out[k] = v
	}
	return out
}

package scheduler

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"path"
	"sort"
	"strings"

	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/util/validation"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	"sigs.k8s.io/yaml"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// ConfigMap is the part of a core/v1 ConfigMap the scheduler reads.
type ConfigMap struct {
	metav1.TypeMeta   `json:",inline"`
	metav1.ObjectMeta `json:"metadata,omitempty"`
	Data              map[string]string `json:"data,omitempty"`
}

// Manifests are the scheduler objects found in one or more checkouts.
type Manifests struct {
	Environments      []v1alpha1.Environment
	ClusterTypes      []v1alpha1.ClusterType
	Templates         []v1alpha1.Template
	Registrations     []v1alpha1.WorkloadRegistration
	Workloads         []v1alpha1.Workload
	DeploymentTargets []v1alpha1.DeploymentTarget
	Policies          []v1alpha1.SchedulingPolicy
	ConfigSchemas     []v1alpha1.ConfigSchema
	GitOpsRepos       []v1alpha1.GitOpsRepo
	BaseRepos         []v1alpha1.BaseRepo
	// ConfigMaps holds the ConfigMaps labelled platform-config: "true".
	ConfigMaps []ConfigMap

	// Origins maps "<Kind>/<name>" to the file the object was read from.
	Origins map[string]string
	// Skipped lists the YAML documents that were not Kubernetes objects, with the reason.
	Skipped []string
}

type typeMeta struct {
	APIVersion string `json:"apiVersion"`
	Kind       string `json:"kind"`
}

// IsManifestFile reports whether a file name is read as YAML.
func IsManifestFile(name string) bool {
	ext := strings.ToLower(path.Ext(name))
	return ext == ".yaml" || ext == ".yml"
}

// EnvironmentsFolder is the one hidden folder Load reads: the Kalypso layout keeps
// the Environment objects of the control plane's main branch there.
const EnvironmentsFolder = ".environments"

// skipFolder reports whether Load leaves a folder out: hidden folders (.git,
// .github with its CI workflows and their templates, editor folders) hold no
// platform configuration, as GitOps tools treat them, except EnvironmentsFolder.
func skipFolder(name string) bool {
	return strings.HasPrefix(name, ".") && name != "." && name != EnvironmentsFolder
}

// Load reads every YAML document below root in fsys (any folder layout, multi-document
// files), keeping the scheduler.kalypso.io/v1alpha1 objects and the platform
// ConfigMaps. Other files, other kinds and documents that are not objects are
// ignored. Hidden folders (.git, .github, ...) are not entered, except
// .environments. An object whose name is not a valid Kubernetes name (a CI
// template's "$branch") and two objects of the same kind and name are errors
// naming the files.
func Load(fsys fs.FS, root string) (*Manifests, error) {
	if root == "" {
		root = "."
	}
	m := &Manifests{Origins: map[string]string{}}
	err := fs.WalkDir(fsys, root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return fmt.Errorf("walking %s: %w", p, err)
		}
		if d.IsDir() {
			if p != root && skipFolder(d.Name()) {
				return fs.SkipDir
			}
			return nil
		}
		if !d.Type().IsRegular() || !IsManifestFile(p) {
			return nil
		}
		raw, err := fs.ReadFile(fsys, p)
		if err != nil {
			return fmt.Errorf("reading %s: %w", p, err)
		}
		return m.addFile(p, raw)
	})
	if err != nil {
		return nil, err
	}
	m.sort()
	return m, nil
}

// LoadBytes reads the objects of one (multi-document) YAML file.
func LoadBytes(name string, raw []byte) (*Manifests, error) {
	m := &Manifests{Origins: map[string]string{}}
	if err := m.addFile(name, raw); err != nil {
		return nil, err
	}
	m.sort()
	return m, nil
}

func (m *Manifests) addFile(name string, raw []byte) error {
	r := utilyaml.NewYAMLReader(bufio.NewReader(bytes.NewReader(raw)))
	for i := 0; ; i++ {
		doc, err := r.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		if err != nil {
			return fmt.Errorf("reading %s: %w", name, err)
		}
		if err := m.addDocument(fmt.Sprintf("%s#%d", name, i), doc); err != nil {
			return err
		}
	}
}

func (m *Manifests) addDocument(where string, doc []byte) error {
	if len(bytes.TrimSpace(doc)) == 0 {
		return nil
	}
	var tm typeMeta
	if err := yaml.Unmarshal(doc, &tm); err != nil {
		m.Skipped = append(m.Skipped, fmt.Sprintf("%s: not a YAML object: %v", where, err))
		return nil
	}
	if tm.APIVersion == "v1" && tm.Kind == "ConfigMap" {
		var cm ConfigMap
		if err := yaml.Unmarshal(doc, &cm); err != nil {
			return fmt.Errorf("decoding ConfigMap in %s: %w", where, err)
		}
		if cm.Labels[v1alpha1.PlatformConfigLabel] != "true" {
			return nil
		}
		if err := validName("ConfigMap", cm.Name, where); err != nil {
			return err
		}
		if err := m.origin("ConfigMap", cm.Name, where); err != nil {
			return err
		}
		m.ConfigMaps = append(m.ConfigMaps, cm)
		return nil
	}
	if tm.APIVersion != v1alpha1.GroupVersion.String() {
		return nil
	}
	var name string
	var err error
	switch tm.Kind {
	case "Environment":
		name, err = decodeInto(doc, &m.Environments, func(o *v1alpha1.Environment) string { return o.Name })
	case "ClusterType":
		name, err = decodeInto(doc, &m.ClusterTypes, func(o *v1alpha1.ClusterType) string { return o.Name })
	case "Template":
		name, err = decodeInto(doc, &m.Templates, func(o *v1alpha1.Template) string { return o.Name })
	case "WorkloadRegistration":
		name, err = decodeInto(doc, &m.Registrations, func(o *v1alpha1.WorkloadRegistration) string { return o.Name })
	case "Workload":
		name, err = decodeInto(doc, &m.Workloads, func(o *v1alpha1.Workload) string { return o.Name })
	case "DeploymentTarget":
		name, err = decodeInto(doc, &m.DeploymentTargets, func(o *v1alpha1.DeploymentTarget) string { return o.Name })
	case "SchedulingPolicy":
		name, err = decodeInto(doc, &m.Policies, func(o *v1alpha1.SchedulingPolicy) string { return o.Name })
	case "ConfigSchema":
		name, err = decodeInto(doc, &m.ConfigSchemas, func(o *v1alpha1.ConfigSchema) string { return o.Name })
	case "GitOpsRepo":
		name, err = decodeInto(doc, &m.GitOpsRepos, func(o *v1alpha1.GitOpsRepo) string { return o.Name })
	case "BaseRepo":
		name, err = decodeInto(doc, &m.BaseRepos, func(o *v1alpha1.BaseRepo) string { return o.Name })
	default:
		return nil // Assignment, AssignmentPackage and unknown kinds are outputs or not ours.
	}
	if err != nil {
		return fmt.Errorf("decoding %s in %s: %w", tm.Kind, where, err)
	}
	if err := validName(tm.Kind, name, where); err != nil {
		return err
	}
	return m.origin(tm.Kind, name, where)
}

// validName rejects an object that cannot be what it claims to be: without a
// name, or with one Kubernetes would refuse (a DNS-1123 subdomain), such as the
// "$branch" of a CI workflow's template.
func validName(kind, name, where string) error {
	if name == "" {
		return fmt.Errorf("%s in %s has no metadata.name", kind, where)
	}
	if errs := validation.IsDNS1123Subdomain(name); len(errs) > 0 {
		return fmt.Errorf("%s in %s: metadata.name %q is not a valid Kubernetes name (%s); a template of another tool does not belong in the control plane's configuration",
			kind, where, name, strings.Join(errs, "; "))
	}
	return nil
}

func decodeInto[T any](doc []byte, list *[]T, name func(*T) string) (string, error) {
	var obj T
	if err := yaml.UnmarshalStrict(doc, &obj); err != nil {
		return "", err
	}
	*list = append(*list, obj)
	return name(&obj), nil
}

func (m *Manifests) origin(kind, name, where string) error {
	key := kind + "/" + name
	if prev, ok := m.Origins[key]; ok {
		return fmt.Errorf("duplicate %s %q in %s and %s", kind, name, prev, where)
	}
	m.Origins[key] = where
	return nil
}

func sortByName[T any](list []T, name func(*T) string) {
	sort.SliceStable(list, func(i, j int) bool { return name(&list[i]) < name(&list[j]) })
}

func (m *Manifests) sort() {
	sortByName(m.Environments, func(o *v1alpha1.Environment) string { return o.Name })
	sortByName(m.ClusterTypes, func(o *v1alpha1.ClusterType) string { return o.Name })
	sortByName(m.Templates, func(o *v1alpha1.Template) string { return o.Name })
	sortByName(m.Registrations, func(o *v1alpha1.WorkloadRegistration) string { return o.Name })
	sortByName(m.Workloads, func(o *v1alpha1.Workload) string { return o.Name })
	sortByName(m.DeploymentTargets, func(o *v1alpha1.DeploymentTarget) string { return o.Name })
	sortByName(m.Policies, func(o *v1alpha1.SchedulingPolicy) string { return o.Name })
	sortByName(m.ConfigSchemas, func(o *v1alpha1.ConfigSchema) string { return o.Name })
	sortByName(m.GitOpsRepos, func(o *v1alpha1.GitOpsRepo) string { return o.Name })
	sortByName(m.BaseRepos, func(o *v1alpha1.BaseRepo) string { return o.Name })
	sortByName(m.ConfigMaps, func(o *ConfigMap) string { return o.Name })
}

func overlay[T any](base, over []T, name func(*T) string) []T {
	replaced := map[string]bool{}
	for i := range over {
		replaced[name(&over[i])] = true
	}
	out := make([]T, 0, len(base)+len(over))
	for i := range base {
		if !replaced[name(&base[i])] {
			out = append(out, base[i])
		}
	}
	return append(out, over...)
}

// Merge returns base overlaid with over: an object of over replaces the object of
// base with the same kind and name (an environment branch overriding main).
// Neither argument is modified.
func Merge(base, over *Manifests) *Manifests {
	if base == nil {
		base = &Manifests{}
	}
	if over == nil {
		over = &Manifests{}
	}
	m := &Manifests{
		Environments:      overlay(base.Environments, over.Environments, func(o *v1alpha1.Environment) string { return o.Name }),
		ClusterTypes:      overlay(base.ClusterTypes, over.ClusterTypes, func(o *v1alpha1.ClusterType) string { return o.Name }),
		Templates:         overlay(base.Templates, over.Templates, func(o *v1alpha1.Template) string { return o.Name }),
		Registrations:     overlay(base.Registrations, over.Registrations, func(o *v1alpha1.WorkloadRegistration) string { return o.Name }),
		Workloads:         overlay(base.Workloads, over.Workloads, func(o *v1alpha1.Workload) string { return o.Name }),
		DeploymentTargets: overlay(base.DeploymentTargets, over.DeploymentTargets, func(o *v1alpha1.DeploymentTarget) string { return o.Name }),
		Policies:          overlay(base.Policies, over.Policies, func(o *v1alpha1.SchedulingPolicy) string { return o.Name }),
		ConfigSchemas:     overlay(base.ConfigSchemas, over.ConfigSchemas, func(o *v1alpha1.ConfigSchema) string { return o.Name }),
		GitOpsRepos:       overlay(base.GitOpsRepos, over.GitOpsRepos, func(o *v1alpha1.GitOpsRepo) string { return o.Name }),
		BaseRepos:         overlay(base.BaseRepos, over.BaseRepos, func(o *v1alpha1.BaseRepo) string { return o.Name }),
		ConfigMaps:        overlay(base.ConfigMaps, over.ConfigMaps, func(o *ConfigMap) string { return o.Name }),
		Origins:           map[string]string{},
	}
	for k, v := range base.Origins {
		m.Origins[k] = v
	}
	for k, v := range over.Origins {
		m.Origins[k] = v
	}
	m.Skipped = append(append([]string{}, base.Skipped...), over.Skipped...)
	m.sort()
	return m
}

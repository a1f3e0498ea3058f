package support

import (
	"context"
	"fmt"
	"path"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/yaml"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/selection"
)

// RedactedValue replaces every value of a collected Secret's data.
const RedactedValue = "REDACTED"

// maxLogBytes bounds the log collected from one container.
const maxLogBytes = 10 << 20

// plan is what to collect from one cluster, compiled and checked.
type plan struct {
	resources []*events.Matcher
	events    []libv1beta1.Event
	logs      []logPlan
}

func (p plan) empty() bool { return len(p.resources)+len(p.events)+len(p.logs) == 0 }

type logPlan struct {
	libv1beta1.Log
	labels labels.Selector
}

// compilePlan checks what a Techsupport asks of one cluster; errors name the
// field (field is "fromManagement" or "fromManaged").
func compilePlan(field string, resources []libv1beta1.ResourceSelector, logs []libv1beta1.Log, evs []libv1beta1.Event) (plan, error) {
	p := plan{events: evs}
	for i, rs := range resources {
		m, err := events.CompileSelector(rs)
		if err != nil {
			return plan{}, fmt.Errorf("%s.resources[%d]: %w", field, i, err)
		}
		p.resources = append(p.resources, m)
	}
	for i, l := range logs {
		sel, err := selection.LabelFilters(l.LabelFilters)
		if err != nil {
			return plan{}, fmt.Errorf("%s.logs[%d].labelFilters: %w", field, i, err)
		}
		p.logs = append(p.logs, logPlan{Log: l, labels: sel})
	}
	return p, nil
}

// source is one cluster collected from.
type source struct {
	// root is the folder of the archive its files go to: "management" or
	// "clusters/<namespace>/<name>".
	root   string
	reader client.Reader
	// config reaches the cluster for pod logs (the pods/log subresource).
	config *rest.Config
}

// collector writes what it collects into an archive and keeps the problems
// that fail the run (a cluster that cannot be read, a kind it does not serve)
// apart from those only recorded in the archive (a pod whose log cannot be read).
type collector struct {
	archive  *archiveWriter
	problems []string
	written  map[string]bool
	objects  int
}

func (c *collector) fail(format string, args ...any) {
	c.problems = append(c.problems, fmt.Sprintf(format, args...))
}

// writeYAML adds an object once (selectors may overlap).
func (c *collector) writeYAML(name string, obj any) error {
	if c.written[name] {
		return nil
	}
	data, err := yaml.Marshal(obj)
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	c.written[name] = true
	c.objects++
	return c.archive.add(name, data)
}

// collect gathers everything of p from src. Only archive write errors are
// returned; the cluster's problems are kept in c.problems.
func (c *collector) collect(ctx context.Context, src source, p plan) error {
	for _, m := range p.resources {
		if err := c.collectResources(ctx, src, m); err != nil {
			return err
		}
	}
	for _, e := range p.events {
		if err := c.collectEvents(ctx, src, e); err != nil {
			return err
		}
	}
	if len(p.logs) == 0 {
		return nil
	}
	clientset, err := kubernetes.NewForConfig(src.config)
	if err != nil {
		c.fail("%s: building the client for pod logs: %v", src.root, err)
		return nil
	}
	for _, l := range p.logs {
		if err := c.collectLogs(ctx, src, clientset, l); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) collectResources(ctx context.Context, src source, m *events.Matcher) error {
	gvk := m.GVK()
	list := &unstructured.UnstructuredList{}
	list.SetGroupVersionKind(gvk.GroupVersion().WithKind(gvk.Kind + "List"))
	if err := src.reader.List(ctx, list, client.InNamespace(m.Namespace())); err != nil {
		c.fail("%s: listing %s: %v", src.root, describeGVK(gvk.Group, gvk.Version, gvk.Kind), err)
		return nil
	}
	for i := range list.Items {
		obj := &list.Items[i]
		ok, err := m.Matches(obj)
		if err != nil {
			c.fail("%s: %v", src.root, err)
			continue
		}
		if !ok {
			continue
		}
		redact(obj)
		if err := c.writeYAML(resourcePath(src.root, obj), obj.Object); err != nil {
			return err
		}
	}
	return nil
}

func (c *collector) collectEvents(ctx context.Context, src source, filter libv1beta1.Event) error {
	list := &corev1.EventList{}
	if err := src.reader.List(ctx, list, client.InNamespace(filter.Namespace)); err != nil {
		c.fail("%s: listing Events: %v", src.root, err)
		return nil
	}
	for i := range list.Items {
		ev := &list.Items[i]
		if filter.Type != "" && ev.Type != filter.Type {
			continue
		}
		ev.ManagedFields = nil
		ev.APIVersion, ev.Kind = "v1", "Event"
		if err := c.writeYAML(path.Join(src.root, "events", ev.Namespace, ev.Name+".yaml"), ev); err != nil {
			return err
		}
	}
	return nil
}

// collectLogs reads the log of every container of the selected pods. A log
// that cannot be read (a pod not running, no kubelet) is recorded beside
// where the log would be, as <container>.error, without failing the run.
func (c *collector) collectLogs(ctx context.Context, src source, clientset kubernetes.Interface, l logPlan) error {
	pods := &corev1.PodList{}
	if err := src.reader.List(ctx, pods, client.InNamespace(l.Namespace), client.MatchingLabelsSelector{Selector: l.labels}); err != nil {
		c.fail("%s: listing Pods: %v", src.root, err)
		return nil
	}
	for i := range pods.Items {
		pod := &pods.Items[i]
		if l.Name != "" && pod.Name != l.Name {
			continue
		}
		containers := make([]string, 0, len(pod.Spec.InitContainers)+len(pod.Spec.Containers))
		for _, ct := range slices.Concat(pod.Spec.InitContainers, pod.Spec.Containers) {
			containers = append(containers, ct.Name)
		}
		for _, container := range containers {
			base := path.Join(src.root, "logs", pod.Namespace, pod.Name, container)
			if c.written[base] {
				continue
			}
			c.written[base] = true
			if pod.Spec.NodeName == "" {
				// The API server answers an empty log for a pod no node runs.
				msg := fmt.Sprintf("pod %s/%s is not scheduled on a node: container %s has no log\n", pod.Namespace, pod.Name, container)
				if err := c.archive.add(base+".error", []byte(msg)); err != nil {
					return err
				}
				continue
			}
			limit := int64(maxLogBytes)
			data, err := clientset.CoreV1().Pods(pod.Namespace).GetLogs(pod.Name, &corev1.PodLogOptions{
				Container: container, SinceSeconds: l.SinceSeconds, LimitBytes: &limit,
			}).DoRaw(ctx)
			if err != nil {
				msg := fmt.Sprintf("reading the log of container %s of pod %s/%s: %v\n", container, pod.Namespace, pod.Name, err)
				if err := c.archive.add(base+".error", []byte(msg)); err != nil {
					return err
				}
				continue
			}
			if err := c.archive.add(base+".log", data); err != nil {
				return err
			}
		}
	}
	return nil
}

// redact drops what may carry a secret: a Secret's data values (keys stay),
// its stringData and its last-applied-configuration; and managedFields, which
// is noise, from every object.
func redact(obj *unstructured.Unstructured) {
	obj.SetManagedFields(nil)
	if obj.GetKind() != "Secret" || obj.GroupVersionKind().Group != "" {
		return
	}
	if data, ok := obj.Object["data"].(map[string]any); ok {
		for k := range data {
			data[k] = RedactedValue
		}
	}
	delete(obj.Object, "stringData")
	if ann := obj.GetAnnotations(); ann != nil {
		delete(ann, corev1.LastAppliedConfigAnnotation)
		if len(ann) == 0 {
			ann = nil
		}
		obj.SetAnnotations(ann)
	}
}

// resourcePath is <root>/resources/<kind>[.<group>]/<namespace>/<name>.yaml
// (cluster-scoped objects go straight under the kind's folder).
func resourcePath(root string, obj *unstructured.Unstructured) string {
	gvk := obj.GroupVersionKind()
	kind := strings.ToLower(gvk.Kind)
	if gvk.Group != "" {
		kind += "." + gvk.Group
	}
	return path.Join(root, "resources", kind, obj.GetNamespace(), obj.GetName()+".yaml")
}

func describeGVK(group, version, kind string) string {
	if group == "" {
		return version + "/" + kind
	}
	return group + "/" + version + "/" + kind
}

// clusterRoot is the archive folder of a managed cluster.
func clusterRoot(id libv1beta1.ClusterID) string {
	name := id.Name
	if id.IsCAPI() {
		name += ".capi"
	}
	return path.Join("clusters", id.Namespace, name)
}

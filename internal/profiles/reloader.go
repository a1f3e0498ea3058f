package profiles

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"slices"
	"strings"

	appsv1 "k8s.io/api/apps/v1"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	"github.com/tugboat-dev/tugboat/internal/deployer"
)

// ReloadedConfigAnnotation is set on the pod template of the Deployments,
// StatefulSets and DaemonSets a profile with spec.reloader rolls: a hash of the
// content of the ConfigMaps/Secrets the profile deployed that they mount. A
// new value is a change of the pod template, so their controllers roll them.
const ReloadedConfigAnnotation = "tugboat.dev/reloaded-config"

// reload rolls the workloads of the cluster that mount (volumes, projected
// volumes, envFrom, env valueFrom) a ConfigMap or Secret among deployed: each
// one's pod template gets ReloadedConfigAnnotation, the hash of the content of
// the deployed objects it mounts. A workload whose annotation already says so
// is not written: a deploy that changed none of the objects it mounts does
// not roll it.
func reload(ctx context.Context, c client.Client, deployed []deployer.ObjectRef) error {
	// The content of the deployed ConfigMaps/Secrets, by namespace and "Kind/name".
	content := map[string]map[string]string{}
	for _, ref := range deployed {
		if ref.APIVersion != "v1" || ref.Kind != "ConfigMap" && ref.Kind != "Secret" {
			continue
		}
		sum, err := contentHash(ctx, c, ref)
		if apierrors.IsNotFound(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("reloader: reading %s: %w", ref, err)
		}
		if content[ref.Namespace] == nil {
			content[ref.Namespace] = map[string]string{}
		}
		content[ref.Namespace][ref.Kind+"/"+ref.Name] = sum
	}
	for ns, objs := range content {
		for _, list := range []client.ObjectList{&appsv1.DeploymentList{}, &appsv1.StatefulSetList{}, &appsv1.DaemonSetList{}} {
			if err := c.List(ctx, list, client.InNamespace(ns)); err != nil {
				return fmt.Errorf("reloader: listing workloads in namespace %s: %w", ns, err)
			}
			if err := rollMounting(ctx, c, list, objs); err != nil {
				return err
			}
		}
	}
	return nil
}

// rollMounting sets the annotation on the workloads of list mounting some of objs.
func rollMounting(ctx context.Context, c client.Client, list client.ObjectList, objs map[string]string) error {
	// workload is one Deployment, StatefulSet or DaemonSet with its pod template.
	type workload struct {
		obj      client.Object
		template *corev1.PodTemplateSpec
	}
	var workloads []workload
	switch l := list.(type) {
	case *appsv1.DeploymentList:
		for i := range l.Items {
			workloads = append(workloads, workload{&l.Items[i], &l.Items[i].Spec.Template})
		}
	case *appsv1.StatefulSetList:
		for i := range l.Items {
			workloads = append(workloads, workload{&l.Items[i], &l.Items[i].Spec.Template})
		}
	case *appsv1.DaemonSetList:
		for i := range l.Items {
			workloads = append(workloads, workload{&l.Items[i], &l.Items[i].Spec.Template})
		}
	}
	for _, w := range workloads {
		var parts []string
		for _, m := range mounted(&w.template.Spec) {
			if sum, ok := objs[m]; ok {
				parts = append(parts, m+"="+sum)
			}
		}
		if len(parts) == 0 {
			continue
		}
		slices.Sort(parts)
		parts = slices.Compact(parts)
		sum := sha256.Sum256([]byte(strings.Join(parts, "\n")))
		value := hex.EncodeToString(sum[:16])
		if w.template.Annotations[ReloadedConfigAnnotation] == value {
			continue
		}
		patch, err := json.Marshal(map[string]any{"spec": map[string]any{"template": map[string]any{
			"metadata": map[string]any{"annotations": map[string]string{ReloadedConfigAnnotation: value}}}}})
		if err != nil {
			return err
		}
		if err := c.Patch(ctx, w.obj, client.RawPatch(types.MergePatchType, patch)); err != nil {
			return fmt.Errorf("reloader: rolling %T %s/%s: %w", w.obj, w.obj.GetNamespace(), w.obj.GetName(), err)
		}
	}
	return nil
}

// mounted lists the ConfigMaps and Secrets ("Kind/name") a pod spec reads.
func mounted(spec *corev1.PodSpec) []string {
	var out []string
	for _, v := range spec.Volumes {
		if v.ConfigMap != nil {
			out = append(out, "ConfigMap/"+v.ConfigMap.Name)
		}
		if v.Secret != nil {
			out = append(out, "Secret/"+v.Secret.SecretName)
		}
		if v.Projected != nil {
			for _, s := range v.Projected.Sources {
				if s.ConfigMap != nil {
					out = append(out, "ConfigMap/"+s.ConfigMap.Name)
				}
				if s.Secret != nil {
					out = append(out, "Secret/"+s.Secret.Name)
				}
			}
		}
	}
	for _, c := range slices.Concat(spec.InitContainers, spec.Containers) {
		for _, e := range c.EnvFrom {
			if e.ConfigMapRef != nil {
				out = append(out, "ConfigMap/"+e.ConfigMapRef.Name)
			}
			if e.SecretRef != nil {
				out = append(out, "Secret/"+e.SecretRef.Name)
			}
		}
		for _, e := range c.Env {
			if e.ValueFrom == nil {
				continue
			}
			if e.ValueFrom.ConfigMapKeyRef != nil {
				out = append(out, "ConfigMap/"+e.ValueFrom.ConfigMapKeyRef.Name)
			}
			if e.ValueFrom.SecretKeyRef != nil {
				out = append(out, "Secret/"+e.ValueFrom.SecretKeyRef.Name)
			}
		}
	}
	return out
}

// contentHash hashes the data of a ConfigMap or Secret as it is in the cluster.
func contentHash(ctx context.Context, c client.Client, ref deployer.ObjectRef) (string, error) {
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	var content any
	if ref.Kind == "Secret" {
		s := &corev1.Secret{}
		if err := c.Get(ctx, key, s); err != nil {
			return "", err
		}
		content = s.Data
	} else {
		cm := &corev1.ConfigMap{}
		if err := c.Get(ctx, key, cm); err != nil {
			return "", err
		}
		content = []any{cm.Data, cm.BinaryData}
	}
	raw, err := json.Marshal(content) // map keys are sorted
	if err != nil {
		return "", err
	}
	sum := sha256.Sum256(raw)
	return hex.EncodeToString(sum[:]), nil
}

package scheduler

import (
	"fmt"
	"strings"

	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// MemberLabels are the labels that make a registered cluster a member of
// clusterType in environment (a selector's matchLabels).
func MemberLabels(environment, clusterType string) map[string]string {
	return map[string]string{
		v1alpha1.MemberEnvironmentLabel: environment,
		v1alpha1.MemberClusterTypeLabel: clusterType,
	}
}

// Membership reads a registered cluster's labels: the environment and cluster
// type it belongs to, ok when it carries both.
func Membership(labels map[string]string) (environment, clusterType string, ok bool) {
	environment, clusterType = labels[v1alpha1.MemberEnvironmentLabel], labels[v1alpha1.MemberClusterTypeLabel]
	return environment, clusterType, environment != "" && clusterType != ""
}

// Delivery is who brings a cluster type's folder into its member clusters, and
// for Flux and Argo CD which in-cluster object does.
type Delivery struct {
	// Mode is v1alpha1.DeliveryTugboat, DeliveryFlux or DeliveryArgoCD.
	Mode string
	// Namespace and Name of the in-cluster Kustomization or Application.
	Namespace, Name string
}

// DeliveryOf reads a ClusterType's delivery label and reconciler annotation; an
// unknown mode or a malformed annotation is an error naming the cluster type.
func DeliveryOf(ct v1alpha1.ClusterType) (Delivery, error) {
	d := Delivery{Mode: ct.Labels[v1alpha1.DeliveryLabel]}
	switch d.Mode {
	case "", v1alpha1.DeliveryTugboat:
		return Delivery{Mode: v1alpha1.DeliveryTugboat}, nil
	case v1alpha1.DeliveryFlux:
		d.Namespace = "flux-system"
	case v1alpha1.DeliveryArgoCD:
		d.Namespace = "argocd"
	default:
		return Delivery{}, fmt.Errorf("ClusterType %s: label %s=%q: want %s, %s or %s", ct.Name, v1alpha1.DeliveryLabel, d.Mode,
			v1alpha1.DeliveryTugboat, v1alpha1.DeliveryFlux, v1alpha1.DeliveryArgoCD)
	}
	d.Name = v1alpha1.DefaultReconcilerName
	if ref, ok := ct.Annotations[v1alpha1.ReconcilerObjectAnnotation]; ok {
		ns, name, found := strings.Cut(ref, "/")
		if !found || ns == "" || name == "" {
			return Delivery{}, fmt.Errorf("ClusterType %s: annotation %s=%q: want <namespace>/<name>", ct.Name, v1alpha1.ReconcilerObjectAnnotation, ref)
		}
		d.Namespace, d.Name = ns, name
	}
	return d, nil
}

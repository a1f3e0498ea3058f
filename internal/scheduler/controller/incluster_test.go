package controller

import (
	"context"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/types"

	"github.com/tugboat-dev/tugboat/api"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
	"github.com/tugboat-dev/tugboat/config/crd"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// looseCRD is a CRD storing anything, for kinds whose controllers do not run here.
func looseCRD(group, kind, plural string) *apiextensionsv1.CustomResourceDefinition {
	preserve := true
	return &apiextensionsv1.CustomResourceDefinition{
		ObjectMeta: metav1.ObjectMeta{Name: plural + "." + group},
		Spec: apiextensionsv1.CustomResourceDefinitionSpec{
			Group: group, Scope: apiextensionsv1.NamespaceScoped,
			Names: apiextensionsv1.CustomResourceDefinitionNames{Kind: kind, ListKind: kind + "List", Plural: plural, Singular: strings.ToLower(kind)},
			Versions: []apiextensionsv1.CustomResourceDefinitionVersion{{
				Name: "v1alpha1", Served: true, Storage: true,
				Subresources: &apiextensionsv1.CustomResourceSubresources{Status: &apiextensionsv1.CustomResourceSubresourceStatus{}},
				Schema: &apiextensionsv1.CustomResourceValidation{OpenAPIV3Schema: &apiextensionsv1.JSONSchemaProps{
					Type: "object", XPreserveUnknownFields: &preserve}},
			}},
		},
	}
}

// The in-cluster reconcilers are read through the registry's connection: an Argo
// CD Application (sync revision, Synced and Healthy) and a Flux Kustomization
// (lastAppliedRevision, Ready). Nothing runs them here: the test writes the
// status they would. The management cluster stands for the member cluster.
func TestInClusterReconcilers(t *testing.T) {
	ctx := context.Background()
	cfg := env.Management().Config
	if err := crd.Apply(ctx, cfg, []*apiextensionsv1.CustomResourceDefinition{
		looseCRD("argoproj.io", "Application", "applications"),
	}); err != nil {
		t.Fatal(err)
	}
	mgmtRef := types.NamespacedName{Namespace: "mgmt", Name: "mgmt"}
	r := &EnvironmentReconciler{Client: mgmt, Scheduler: rec, Registry: clusters.NewRegistry(clusters.RegistryOptions{
		Reader: mgmt, Scheme: api.NewScheme(), ManagementCluster: mgmtRef, ManagementConfig: cfg,
	})}
	cluster := libv1beta1.SveltosCluster{ObjectMeta: metav1.ObjectMeta{Namespace: "mgmt", Name: "mgmt"}}
	const commit = "9c01aa5e3b7d4f2a8c6e0b1d3f5a7c9e2b4d6f80"

	for _, ns := range []string{"argocd", "flux-system"} {
		if err := mgmt.Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: ns}}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatal(err)
		}
	}
	write := func(apiVersion, kind, ns string, status map[string]any) {
		t.Helper()
		u := &unstructured.Unstructured{}
		u.SetAPIVersion(apiVersion)
		u.SetKind(kind)
		u.SetNamespace(ns)
		u.SetName("platform")
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: ns, Name: "platform"}, u); apierrors.IsNotFound(err) {
			u.Object["spec"] = map[string]any{}
			if err := mgmt.Create(ctx, u); err != nil {
				t.Fatal(err)
			}
		}
		u.Object["status"] = status
		if err := mgmt.Status().Update(ctx, u); err != nil {
			t.Fatal(err)
		}
	}
	observe := func(mode string) observed {
		o := observed{cluster: cluster, clusterType: "drone", delivery: &v1alpha1.ClusterTypeDelivery{ClusterType: "drone", Mode: mode,
			Reconciler: map[string]string{"argocd": "argocd/platform", "flux": "flux-system/platform"}[mode]}}
		r.observeInCluster(ctx, &o)
		return o
	}

	// Argo CD, before it exists, out of sync, then synced and healthy.
	if o := observe("argocd"); o.healthy || !strings.Contains(o.message, "Application argocd/platform not found") {
		t.Fatalf("missing Application: %+v", o)
	}
	write("argoproj.io/v1alpha1", "Application", "argocd", map[string]any{"sync": map[string]any{"status": "OutOfSync", "revision": commit}, "health": map[string]any{"status": "Progressing"}})
	if o := observe("argocd"); o.healthy || o.revision != commit || !strings.Contains(o.message, "sync OutOfSync, health Progressing") {
		t.Fatalf("out of sync: %+v", o)
	}
	write("argoproj.io/v1alpha1", "Application", "argocd", map[string]any{"sync": map[string]any{"status": "Synced", "revision": commit}, "health": map[string]any{"status": "Healthy"}})
	if o := observe("argocd"); !o.healthy || o.revision != commit || o.unreachable {
		t.Fatalf("synced: %+v", o)
	}

	// Flux: a cluster without the Kustomization kind says so.
	if o := observe("flux"); o.healthy || !strings.Contains(o.message, "does not serve Kustomization.kustomize.toolkit.fluxcd.io") {
		t.Fatalf("no Flux: %+v", o)
	}
}

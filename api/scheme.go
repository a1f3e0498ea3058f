// Package api gathers Tugboat's API groups; the types live in one package per
// group and version below this folder.
package api

import (
	apiextensionsv1 "k8s.io/apiextensions-apiserver/pkg/apis/apiextensions/v1"
	"k8s.io/apimachinery/pkg/runtime"
	utilruntime "k8s.io/apimachinery/pkg/util/runtime"
	clientgoscheme "k8s.io/client-go/kubernetes/scheme"
	capiv1beta1 "sigs.k8s.io/cluster-api/api/core/v1beta1"
	capiv1beta2 "sigs.k8s.io/cluster-api/api/core/v1beta2"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	demov1 "github.com/tugboat-dev/tugboat/api/demo/v1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	schedulerv1alpha1 "github.com/tugboat-dev/tugboat/api/scheduler/v1alpha1"
)

// NewScheme returns a scheme with the Kubernetes built-in types, CRDs and every
// Tugboat API group, and Cluster API's core group (clusters may be declared by
// Cluster API Clusters).
func NewScheme() *runtime.Scheme {
	s := runtime.NewScheme()
	utilruntime.Must(clientgoscheme.AddToScheme(s))
	utilruntime.Must(apiextensionsv1.AddToScheme(s))
	utilruntime.Must(libv1beta1.AddToScheme(s))
	utilruntime.Must(configv1beta1.AddToScheme(s))
	utilruntime.Must(demov1.AddToScheme(s))
	utilruntime.Must(schedulerv1alpha1.AddToScheme(s))
	utilruntime.Must(capiv1beta1.AddToScheme(s))
	utilruntime.Must(capiv1beta2.AddToScheme(s))
	return s
}

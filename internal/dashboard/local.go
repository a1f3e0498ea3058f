package dashboard

import (
	"context"
	"errors"
	"fmt"
	"net"

	authorizationv1 "k8s.io/api/authorization/v1"
	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/client-go/rest"
	"sigs.k8s.io/controller-runtime/pkg/cache"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/tugboat-dev/tugboat/api"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// Local is the dashboard `tug dashboard` serves: the same pages as the
// manager's, on a loopback address, read with the user's own credentials
// (a kubeconfig's). Every read of a page is a request of the user to the API
// server, so the pages show what the user's RBAC lets them read; a read the
// API server forbids is left out of the page, which says so. Pages follow
// changes through watches the user opens, metadata only, of the kinds the
// user may list and watch in every namespace.
type Local struct {
	// Config is the user's client configuration of the management cluster.
	Config *rest.Config
	// Address is where to listen: a loopback address and a port (0: a free one).
	Address string
	// PageSize is the number of rows of a list page (default DefaultPageSize).
	PageSize int
}

// Serve listens on Address, calls listening with the dashboard's URL once it
// accepts connections, and serves until ctx ends. It returns once the
// server and the user's watches have stopped.
func (l Local) Serve(ctx context.Context, listening func(url string)) error {
	opts := Options{Address: l.Address, Auth: AuthNone, PageSize: l.PageSize}
	if err := opts.Check(); err != nil {
		return err
	}
	httpClient, err := rest.HTTPClientFor(l.Config)
	if err != nil {
		return fmt.Errorf("the management cluster's client configuration: %w", err)
	}
	mapper, err := apiutil.NewDynamicRESTMapper(l.Config, httpClient)
	if err != nil {
		return fmt.Errorf("discovering the management cluster's API (%s): %w", l.Config.Host, err)
	}
	scheme := api.NewScheme()
	c, err := client.New(l.Config, client.Options{Scheme: scheme, Mapper: mapper, HTTPClient: httpClient})
	if err != nil {
		return fmt.Errorf("connecting to the management cluster %s: %w", l.Config.Host, err)
	}
	watches, err := cache.New(l.Config, cache.Options{Scheme: scheme, Mapper: mapper, HTTPClient: httpClient})
	if err != nil {
		return fmt.Errorf("watching the management cluster %s: %w", l.Config.Host, err)
	}
	board := &Server{
		Fleet:     clusters.Fleet{Reader: c, CAPI: clusters.DetectCAPI(mapper)},
		Client:    c,
		Informers: userInformers{cache: watches, client: c},
		Clusters:  kubeconfigReaders{mgmt: c},
		Options:   opts,
	}
	ln, err := net.Listen("tcp", l.Address)
	if err != nil {
		return fmt.Errorf("dashboard: %w", err)
	}
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	watching := make(chan error, 1)
	go func() { watching <- watches.Start(ctx) }()
	listening("http://" + ln.Addr().String())
	err = board.Serve(ctx, ln)
	cancel()
	return errors.Join(err, <-watching)
}

// userInformers are the informers of the user's own watches: metadata only
// (a change notice needs no more), for the kinds the user may list and watch
// in every namespace — asked with SelfSubjectAccessReviews, so that no
// watch is opened only to be refused again and again.
type userInformers struct {
	cache  cache.Cache
	client client.Client
}

func (u userInformers) GetInformer(ctx context.Context, obj client.Object, opts ...cache.InformerGetOption) (cache.Informer, error) {
	gvk, err := apiutil.GVKForObject(obj, u.client.Scheme())
	if err != nil {
		return nil, err
	}
	mapping, err := u.client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return nil, fmt.Errorf("the resource of %s: %w", gvk, err)
	}
	for _, verb := range []string{"list", "watch"} {
		review := &authorizationv1.SelfSubjectAccessReview{Spec: authorizationv1.SelfSubjectAccessReviewSpec{
			ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: mapping.Resource.Group, Resource: mapping.Resource.Resource},
		}}
		if err := u.client.Create(ctx, review); err != nil {
			return nil, fmt.Errorf("asking whether you may %s %s: %w", verb, mapping.Resource.GroupResource(), err)
		}
		if !review.Status.Allowed {
			return nil, errNotFollowed{verb: verb, resource: mapping.Resource.GroupResource().String()}
		}
	}
	changes := &metav1.PartialObjectMetadata{}
	changes.SetGroupVersionKind(gvk)
	return u.cache.GetInformer(ctx, changes, append(opts, cache.BlockUntilSynced(false))...)
}

// errNotFollowed says the user may not watch a kind in every namespace.
type errNotFollowed struct{ verb, resource string }

func (e errNotFollowed) Error() string {
	return fmt.Sprintf("you may not %s %s in every namespace: pages do not follow its changes", e.verb, e.resource)
}

// errSecrets refuses a read of Secrets: no page shows them.
var errSecrets = errors.New("the dashboard reads no Secrets")

// noSecrets is a reader that refuses to read Secrets, so that none of their
// data can reach a page; a Secret's metadata alone (PartialObjectMetadata)
// may be read.
type noSecrets struct{ reader client.Reader }

func (r noSecrets) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if _, ok := obj.(*metav1.PartialObjectMetadata); ok {
		// Metadata only, no data: a cluster's page names the profile that
		// deployed a Secret a template reads (explain.LoadInputs), from its
		// ownership annotations.
		return r.reader.Get(ctx, key, obj, opts...)
	}
	if _, ok := obj.(*corev1.Secret); ok || obj.GetObjectKind().GroupVersionKind().GroupKind() == corev1.SchemeGroupVersion.WithKind("Secret").GroupKind() {
		return fmt.Errorf("reading Secret %s: %w", key, errSecrets)
	}
	return r.reader.Get(ctx, key, obj, opts...)
}

func (r noSecrets) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	if _, ok := list.(*corev1.SecretList); ok || list.GetObjectKind().GroupVersionKind().GroupKind() == corev1.SchemeGroupVersion.WithKind("SecretList").GroupKind() {
		return fmt.Errorf("listing Secrets: %w", errSecrets)
	}
	return r.reader.List(ctx, list, opts...)
}

package dashboard

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"time"

	authenticationv1 "k8s.io/api/authentication/v1"
	authorizationv1 "k8s.io/api/authorization/v1"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"sigs.k8s.io/controller-runtime/pkg/client"
	"sigs.k8s.io/controller-runtime/pkg/client/apiutil"

	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// The ways the dashboard authenticates its users (Options.Auth).
const (
	// AuthToken (the default) logs everyone in with the one token of the
	// token Secret, as Argo CD's admin account: whoever has it reads everything.
	AuthToken = "token"
	// AuthKubernetes takes the user's own Kubernetes bearer token: a
	// TokenReview says who it is, and every read of a page is checked with a
	// SubjectAccessReview for that user.
	AuthKubernetes = "kubernetes"
	// AuthNone serves every request as the dashboard's own client: for `tug
	// dashboard`, on loopback with the user's own kubeconfig.
	AuthNone = "none"
)

// sarTTL is how long an access review's answer is reused for one user and
// one resource.
const sarTTL = 10 * time.Second

// user is who a request is authorised as, from a TokenReview.
type user struct {
	authenticationv1.UserInfo
}

type userKey struct{}

// requestUser is the user a request was authenticated as (nil: the shared
// token or no authentication, which read everything).
func requestUser(ctx context.Context) *user {
	u, _ := ctx.Value(userKey{}).(*user)
	return u
}

// reviewToken asks the management cluster who token belongs to; nil means
// the token is not valid.
func (s *Server) reviewToken(ctx context.Context, token string) (*user, error) {
	if token == "" {
		return nil, nil
	}
	review := &authenticationv1.TokenReview{Spec: authenticationv1.TokenReviewSpec{Token: token}}
	if err := s.Client.Create(ctx, review); err != nil {
		return nil, fmt.Errorf("reviewing a dashboard user's token: %w", err)
	}
	if !review.Status.Authenticated {
		return nil, nil
	}
	return &user{UserInfo: review.Status.User}, nil
}

// sessionEntry is a login of the kubernetes mode, kept on the server: the
// cookie only holds its random id.
type sessionEntry struct {
	user   *user
	expiry time.Time
}

// sessions are the logins of the kubernetes mode.
type sessions struct {
	mu      sync.Mutex
	entries map[string]sessionEntry
}

// add keeps u until expiry and returns the session's id.
func (ss *sessions) add(u *user, expiry time.Time) (string, error) {
	random := make([]byte, 32)
	if _, err := rand.Read(random); err != nil {
		return "", err
	}
	id := hex.EncodeToString(random)
	now := time.Now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.entries == nil {
		ss.entries = map[string]sessionEntry{}
	}
	for k, e := range ss.entries {
		if !now.Before(e.expiry) {
			delete(ss.entries, k)
		}
	}
	ss.entries[id] = sessionEntry{user: u, expiry: expiry}
	return id, nil
}

// get is the user of session id, nil when there is none or it expired.
func (ss *sessions) get(id string) *user {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.entries[id]
	if !ok || !time.Now().Before(e.expiry) {
		return nil
	}
	return e.user
}

func (ss *sessions) remove(id string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.entries, id)
}

// accessKey is one access review's question.
type accessKey struct {
	user, verb, group, resource, namespace string
}

type accessAnswer struct {
	allowed bool
	expiry  time.Time
}

// accessCache keeps access reviews' answers for sarTTL.
type accessCache struct {
	mu      sync.Mutex
	answers map[accessKey]accessAnswer
}

// errForbidden says the user may not read what a page shows.
type errForbidden struct {
	user, verb, resource, namespace string
}

func (e errForbidden) Error() string {
	where := "in any namespace"
	if e.namespace != "" {
		where = "in namespace " + e.namespace
	}
	return fmt.Sprintf("%s is not allowed to %s %s %s", e.user, e.verb, e.resource, where)
}

// allowed asks (or remembers for sarTTL) whether u may verb the resource in
// namespace ("" is every namespace).
func (s *Server) allowed(ctx context.Context, u *user, verb string, gr schema.GroupResource, namespace string) (bool, error) {
	key := accessKey{user: u.UID + "/" + u.Username + "/" + strings.Join(u.Groups, ","), verb: verb, group: gr.Group, resource: gr.Resource, namespace: namespace}
	now := time.Now()
	s.access.mu.Lock()
	answer, ok := s.access.answers[key]
	s.access.mu.Unlock()
	if ok && now.Before(answer.expiry) {
		return answer.allowed, nil
	}
	extra := map[string]authorizationv1.ExtraValue{}
	for k, v := range u.Extra {
		extra[k] = authorizationv1.ExtraValue(v)
	}
	review := &authorizationv1.SubjectAccessReview{Spec: authorizationv1.SubjectAccessReviewSpec{
		User: u.Username, Groups: u.Groups, UID: u.UID, Extra: extra,
		ResourceAttributes: &authorizationv1.ResourceAttributes{Verb: verb, Group: gr.Group, Resource: gr.Resource, Namespace: namespace},
	}}
	if err := s.Client.Create(ctx, review); err != nil {
		return false, fmt.Errorf("reviewing %s's access to %s: %w", u.Username, gr, err)
	}
	s.access.mu.Lock()
	if s.access.answers == nil {
		s.access.answers = map[accessKey]accessAnswer{}
	}
	for k, a := range s.access.answers {
		if !now.Before(a.expiry) {
			delete(s.access.answers, k)
		}
	}
	s.access.answers[key] = accessAnswer{allowed: review.Status.Allowed, expiry: now.Add(sarTTL)}
	s.access.mu.Unlock()
	return review.Status.Allowed, nil
}

// fleet is what a request reads through: the dashboard's Fleet, its reads
// checked for the request's user when there is one, never of Secrets.
func (s *Server) fleet(req *http.Request) clusters.Fleet {
	f := s.Fleet
	f.Reader = noSecrets{reader: s.Fleet.Reader}
	if u := requestUser(req.Context()); u != nil {
		f.Reader = &userReader{server: s, user: u, reader: f.Reader}
	}
	return f
}

// userReader reads for one user: each Get and List first asks whether the
// user may get or list that resource there.
type userReader struct {
	server *Server
	user   *user
	reader client.Reader
}

func (r *userReader) check(ctx context.Context, verb string, obj any, namespace string) error {
	var gvk schema.GroupVersionKind
	var err error
	switch o := obj.(type) {
	case client.ObjectList:
		gvk, err = apiutil.GVKForObject(o, r.server.Client.Scheme())
		gvk.Kind = strings.TrimSuffix(gvk.Kind, "List")
	case client.Object:
		gvk, err = apiutil.GVKForObject(o, r.server.Client.Scheme())
	}
	if err != nil {
		return err
	}
	mapping, err := r.server.Client.RESTMapper().RESTMapping(gvk.GroupKind(), gvk.Version)
	if err != nil {
		return fmt.Errorf("the resource of %s: %w", gvk, err)
	}
	gr := mapping.Resource.GroupResource()
	ok, err := r.server.allowed(ctx, r.user, verb, gr, namespace)
	if err != nil {
		return err
	}
	if !ok {
		return errForbidden{user: r.user.Username, verb: verb, resource: gr.String(), namespace: namespace}
	}
	return nil
}

func (r *userReader) Get(ctx context.Context, key client.ObjectKey, obj client.Object, opts ...client.GetOption) error {
	if err := r.check(ctx, "get", obj, key.Namespace); err != nil {
		return err
	}
	return r.reader.Get(ctx, key, obj, opts...)
}

func (r *userReader) List(ctx context.Context, list client.ObjectList, opts ...client.ListOption) error {
	lo := (&client.ListOptions{}).ApplyOptions(opts)
	if err := r.check(ctx, "list", list, lo.Namespace); err != nil {
		return err
	}
	return r.reader.List(ctx, list, opts...)
}

// mayWatch says whether u may list at least one kind the pages show: the
// event stream is for them only.
func (s *Server) mayWatch(req *http.Request) error {
	u := requestUser(req.Context())
	if u == nil {
		return nil
	}
	r := &userReader{server: s, user: u}
	var last error
	for _, obj := range s.watched() {
		err := r.check(req.Context(), "list", obj, "")
		if err == nil {
			return nil
		}
		last = err
	}
	var forbidden errForbidden
	if errors.As(last, &forbidden) {
		return errForbidden{user: u.Username, verb: "list", resource: "anything the dashboard shows"}
	}
	return last
}

package devplatform

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
	"github.com/tugboat-dev/tugboat/internal/dashboard"
	"github.com/tugboat-dev/tugboat/internal/events"
	"github.com/tugboat-dev/tugboat/internal/localkube"
)

// PortalStream is the JetStream stream the local platform creates for CloudEvents
// (Tugboat does not create streams: the platform's owner does); it holds the
// subjects PortalSubjects.
const PortalStream = "PORTAL"

// PortalSubjects are the subjects of PortalStream, which every cluster of the
// platform receives CloudEvents from over JetStream.
const PortalSubjects = "portal.>"

// eventsTokenSecret is the Secret in the management cluster holding the token
// of the CloudEvents HTTP endpoint.
var eventsTokenSecret = types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: "tugboat-events-token"}

// The state files of the messaging parts in Options.Dir, written by Serve,
// removed on shutdown: the NATS server's URL and token, the CloudEvents HTTP
// endpoint's base URL and token, the dashboard's URL and login token.
func (o Options) natsURLFile() string        { return filepath.Join(o.Dir, "nats.url") }
func (o Options) natsTokenFile() string      { return filepath.Join(o.Dir, "nats.token") }
func (o Options) eventsURLFile() string      { return filepath.Join(o.Dir, "events.url") }
func (o Options) eventsTokenFile() string    { return filepath.Join(o.Dir, "events.token") }
func (o Options) dashboardURLFile() string   { return filepath.Join(o.Dir, "dashboard.url") }
func (o Options) dashboardTokenFile() string { return filepath.Join(o.Dir, "dashboard.token") }

// Endpoints are where the running platform receives CloudEvents and serves its
// dashboard, with their credentials.
type Endpoints struct {
	NATSURL, NATSToken     string
	EventsURL, EventsToken string
	DashboardURL           string
	DashboardToken         string
	// DashboardTokenSecret holds DashboardToken in the management cluster.
	DashboardTokenSecret types.NamespacedName
}

// Endpoints reads the running platform's endpoints from its state folder.
func (o Options) Endpoints() (Endpoints, error) {
	read := func(path string) (string, error) {
		raw, err := os.ReadFile(path)
		if err != nil {
			return "", fmt.Errorf("the local platform's %s is unknown (is `tug dev up` running?): %w", filepath.Base(path), err)
		}
		return strings.TrimSpace(string(raw)), nil
	}
	e := Endpoints{DashboardTokenSecret: types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: dashboard.DefaultTokenSecretName}}
	for _, f := range []struct {
		path string
		to   *string
	}{
		{o.natsURLFile(), &e.NATSURL}, {o.natsTokenFile(), &e.NATSToken},
		{o.eventsURLFile(), &e.EventsURL}, {o.eventsTokenFile(), &e.EventsToken},
		{o.dashboardURLFile(), &e.DashboardURL}, {o.dashboardTokenFile(), &e.DashboardToken},
	} {
		v, err := read(f.path)
		if err != nil {
			return Endpoints{}, err
		}
		*f.to = v
	}
	return e, nil
}

// randomToken is 24 random bytes in hex.
func randomToken() (string, error) {
	b := make([]byte, 24)
	if _, err := rand.Read(b); err != nil {
		return "", err
	}
	return hex.EncodeToString(b), nil
}

// startNATS starts a NATS server with JetStream on loopback (token auth, its
// streams under dir), creates PortalStream and records the URL and token.
func startNATS(ctx context.Context, o Options, dir string) (*localkube.NATSServer, string, func(), error) {
	token, err := randomToken()
	if err != nil {
		return nil, "", nil, err
	}
	srv, err := localkube.StartNATS(localkube.NATSOptions{StoreDir: dir, Token: token})
	if err != nil {
		return nil, "", nil, err
	}
	stop := func() {
		srv.Stop()
		_ = os.Remove(o.natsURLFile())
		_ = os.Remove(o.natsTokenFile())
	}
	if err := createStream(ctx, srv.URL(), token); err != nil {
		stop()
		return nil, "", nil, err
	}
	for path, value := range map[string]string{o.natsURLFile(): srv.URL(), o.natsTokenFile(): token} {
		if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
			stop()
			return nil, "", nil, fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return srv, token, stop, nil
}

// createStream creates PortalStream, as `nats stream add` would.
func createStream(ctx context.Context, url, token string) error {
	nc, err := nats.Connect(url, nats.Token(token), nats.Name("tug dev up"))
	if err != nil {
		return fmt.Errorf("connecting to the local NATS server %s: %w", url, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	if _, err := js.CreateOrUpdateStream(ctx, jetstream.StreamConfig{Name: PortalStream, Subjects: []string{PortalSubjects}}); err != nil {
		return fmt.Errorf("creating the JetStream stream %s: %w", PortalStream, err)
	}
	return nil
}

// natsSecretJSON is what the Secret projectsveltos/sveltos-nats holds in each
// cluster: Sveltos' shape, JetStream on PortalSubjects.
func natsSecretJSON(url, token string) ([]byte, error) {
	section := map[string]any{"configuration": map[string]any{
		"url": url, "subjects": []string{PortalSubjects}, "authorization": map[string]any{"token": token}}}
	return json.Marshal(map[string]any{"jetstream": section})
}

// configureNATS writes the Secret projectsveltos/sveltos-nats into every
// cluster of the platform, so that each receives CloudEvents from the local
// NATS server's PortalStream once an EventTrigger names it a source.
func configureNATS(ctx context.Context, env *localkube.Env, url, token string) error {
	value, err := natsSecretJSON(url, token)
	if err != nil {
		return err
	}
	for _, cl := range env.Clusters {
		c, err := client.New(cl.Config, client.Options{})
		if err != nil {
			return fmt.Errorf("connecting to cluster %s: %w", cl.Name, err)
		}
		if err := clusters.EnsureNamespace(ctx, c, libv1beta1.NATSSecretNamespace); err != nil {
			return fmt.Errorf("cluster %s: %w", cl.Name, err)
		}
		if err := upsertSecret(ctx, c, types.NamespacedName{Namespace: libv1beta1.NATSSecretNamespace, Name: libv1beta1.NATSSecretName},
			map[string][]byte{libv1beta1.NATSSecretKey: value}); err != nil {
			return fmt.Errorf("cluster %s: %w", cl.Name, err)
		}
	}
	return nil
}

// upsertSecret creates the Secret or replaces its data.
func upsertSecret(ctx context.Context, c client.Client, key types.NamespacedName, data map[string][]byte) error {
	secret := &corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: key.Namespace, Name: key.Name}, Data: data}
	err := c.Create(ctx, secret)
	if apierrors.IsAlreadyExists(err) {
		if err = c.Get(ctx, key, secret); err == nil {
			secret.Data = data
			err = c.Update(ctx, secret)
		}
	}
	if err != nil {
		return fmt.Errorf("writing Secret %s: %w", key, err)
	}
	return nil
}

// createEventsToken writes the CloudEvents endpoint's token Secret into the
// management cluster and the token into events.token.
func createEventsToken(ctx context.Context, o Options, c client.Client) error {
	token, err := randomToken()
	if err != nil {
		return err
	}
	if err := clusters.EnsureNamespace(ctx, c, eventsTokenSecret.Namespace); err != nil {
		return err
	}
	if err := upsertSecret(ctx, c, eventsTokenSecret, map[string][]byte{events.HTTPTokenKey: []byte(token)}); err != nil {
		return err
	}
	return os.WriteFile(o.eventsTokenFile(), []byte(token), 0o600)
}

// recordEndpoints waits until the manager serves the CloudEvents endpoint and
// the dashboard, and records their URLs and the dashboard's token (from the
// Secret the dashboard creates).
func recordEndpoints(ctx context.Context, o Options, c client.Client, eventsAddr, dashboardAddr func() string) error {
	deadline := time.Now().Add(time.Minute)
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: libv1beta1.DefaultSystemNamespace, Name: dashboard.DefaultTokenSecretName}
	for {
		err := c.Get(ctx, key, secret)
		if err == nil && eventsAddr() != "" && dashboardAddr() != "" && len(secret.Data[dashboard.TokenKey]) > 0 {
			break
		}
		if time.Now().After(deadline) {
			return fmt.Errorf("the manager's CloudEvents endpoint and dashboard did not start within a minute (token Secret %s: %v)", key, err)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	for path, value := range map[string]string{
		o.eventsURLFile():      "http://" + eventsAddr(),
		o.dashboardURLFile():   "http://" + dashboardAddr(),
		o.dashboardTokenFile(): string(secret.Data[dashboard.TokenKey]),
	} {
		if err := os.WriteFile(path, []byte(value), 0o600); err != nil {
			return fmt.Errorf("writing %s: %w", path, err)
		}
	}
	return nil
}

// removeEndpointFiles removes what recordEndpoints and createEventsToken wrote.
func (o Options) removeEndpointFiles() {
	for _, f := range []string{o.eventsURLFile(), o.eventsTokenFile(), o.dashboardURLFile(), o.dashboardTokenFile()} {
		_ = os.Remove(f)
	}
}

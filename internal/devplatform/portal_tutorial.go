package devplatform

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strings"
	"time"

	cloudevents "github.com/cloudevents/sdk-go/v2"
	"github.com/jackc/pgx/v5"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	configv1beta1 "github.com/tugboat-dev/tugboat/api/config/v1beta1"
	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/examples"
)

// The portal act's CloudEvents: what a developer portal sends when a team asks
// for a database, and when it gives it back.
const (
	PortalSource       = "portal.example.com"
	PortalSubject      = "portal.databases"
	PortalCreatedType  = "dev.tugboat.database.requested"
	PortalDeletedType  = "dev.tugboat.database.deleted"
	portalTriggerName  = "portal-database"
	portalEventSource  = "portal-database-requests"
	portalCredentialNS = "default"
)

// ErrInvalidTeam: the portal act's team cannot name a Cluster.
var ErrInvalidTeam = errors.New("--team")

// RunPortal plays the portal act: a developer portal's "Create database" button
// publishes a CloudEvent over JetStream; the EventTrigger of examples/portal
// turns it into a PostgreSQL Cluster in the services cluster, where the
// database stand-in starts it; the tutorial's credential triggers bring its
// credentials back to the management cluster, and the act connects with them.
// Then the portal gives the database back: a Delete CloudEvent POSTed to the
// manager's HTTP endpoint withdraws the Cluster, and the credentials go too.
// team names the team (the CloudEvent's subject). Safe to run again.
func (t *Tutorial) RunPortal(ctx context.Context, team string) error {
	if !regexp.MustCompile(`^[a-z0-9]([a-z0-9-]{0,40}[a-z0-9])?$`).MatchString(team) {
		return fmt.Errorf("%w %q: want up to 42 lower-case letters, digits and '-', starting and ending with a letter or digit (it names the Cluster db-TEAM)", ErrInvalidTeam, team)
	}
	mgmt, err := t.client("mgmt")
	if err != nil {
		return err
	}
	services, err := t.client("services")
	if err != nil {
		return err
	}
	ends, err := t.Options.Endpoints()
	if err != nil {
		return err
	}
	repoURL, err := t.chartRepository()
	if err != nil {
		return err
	}

	t.say("1. the database operator's chart on the services cluster and the tutorial's credential triggers (cloudnative-pg.yaml, fetch-postgres-data.yaml)")
	if err := t.applyManifests(ctx, mgmt, repoURL, "cloudnative-pg.yaml", "fetch-postgres-data.yaml"); err != nil {
		return err
	}
	if err := t.wait(ctx, "cnpg chart Provisioned on services", func() error {
		return provisioned(ctx, mgmt, "services", configv1beta1.ClusterSummaryName(configv1beta1.ClusterProfileKind, "deploy-cnpg", "services"), libv1beta1.FeatureHelm)
	}); err != nil {
		return err
	}

	t.say("2. portal.yaml: EventSource %s (CloudEvents from %s on subject %s) and EventTrigger %s (Create or Delete by the event's type)",
		portalEventSource, PortalSource, PortalSubject, portalTriggerName)
	if err := apply(ctx, mgmt, examples.Portal()); err != nil {
		return err
	}
	cluster := "db-" + team
	if err := t.removeLeftovers(ctx, mgmt, services, ends, team, cluster); err != nil {
		return err
	}

	t.say("3. the portal's \"Create database\" for team %s: a CloudEvent published on JetStream (stream %s, subject %s, NATS %s)", team, PortalStream, PortalSubject, ends.NATSURL)
	create, err := portalEvent(PortalCreatedType, team, map[string]any{"database": team, "instances": 1})
	if err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "   %s\n", create)
	if err := publishJetStream(ctx, ends, create); err != nil {
		return err
	}
	if err := t.wait(ctx, fmt.Sprintf("postgresql.cnpg.io Cluster default/%s in the services cluster", cluster), func() error {
		return services.Get(ctx, types.NamespacedName{Namespace: "default", Name: cluster}, cnpgCluster())
	}); err != nil {
		return err
	}
	creds := &corev1.Secret{}
	lb := &corev1.ConfigMap{}
	if err := t.wait(ctx, "its credentials back in the management cluster (default/pg-credentials, default/pg-loadbalancer-data)", func() error {
		if err := mgmt.Get(ctx, types.NamespacedName{Namespace: portalCredentialNS, Name: "pg-credentials"}, creds); err != nil {
			return err
		}
		return mgmt.Get(ctx, types.NamespacedName{Namespace: portalCredentialNS, Name: "pg-loadbalancer-data"}, lb)
	}); err != nil {
		return err
	}
	dsn := fmt.Sprintf("host=%s port=%s user=%s password=%s dbname=%s sslmode=disable",
		lb.Data["external-ip"], lb.Data["port"], creds.Data["user"], creds.Data["password"], team)
	var database string
	if err := t.wait(ctx, "connecting with the delivered credentials", func() error {
		conn, err := pgx.Connect(ctx, dsn)
		if err != nil {
			return err
		}
		defer conn.Close(ctx)
		return conn.QueryRow(ctx, "select current_database()").Scan(&database)
	}); err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "Database %s at %s:%s, user %s: provisioned from the portal's CloudEvent.\n", database, lb.Data["external-ip"], lb.Data["port"], creds.Data["user"])

	t.say("4. the portal gives it back: a %s CloudEvent for team %s POSTed to the manager's endpoint %s/events/mgmt/mgmt", PortalDeletedType, team, ends.EventsURL)
	del, err := portalEvent(PortalDeletedType, team, nil)
	if err != nil {
		return err
	}
	receipt, err := postEvent(ctx, ends, del)
	if err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "   200 %s\n", receipt)
	if err := t.wait(ctx, fmt.Sprintf("Cluster default/%s withdrawn from the services cluster", cluster), func() error {
		return absent(services.Get(ctx, types.NamespacedName{Namespace: "default", Name: cluster}, cnpgCluster()))
	}); err != nil {
		return err
	}
	if err := t.wait(ctx, "its credentials gone from the management cluster", func() error {
		return absent(mgmt.Get(ctx, types.NamespacedName{Namespace: portalCredentialNS, Name: "pg-credentials"}, &corev1.Secret{}))
	}); err != nil {
		return err
	}
	fmt.Fprintf(t.Out, "The dashboard shows the trigger and what it generated: %s/events (log in with %s).\n", ends.DashboardURL, t.Options.dashboardTokenFile())
	return nil
}

// removeLeftovers gives back a database an earlier run left (its Delete event
// over HTTP), so that every run starts from nothing.
func (t *Tutorial) removeLeftovers(ctx context.Context, mgmt, services client.Client, ends Endpoints, team, cluster string) error {
	if absent(services.Get(ctx, types.NamespacedName{Namespace: "default", Name: cluster}, cnpgCluster())) != nil {
		fmt.Fprintf(t.Out, "   Cluster default/%s left by an earlier run: the portal gives it back first\n", cluster)
		del, err := portalEvent(PortalDeletedType, team, nil)
		if err != nil {
			return err
		}
		if _, err := postEvent(ctx, ends, del); err != nil {
			return err
		}
	}
	return t.wait(ctx, "nothing of an earlier run left", func() error {
		if err := absent(services.Get(ctx, types.NamespacedName{Namespace: "default", Name: cluster}, cnpgCluster())); err != nil {
			return err
		}
		return absent(mgmt.Get(ctx, types.NamespacedName{Namespace: portalCredentialNS, Name: "pg-credentials"}, &corev1.Secret{}))
	})
}

// portalEvent is a CloudEvent as the portal sends it (structured JSON).
func portalEvent(typ, team string, data map[string]any) ([]byte, error) {
	e := cloudevents.NewEvent()
	e.SetID(fmt.Sprintf("%s-%d", team, time.Now().UnixNano()))
	e.SetSource(PortalSource)
	e.SetType(typ)
	e.SetSubject(team)
	if data != nil {
		if err := e.SetData(cloudevents.ApplicationJSON, data); err != nil {
			return nil, err
		}
	}
	if err := e.Validate(); err != nil {
		return nil, fmt.Errorf("the portal's CloudEvent: %w", err)
	}
	return json.Marshal(e)
}

// publishJetStream publishes a structured CloudEvent on PortalSubject and
// waits for the stream to store it.
func publishJetStream(ctx context.Context, ends Endpoints, event []byte) error {
	nc, err := nats.Connect(ends.NATSURL, nats.Token(ends.NATSToken), nats.Name("tug dev tutorial portal"))
	if err != nil {
		return fmt.Errorf("connecting to the local NATS server %s: %w", ends.NATSURL, err)
	}
	defer nc.Close()
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	msg := nats.NewMsg(PortalSubject)
	msg.Header.Set("Content-Type", "application/cloudevents+json")
	msg.Data = event
	if _, err := js.PublishMsg(ctx, msg); err != nil {
		return fmt.Errorf("publishing on %s: %w", PortalSubject, err)
	}
	return nil
}

// postEvent POSTs a structured CloudEvent for the management cluster to the
// manager's HTTP endpoint and returns the receipt of a 200.
func postEvent(ctx context.Context, ends Endpoints, event []byte) (string, error) {
	url := ends.EventsURL + "/events/mgmt/mgmt?subject=" + PortalSubject
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(event))
	if err != nil {
		return "", err
	}
	req.Header.Set("Authorization", "Bearer "+ends.EventsToken)
	req.Header.Set("Content-Type", "application/cloudevents+json")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return "", fmt.Errorf("POST %s: %w", url, err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<16))
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("POST %s: %s: %s", url, resp.Status, strings.TrimSpace(string(body)))
	}
	return strings.TrimSpace(string(body)), nil
}

// cnpgCluster is an empty postgresql.cnpg.io/v1 Cluster to read into.
func cnpgCluster() *unstructured.Unstructured {
	u := &unstructured.Unstructured{}
	u.SetGroupVersionKind(schema.GroupVersionKind{Group: "postgresql.cnpg.io", Version: "v1", Kind: "Cluster"})
	return u
}

// absent turns the error of a Get into nil when the object does not exist,
// and into an error when it does.
func absent(getErr error) error {
	switch {
	case apierrors.IsNotFound(getErr):
		return nil
	case getErr == nil:
		return fmt.Errorf("still there")
	default:
		return getErr
	}
}

package events

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"sync"
	"time"

	"github.com/go-logr/logr"
	"github.com/nats-io/nats.go"
	"github.com/nats-io/nats.go/jetstream"
	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/clusters"
)

// deliverFunc hands one received message to the event engine. nil means the
// message is dealt with (processed, or reported and dropped as poison): a
// JetStream message is then acknowledged. An error asks for redelivery.
type deliverFunc func(ctx context.Context, cluster libv1beta1.ClusterID, subject string, header http.Header, data []byte) error

// messaging holds, per source cluster, the connections to the NATS server its
// sveltos-nats Secret names, for as long as some EventTrigger with a
// CloudEvent source holds the cluster. The manager connects to the server
// itself: nothing runs in the managed cluster. The Secret is read again at
// most every recheck, when a trigger holding the cluster is reconciled.
type messaging struct {
	registry *clusters.Registry
	deliver  deliverFunc
	recheck  time.Duration
	log      logr.Logger
	// ctx is the context of the consumers, cancelled by stop.
	ctx    context.Context
	cancel context.CancelFunc

	mu    sync.Mutex
	links map[libv1beta1.ClusterID]*clusterLink
}

// clusterLink is what one cluster's Secret configured.
type clusterLink struct {
	mu      sync.Mutex
	holders map[string]bool
	// hash is the hash of the Secret's value the connections were made with
	// ("none" without a Secret); checked is when the Secret was last read.
	hash    string
	checked time.Time
	conns   []*nats.Conn
	err     error
}

func newMessaging(registry *clusters.Registry, deliver deliverFunc, recheck time.Duration, log logr.Logger) *messaging {
	ctx, cancel := context.WithCancel(context.Background())
	return &messaging{registry: registry, deliver: deliver, recheck: recheck, log: log, ctx: ctx, cancel: cancel,
		links: map[libv1beta1.ClusterID]*clusterLink{}}
}

// hold records that trigger receives CloudEvents of cluster, connecting (or
// reconnecting, after a change of the Secret) when needed. It returns why the
// cluster's messages cannot be received, or nil (also when the cluster has no
// sveltos-nats Secret: it can still receive CloudEvents over HTTP).
func (m *messaging) hold(ctx context.Context, cluster libv1beta1.ClusterID, trigger string) error {
	m.mu.Lock()
	link, ok := m.links[cluster]
	if !ok {
		link = &clusterLink{holders: map[string]bool{}}
		m.links[cluster] = link
	}
	link.holders[trigger] = true
	m.mu.Unlock()

	link.mu.Lock()
	defer link.mu.Unlock()
	if link.hash != "" && time.Since(link.checked) < m.recheck {
		return link.err
	}
	value, err := m.readSecret(ctx, cluster)
	if err != nil {
		// Keep what is connected: the cluster may be unreachable for a moment.
		link.checked = time.Now()
		if link.err == nil && link.hash != "" {
			return nil
		}
		return err
	}
	hash := "none"
	if value != nil {
		sum := sha256.Sum256(value)
		hash = hex.EncodeToString(sum[:])
	}
	link.checked = time.Now()
	if hash == link.hash && link.err == nil {
		return nil
	}
	closeConns(link.conns)
	link.conns, link.err, link.hash = nil, nil, hash
	if value == nil {
		return nil
	}
	link.conns, link.err = m.connect(cluster, value)
	return link.err
}

// release drops trigger's hold on every cluster not in keep (nil: all) and
// closes the connections no trigger holds any more.
func (m *messaging) release(trigger string, keep map[libv1beta1.ClusterID]bool) {
	m.mu.Lock()
	var closing []*clusterLink
	for id, link := range m.links {
		if keep[id] || !link.holders[trigger] {
			continue
		}
		delete(link.holders, trigger)
		if len(link.holders) == 0 {
			delete(m.links, id)
			closing = append(closing, link)
		}
	}
	m.mu.Unlock()
	for _, link := range closing {
		link.mu.Lock()
		closeConns(link.conns)
		link.conns = nil
		link.mu.Unlock()
	}
}

// stop closes every connection.
func (m *messaging) stop() {
	m.cancel()
	m.mu.Lock()
	links := slices.Collect(maps.Values(m.links))
	m.links = map[libv1beta1.ClusterID]*clusterLink{}
	m.mu.Unlock()
	for _, link := range links {
		link.mu.Lock()
		closeConns(link.conns)
		link.conns = nil
		link.mu.Unlock()
	}
}

func closeConns(conns []*nats.Conn) {
	for _, nc := range conns {
		// Drain lets handlers running now finish (and acknowledge) first.
		if err := nc.Drain(); err != nil {
			nc.Close()
		}
	}
}

// readSecret reads the sveltos-nats Secret's value in the cluster; nil when
// there is no such Secret.
func (m *messaging) readSecret(ctx context.Context, cluster libv1beta1.ClusterID) ([]byte, error) {
	conn, err := m.registry.Get(ctx, cluster)
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	c, err := conn.Client()
	if err != nil {
		return nil, fmt.Errorf("connecting to cluster %s: %w", cluster, err)
	}
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: libv1beta1.NATSSecretNamespace, Name: libv1beta1.NATSSecretName}
	if err := c.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return nil, nil
		}
		return nil, fmt.Errorf("reading Secret %s in cluster %s: %w", key, cluster, err)
	}
	value, ok := secret.Data[libv1beta1.NATSSecretKey]
	if !ok {
		return nil, fmt.Errorf("Secret %s in cluster %s has no key %s", key, cluster, libv1beta1.NATSSecretKey)
	}
	return value, nil
}

// connect opens the connections the Secret's value configures and starts
// receiving. On error nothing stays open.
func (m *messaging) connect(cluster libv1beta1.ClusterID, value []byte) ([]*nats.Conn, error) {
	where := fmt.Sprintf("Secret %s/%s in cluster %s", libv1beta1.NATSSecretNamespace, libv1beta1.NATSSecretName, cluster)
	cfg, err := parseNATSSecret(value)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", where, err)
	}
	var conns []*nats.Conn
	fail := func(err error) ([]*nats.Conn, error) {
		for _, nc := range conns {
			nc.Close()
		}
		return nil, err
	}
	// receiveFrom dials one configured server and starts receiving from it.
	receiveFrom := func(c natsConfiguration, receive func(libv1beta1.ClusterID, *nats.Conn, []string) error) error {
		nc, err := m.dial(cluster, c)
		if err != nil {
			return err
		}
		conns = append(conns, nc)
		return receive(cluster, nc, c.Subjects)
	}
	if cfg.NATS != nil {
		if err := receiveFrom(cfg.NATS.Configuration, m.subscribe); err != nil {
			return fail(fmt.Errorf("%s: nats: %w", where, err))
		}
	}
	if cfg.JetStream != nil {
		if err := receiveFrom(cfg.JetStream.Configuration, m.consume); err != nil {
			return fail(fmt.Errorf("%s: jetstream: %w", where, err))
		}
	}
	m.log.Info("receiving CloudEvents", "cluster", cluster.String(), "nats", cfg.NATS != nil, "jetstream", cfg.JetStream != nil)
	return conns, nil
}

func (m *messaging) dial(cluster libv1beta1.ClusterID, c natsConfiguration) (*nats.Conn, error) {
	opts, err := c.options()
	if err != nil {
		return nil, err
	}
	log := m.log.WithValues("cluster", cluster.String(), "url", c.URL)
	opts = append(opts,
		nats.Name("tugboat "+cluster.String()),
		nats.Timeout(5*time.Second),
		nats.MaxReconnects(-1),
		nats.DisconnectErrHandler(func(_ *nats.Conn, err error) {
			if err != nil {
				log.Info("disconnected from NATS", "error", err.Error())
			}
		}),
		nats.ReconnectHandler(func(*nats.Conn) { log.Info("reconnected to NATS") }),
		nats.ErrorHandler(func(_ *nats.Conn, _ *nats.Subscription, err error) { log.Error(err, "NATS") }),
	)
	nc, err := nats.Connect(c.URL, opts...)
	if err != nil {
		return nil, fmt.Errorf("connecting to %s: %w", c.URL, err)
	}
	return nc, nil
}

// subscribe receives core NATS messages: at most once, nothing to acknowledge.
func (m *messaging) subscribe(cluster libv1beta1.ClusterID, nc *nats.Conn, subjects []string) error {
	for _, subject := range subjects {
		_, err := nc.Subscribe(subject, func(msg *nats.Msg) {
			if err := m.deliver(m.ctx, cluster, msg.Subject, HeaderOf(msg.Header), msg.Data); err != nil {
				m.log.Error(err, "CloudEvent received over NATS not processed (core NATS does not redeliver)", "cluster", cluster.String(), "subject", msg.Subject)
			}
		})
		if err != nil {
			return fmt.Errorf("subscribing to %s: %w", subject, err)
		}
	}
	return nc.Flush()
}

// ConsumerName is the durable JetStream consumer through which Tugboat reads
// a cluster's subjects from a stream: one per cluster, so that clusters
// sharing a server each receive every message.
func ConsumerName(cluster libv1beta1.ClusterID) string {
	return "tugboat-" + shortHash(string(cluster.Normal().Type), cluster.Namespace, cluster.Name)
}

// consume reads the subjects from the streams holding them through a durable
// consumer per stream, one message at a time, each acknowledged once dealt
// with: what is published while no manager runs waits in the stream.
func (m *messaging) consume(cluster libv1beta1.ClusterID, nc *nats.Conn, subjects []string) error {
	js, err := jetstream.New(nc)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(m.ctx, 10*time.Second)
	defer cancel()
	byStream := map[string][]string{}
	for _, subject := range subjects {
		stream, err := js.StreamNameBySubject(ctx, subject)
		if err != nil {
			if errors.Is(err, jetstream.ErrStreamNotFound) {
				return fmt.Errorf("no stream holds subject %s: create one (nats stream add) before Tugboat can consume it", subject)
			}
			return fmt.Errorf("finding the stream of subject %s: %w", subject, err)
		}
		byStream[stream] = append(byStream[stream], subject)
	}
	log := m.log.WithValues("cluster", cluster.String())
	for _, stream := range slices.Sorted(maps.Keys(byStream)) {
		cons, err := js.CreateOrUpdateConsumer(ctx, stream, jetstream.ConsumerConfig{
			Durable:        ConsumerName(cluster),
			Description:    "Tugboat: CloudEvents of cluster " + cluster.String(),
			FilterSubjects: byStream[stream],
			DeliverPolicy:  jetstream.DeliverAllPolicy,
			AckPolicy:      jetstream.AckExplicitPolicy,
			AckWait:        time.Minute,
			// In order: a Delete never overtakes the Create it withdraws.
			MaxAckPending: 1,
		})
		if err != nil {
			return fmt.Errorf("creating consumer %s on stream %s: %w", ConsumerName(cluster), stream, err)
		}
		_, err = cons.Consume(func(msg jetstream.Msg) {
			if err := m.deliver(m.ctx, cluster, msg.Subject(), HeaderOf(msg.Headers()), msg.Data()); err != nil {
				log.Error(err, "CloudEvent not processed; asking for redelivery", "subject", msg.Subject())
				_ = msg.NakWithDelay(time.Second)
				return
			}
			if err := msg.DoubleAck(m.ctx); err != nil {
				// Redelivered later: processing it again changes nothing.
				log.Error(err, "acknowledging CloudEvent", "subject", msg.Subject())
			}
		}, jetstream.ConsumeErrHandler(func(_ jetstream.ConsumeContext, err error) {
			log.V(1).Info("JetStream consumer", "stream", stream, "error", err.Error())
		}))
		if err != nil {
			return fmt.Errorf("consuming stream %s: %w", stream, err)
		}
	}
	return nil
}

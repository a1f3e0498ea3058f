// Package notify delivers notifications — a Kubernetes Event, Slack, Microsoft
// Teams, Discord, Webex, Telegram or e-mail over SMTP — configured the way
// Sveltos configures them: a Notification names its type and a Secret holding
// the service's settings.
//
// It is an engine: callers (ClusterHealthCheck, Techsupport) decide when to
// notify and record the outcome; Send only delivers one message and says
// precisely why it could not.
package notify

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"time"

	corev1 "k8s.io/api/core/v1"
	"k8s.io/apimachinery/pkg/types"
	"k8s.io/client-go/tools/events"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Message is what is sent: every service gets the same title and text, each in
// its own format.
type Message struct {
	// Title is one line: the subject of a mail, the title of a card.
	Title string
	// Text is the body; lines are separated by "\n".
	Text string
	// Healthy colours the message (green/red where the service has colours) and
	// makes a Kubernetes Event Normal instead of Warning.
	Healthy bool
	// Reason is the Kubernetes Event's reason (CamelCase); "Notification" when empty.
	Reason string
	// Attachment is attached to mails; other services get a line naming it.
	// +optional
	Attachment *Attachment
}

// Attachment is a file sent with a message.
type Attachment struct {
	// Name is the file name.
	Name string
	// ContentType is its MIME type; application/octet-stream when empty.
	ContentType string
	// Data is its content.
	Data []byte
}

// Secret keys, as Sveltos documents them for each service.
const (
	SlackTokenKey       = "SLACK_TOKEN"
	SlackChannelIDKey   = "SLACK_CHANNEL_ID"
	WebexTokenKey       = "WEBEX_TOKEN"
	WebexRoomIDKey      = "WEBEX_ROOM_ID"
	DiscordTokenKey     = "DISCORD_TOKEN"
	DiscordChannelIDKey = "DISCORD_CHANNEL_ID"
	TeamsWebhookURLKey  = "TEAMS_WEBHOOK_URL"
	TelegramTokenKey    = "TELEGRAM_TOKEN"
	TelegramChatIDKey   = "TELEGRAM_CHAT_ID"
	SMTPRecipientsKey   = "SMTP_RECIPIENTS"
	SMTPBccKey          = "SMTP_BCC"
	SMTPIdentityKey     = "SMTP_IDENTITY"
	SMTPSenderKey       = "SMTP_SENDER"
	SMTPPasswordKey     = "SMTP_PASSWORD"
	SMTPHostKey         = "SMTP_HOST"
	SMTPPortKey         = "SMTP_PORT"
)

// Tugboat extensions: optional Secret keys replacing a service's public base URL,
// for air-gapped installations (a relay or a compatible self-hosted service)
// and for tests.
const (
	SlackURLKey    = "SLACK_URL"
	WebexURLKey    = "WEBEX_URL"
	DiscordURLKey  = "DISCORD_URL"
	TelegramURLKey = "TELEGRAM_URL"
)

// The services' public base URLs.
const (
	DefaultSlackURL    = "https://slack.com"
	DefaultWebexURL    = "https://webexapis.com"
	DefaultDiscordURL  = "https://discord.com"
	DefaultTelegramURL = "https://api.telegram.org"
)

// DefaultTimeout bounds one delivery.
const DefaultTimeout = 30 * time.Second

// Sender delivers notifications. Its zero value is not usable: build it with New.
type Sender struct {
	// Reader reads the Secrets named by notificationRef.
	Reader client.Reader
	// Recorder records the Events of KubernetesEvent notifications.
	Recorder events.EventRecorder
	// HTTPClient makes the services' HTTP calls.
	HTTPClient *http.Client
	// Timeout bounds one delivery (HTTP call or SMTP session).
	Timeout time.Duration
}

// New returns a Sender reading Secrets through reader and recording Events with recorder.
func New(reader client.Reader, recorder events.EventRecorder) *Sender {
	return &Sender{Reader: reader, Recorder: recorder, HTTPClient: &http.Client{}, Timeout: DefaultTimeout}
}

// ErrMisconfigured wraps errors that only a change to the notification or its
// Secret can fix (a missing Secret, a missing key); delivery errors do not wrap it.
var ErrMisconfigured = errors.New("notification misconfigured")

// Send delivers msg through notification n on behalf of owner (the object whose
// Events a KubernetesEvent notification records). The error names the
// notification and says what went wrong.
func (s *Sender) Send(ctx context.Context, owner client.Object, n libv1beta1.Notification, msg Message) error {
	if s.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, s.Timeout)
		defer cancel()
	}
	var err error
	switch n.Type {
	case libv1beta1.NotificationTypeKubernetesEvent:
		err = s.sendEvent(owner, msg)
	case libv1beta1.NotificationTypeSlack:
		err = s.withSecret(ctx, n, msg, s.sendSlack)
	case libv1beta1.NotificationTypeWebex:
		err = s.withSecret(ctx, n, msg, s.sendWebex)
	case libv1beta1.NotificationTypeDiscord:
		err = s.withSecret(ctx, n, msg, s.sendDiscord)
	case libv1beta1.NotificationTypeTeams:
		err = s.withSecret(ctx, n, msg, s.sendTeams)
	case libv1beta1.NotificationTypeTelegram:
		err = s.withSecret(ctx, n, msg, s.sendTelegram)
	case libv1beta1.NotificationTypeSMTP:
		err = s.withSecret(ctx, n, msg, s.sendSMTP)
	default:
		err = fmt.Errorf("%w: type %q is not supported", ErrMisconfigured, n.Type)
	}
	if err != nil {
		return fmt.Errorf("notification %s (%s): %w", n.Name, n.Type, err)
	}
	return nil
}

func (s *Sender) sendEvent(owner client.Object, msg Message) error {
	if s.Recorder == nil {
		return errors.New("no event recorder")
	}
	if owner == nil {
		return fmt.Errorf("%w: a KubernetesEvent notification needs an owner object", ErrMisconfigured)
	}
	eventType := corev1.EventTypeWarning
	if msg.Healthy {
		eventType = corev1.EventTypeNormal
	}
	reason := msg.Reason
	if reason == "" {
		reason = "Notification"
	}
	note := msg.Title
	if msg.Text != "" {
		note += "\n" + msg.Text
	}
	if msg.Attachment != nil {
		note += "\n" + attachmentLine(msg.Attachment)
	}
	// An Event note holds at most 1 KiB.
	if len(note) > 1024 {
		note = note[:1021] + "..."
	}
	s.Recorder.Eventf(owner, nil, eventType, reason, "Notify", "%s", note)
	return nil
}

// secretData is the Secret's data with the Secret's name, for messages.
type secretData struct {
	name string
	data map[string][]byte
}

// required returns the value of key, or an error naming the key and the Secret.
func (d secretData) required(key string) (string, error) {
	v, ok := d.data[key]
	if !ok || len(v) == 0 {
		return "", fmt.Errorf("%w: Secret %s has no key %s", ErrMisconfigured, d.name, key)
	}
	return string(v), nil
}

func (d secretData) optional(key, def string) string {
	if v, ok := d.data[key]; ok && len(v) > 0 {
		return string(v)
	}
	return def
}

func (s *Sender) withSecret(ctx context.Context, n libv1beta1.Notification, msg Message,
	send func(context.Context, secretData, Message) error) error {
	ref := n.NotificationRef
	if ref == nil || ref.Name == "" || ref.Namespace == "" {
		return fmt.Errorf("%w: notificationRef must name a Secret (namespace and name)", ErrMisconfigured)
	}
	if ref.Kind != "" && ref.Kind != "Secret" {
		return fmt.Errorf("%w: notificationRef must name a Secret, not a %s", ErrMisconfigured, ref.Kind)
	}
	secret := &corev1.Secret{}
	key := types.NamespacedName{Namespace: ref.Namespace, Name: ref.Name}
	if err := s.Reader.Get(ctx, key, secret); err != nil {
		if client.IgnoreNotFound(err) == nil {
			return fmt.Errorf("%w: Secret %s not found", ErrMisconfigured, key)
		}
		return fmt.Errorf("reading Secret %s: %w", key, err)
	}
	return send(ctx, secretData{name: key.String(), data: secret.Data}, msg)
}

func attachmentLine(a *Attachment) string {
	return fmt.Sprintf("(attachment %s, %d bytes, is sent by e-mail only)", a.Name, len(a.Data))
}

package notify_test

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"

	corev1 "k8s.io/api/core/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/notify"
)

// What cannot be delivered is an error naming the notification and the cause:
// a missing Secret or key (ErrMisconfigured), a service refusing the message.
func TestDeliveryFailures(t *testing.T) {
	msg := notify.Message{Title: "t", Text: "x"}
	rcv := newReceiver(t, `{"ok":false,"error":"channel_not_found"}`)
	slackRef := createSecret(t, "fail-slack", map[string]string{"SLACK_TOKEN": "x", "SLACK_CHANNEL_ID": "C1", "SLACK_URL": rcv.URL})
	noKeyRef := createSecret(t, "fail-nokey", map[string]string{"SLACK_TOKEN": "x"})
	telegramRef := createSecret(t, "fail-telegram", map[string]string{"TELEGRAM_TOKEN": "x", "TELEGRAM_CHAT_ID": "1", "TELEGRAM_URL": rcv.URL})
	for _, tc := range []struct {
		name          string
		n             libv1beta1.Notification
		before        func()
		contains      string
		misconfigured bool
	}{
		{name: "missing secret", n: libv1beta1.Notification{Name: "a", Type: libv1beta1.NotificationTypeSlack,
			NotificationRef: &corev1.ObjectReference{Kind: "Secret", Namespace: secretsNamespace, Name: "nope"}},
			contains: "notification a (Slack): notification misconfigured: Secret default/nope not found", misconfigured: true},
		{name: "missing key", n: libv1beta1.Notification{Name: "b", Type: libv1beta1.NotificationTypeSlack, NotificationRef: noKeyRef},
			contains: "Secret default/fail-nokey has no key SLACK_CHANNEL_ID", misconfigured: true},
		{name: "slack refuses", n: libv1beta1.Notification{Name: "c", Type: libv1beta1.NotificationTypeSlack, NotificationRef: slackRef},
			contains: "slack refused the message: channel_not_found"},
		{name: "server error", n: libv1beta1.Notification{Name: "d", Type: libv1beta1.NotificationTypeTelegram, NotificationRef: telegramRef},
			before:   func() { rcv.answerWith(http.StatusInternalServerError, `{"ok":false,"description":"down"}`) },
			contains: "answered 500 Internal Server Error"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if tc.before != nil {
				tc.before()
			}
			err := newSender().Send(context.Background(), nil, tc.n, msg)
			if err == nil || !strings.Contains(err.Error(), tc.contains) {
				t.Fatalf("error %v, want one containing %q", err, tc.contains)
			}
			if errors.Is(err, notify.ErrMisconfigured) != tc.misconfigured {
				t.Fatalf("errors.Is(ErrMisconfigured) = %v, want %v", !tc.misconfigured, tc.misconfigured)
			}
			if strings.Contains(err.Error(), "bot x") || strings.Contains(err.Error(), "/botx") {
				t.Fatalf("the error shows the token: %v", err)
			}
		})
	}
}

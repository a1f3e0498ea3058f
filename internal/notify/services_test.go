package notify_test

import (
	"context"
	"strings"
	"testing"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/notify"
)

// Each HTTP service gets one request in its documented format, at the path of
// its API under the base URL the Secret's Tugboat extension key points at.
func TestServicesPayloads(t *testing.T) {
	msg := notify.Message{Title: "Cluster Sveltos:fleet/prod: liveness checks failing",
		Text: "Liveness check \"addons\" failing\nClusterProfile/web feature Resources is Failed: boom"}
	for _, tc := range []struct {
		name   string
		typ    libv1beta1.NotificationType
		answer string
		data   func(url string) map[string]string
		check  func(t *testing.T, r received)
	}{
		{
			name: "slack", typ: libv1beta1.NotificationTypeSlack, answer: `{"ok":true}`,
			data: func(url string) map[string]string {
				return map[string]string{"SLACK_TOKEN": "xoxb-1", "SLACK_CHANNEL_ID": "C123", "SLACK_URL": url}
			},
			check: func(t *testing.T, r received) {
				want(t, r.Path, "/api/chat.postMessage")
				want(t, r.Authorization, "Bearer xoxb-1")
				want(t, r.Body["channel"], "C123")
				att := r.Body["attachments"].([]any)[0].(map[string]any)
				want(t, att["title"], msg.Title)
				want(t, att["color"], "#e01e5a")
				if !strings.Contains(att["text"].(string), "boom") {
					t.Errorf("attachment text %q lacks the failure", att["text"])
				}
			},
		},
		{
			name: "webex", typ: libv1beta1.NotificationTypeWebex, answer: `{"id":"m1"}`,
			data: func(url string) map[string]string {
				return map[string]string{"WEBEX_TOKEN": "wx", "WEBEX_ROOM_ID": "room-1", "WEBEX_URL": url}
			},
			check: func(t *testing.T, r received) {
				want(t, r.Path, "/v1/messages")
				want(t, r.Authorization, "Bearer wx")
				want(t, r.Body["roomId"], "room-1")
				if !strings.HasPrefix(r.Body["markdown"].(string), "**"+msg.Title+"**") {
					t.Errorf("markdown %q", r.Body["markdown"])
				}
				att := r.Body["attachments"].([]any)[0].(map[string]any)
				want(t, att["contentType"], "application/vnd.microsoft.card.adaptive")
				want(t, att["content"].(map[string]any)["type"], "AdaptiveCard")
			},
		},
		{
			name: "discord", typ: libv1beta1.NotificationTypeDiscord, answer: `{"id":"1"}`,
			data: func(url string) map[string]string {
				return map[string]string{"DISCORD_TOKEN": "dt", "DISCORD_CHANNEL_ID": "42", "DISCORD_URL": url}
			},
			check: func(t *testing.T, r received) {
				want(t, r.Path, "/api/v10/channels/42/messages")
				want(t, r.Authorization, "Bot dt")
				embed := r.Body["embeds"].([]any)[0].(map[string]any)
				want(t, embed["title"], msg.Title)
				want(t, embed["type"], "rich")
			},
		},
		{
			name: "teams", typ: libv1beta1.NotificationTypeTeams, answer: ``,
			data: func(url string) map[string]string {
				return map[string]string{"TEAMS_WEBHOOK_URL": url + "/webhookb2/abc"}
			},
			check: func(t *testing.T, r received) {
				want(t, r.Path, "/webhookb2/abc")
				want(t, r.Body["type"], "message")
				att := r.Body["attachments"].([]any)[0].(map[string]any)
				want(t, att["contentType"], "application/vnd.microsoft.card.adaptive")
				body := att["content"].(map[string]any)["body"].([]any)
				want(t, body[0].(map[string]any)["text"], msg.Title)
			},
		},
		{
			name: "telegram", typ: libv1beta1.NotificationTypeTelegram, answer: `{"ok":true,"result":{}}`,
			data: func(url string) map[string]string {
				return map[string]string{"TELEGRAM_TOKEN": "123:abc", "TELEGRAM_CHAT_ID": "-100200", "TELEGRAM_URL": url}
			},
			check: func(t *testing.T, r received) {
				want(t, r.Path, "/bot123:abc/sendMessage")
				want(t, r.Body["chat_id"], float64(-100200))
				if !strings.HasPrefix(r.Body["text"].(string), msg.Title+"\n") {
					t.Errorf("text %q", r.Body["text"])
				}
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rcv := newReceiver(t, tc.answer)
			ref := createSecret(t, "payload-"+tc.name, tc.data(rcv.URL))
			n := libv1beta1.Notification{Name: tc.name, Type: tc.typ, NotificationRef: ref}
			if err := newSender().Send(context.Background(), nil, n, msg); err != nil {
				t.Fatal(err)
			}
			got := rcv.got()
			if len(got) != 1 {
				t.Fatalf("the receiver got %d requests, want 1", len(got))
			}
			want(t, got[0].Method, "POST")
			if !strings.HasPrefix(got[0].ContentType, "application/json") {
				t.Errorf("content type %q", got[0].ContentType)
			}
			tc.check(t, got[0])
		})
	}
}

func want(t *testing.T, got, expected any) {
	t.Helper()
	if got != expected {
		t.Errorf("got %v, want %v", got, expected)
	}
}

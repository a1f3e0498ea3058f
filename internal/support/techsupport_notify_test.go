package support_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/notify"
	"github.com/tugboat-dev/tugboat/internal/testenv"
)

// Each archive is announced to the Techsupport's notifications through
// internal/notify: a Slack notification posts a message naming the archive to a
// real local HTTP receiver (the Secret's SLACK_URL points there); a
// notification whose Secret lacks a key is reported in a Warning Event.
func TestTechsupportAnnouncesArchive(t *testing.T) {
	ctx := context.Background()
	var mu sync.Mutex
	var posted []map[string]any
	slack := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		var msg map[string]any
		if r.URL.Path != "/api/chat.postMessage" || r.Header.Get("Authorization") != "Bearer xoxb-test" || json.Unmarshal(body, &msg) != nil {
			http.Error(w, "unexpected request", http.StatusBadRequest)
			return
		}
		mu.Lock()
		posted = append(posted, msg)
		mu.Unlock()
		_, _ = io.WriteString(w, `{"ok":true}`)
	}))
	defer slack.Close()

	const ns = "support-notify"
	create(t, mgmt, namespace(ns),
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slack"}, Data: map[string][]byte{
			notify.SlackTokenKey: []byte("xoxb-test"), notify.SlackChannelIDKey: []byte("C0SUPPORT"), notify.SlackURLKey: []byte(slack.URL)}},
		&corev1.Secret{ObjectMeta: metav1.ObjectMeta{Namespace: ns, Name: "slack-without-token"}, Data: map[string][]byte{
			notify.SlackChannelIDKey: []byte("C0SUPPORT"), notify.SlackURLKey: []byte(slack.URL)}},
	)
	secretRef := func(name string) *corev1.ObjectReference {
		return &corev1.ObjectReference{Kind: "Secret", Namespace: ns, Name: name}
	}
	ts := &libv1beta1.Techsupport{
		ObjectMeta: metav1.ObjectMeta{Name: "announce"},
		Spec: libv1beta1.TechsupportSpec{
			OnDemand: true,
			FromManagement: libv1beta1.FromManagement{Resources: []libv1beta1.ResourceSelector{
				{Version: "v1", Kind: "ConfigMap", Namespace: "kube-system"}}},
			Notifications: []libv1beta1.Notification{
				{Name: "team-slack", Type: libv1beta1.NotificationTypeSlack, NotificationRef: secretRef("slack")},
				{Name: "broken-slack", Type: libv1beta1.NotificationTypeSlack, NotificationRef: secretRef("slack-without-token")},
			},
		},
	}
	create(t, mgmt, ts)
	waitRun(t, ts.Name, 1, libv1beta1.CollectionStatusCollected)
	archive := archivesOf(t, ts.Name)[0]

	testenv.Eventually(t, "the Slack message", func() error {
		mu.Lock()
		defer mu.Unlock()
		if len(posted) != 1 {
			return fmt.Errorf("%d messages posted", len(posted))
		}
		if text, _ := posted[0]["text"].(string); !strings.Contains(text, archive) || posted[0]["channel"] != "C0SUPPORT" {
			return fmt.Errorf("message %v does not name the archive %s in channel C0SUPPORT", posted[0], archive)
		}
		return nil
	})
	testenv.Eventually(t, "the failed delivery reported", func() error {
		return findEvent(ctx, ts.Name, "NotificationFailed", "notification broken-slack (Slack)")
	})
}

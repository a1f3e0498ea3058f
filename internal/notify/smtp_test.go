package notify_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net"
	"net/mail"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
	"github.com/tugboat-dev/tugboat/internal/notify"
)

// mailbox is a real SMTP server (github.com/emersion/go-smtp) on loopback that
// keeps the mails it accepts; it requires PLAIN authentication with password.
type mailbox struct {
	addr     string
	password string
	mu       sync.Mutex
	mails    []delivered
}

type delivered struct {
	from string
	to   []string
	data []byte
	user string
}

type mailSession struct {
	box     *mailbox
	current delivered
}

func (s *mailSession) AuthMechanisms() []string { return []string{sasl.Plain} }
func (s *mailSession) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, password string) error {
		if password != s.box.password {
			return errors.New("invalid credentials")
		}
		s.current.user = username
		return nil
	}), nil
}
func (s *mailSession) Mail(from string, _ *smtp.MailOptions) error {
	if s.current.user == "" {
		return smtp.ErrAuthRequired
	}
	s.current.from = from
	return nil
}
func (s *mailSession) Rcpt(to string, _ *smtp.RcptOptions) error {
	s.current.to = append(s.current.to, to)
	return nil
}
func (s *mailSession) Data(r io.Reader) error {
	data, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	s.current.data = data
	s.box.mu.Lock()
	s.box.mails = append(s.box.mails, s.current)
	s.box.mu.Unlock()
	return nil
}
func (s *mailSession) Reset()        { s.current = delivered{user: s.current.user} }
func (s *mailSession) Logout() error { return nil }

func startMailbox(t *testing.T, password string) *mailbox {
	t.Helper()
	box := &mailbox{password: password}
	srv := smtp.NewServer(smtp.BackendFunc(func(*smtp.Conn) (smtp.Session, error) { return &mailSession{box: box}, nil }))
	srv.Domain = "localhost"
	srv.AllowInsecureAuth = true
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	box.addr = l.Addr().String()
	go func() { _ = srv.Serve(l) }()
	t.Cleanup(func() { _ = srv.Close() })
	return box
}

func (b *mailbox) received() []delivered {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]delivered(nil), b.mails...)
}

// An SMTP notification arrives at a real SMTP server: authenticated, to the
// recipients and the blind copies, with the subject, the text and the
// attachment.
func TestSMTPMailArrives(t *testing.T) {
	box := startMailbox(t, "s3cret")
	host, port, _ := net.SplitHostPort(box.addr)
	ref := createSecret(t, "smtp", map[string]string{
		"SMTP_RECIPIENTS": "ops@example.com, dev@example.com",
		"SMTP_BCC":        "audit@example.com",
		"SMTP_IDENTITY":   "Tugboat",
		"SMTP_SENDER":     "tugboat@example.com",
		"SMTP_PASSWORD":   "s3cret",
		"SMTP_HOST":       host,
		"SMTP_PORT":       port,
	})
	n := libv1beta1.Notification{Name: "mail", Type: libv1beta1.NotificationTypeSMTP, NotificationRef: ref}
	msg := notify.Message{Title: "Cluster Sveltos:fleet/prod: all liveness checks are passing", Text: "line one\nline two",
		Healthy: true, Attachment: &notify.Attachment{Name: "techsupport.tar.gz", ContentType: "application/gzip", Data: []byte("archive bytes")}}
	if err := newSender().Send(context.Background(), nil, n, msg); err != nil {
		t.Fatal(err)
	}
	mails := box.received()
	if len(mails) != 1 {
		t.Fatalf("%d mails arrived, want 1", len(mails))
	}
	got := mails[0]
	if got.user != "tugboat@example.com" || got.from != "tugboat@example.com" {
		t.Errorf("user %q, from %q", got.user, got.from)
	}
	if strings.Join(got.to, ",") != "ops@example.com,dev@example.com,audit@example.com" {
		t.Errorf("recipients %v", got.to)
	}
	parsed, err := mail.ReadMessage(bytes.NewReader(got.data))
	if err != nil {
		t.Fatal(err)
	}
	subject, _ := new(mime.WordDecoder).DecodeHeader(parsed.Header.Get("Subject"))
	want(t, subject, msg.Title)
	if strings.Contains(parsed.Header.Get("To"), "audit") {
		t.Errorf("the blind copy shows in To: %s", parsed.Header.Get("To"))
	}
	if !strings.Contains(parsed.Header.Get("From"), "Tugboat") {
		t.Errorf("From %q lacks the identity", parsed.Header.Get("From"))
	}
	_, params, err := mime.ParseMediaType(parsed.Header.Get("Content-Type"))
	if err != nil {
		t.Fatal(err)
	}
	mr := multipart.NewReader(parsed.Body, params["boundary"])
	text, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(text)
	if !strings.Contains(string(body), "line one\r\nline two") {
		t.Errorf("text part %q", body)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	want(t, att.FileName(), "techsupport.tar.gz")
	data, _ := io.ReadAll(att) // multipart decodes base64 only for quoted-printable; decode here
	decoded, err := decodeBase64Lines(data)
	if err != nil {
		t.Fatal(err)
	}
	want(t, string(decoded), "archive bytes")

	// A wrong password is refused, and the error says so.
	wrong := createSecret(t, "smtp-wrong", map[string]string{"SMTP_RECIPIENTS": "a@example.com", "SMTP_SENDER": "tugboat@example.com",
		"SMTP_PASSWORD": "nope", "SMTP_HOST": host, "SMTP_PORT": port})
	err = newSender().Send(context.Background(), nil, libv1beta1.Notification{Name: "mail", Type: libv1beta1.NotificationTypeSMTP, NotificationRef: wrong}, msg)
	if err == nil || !strings.Contains(err.Error(), "authentication") {
		t.Fatalf("error %v, want an authentication failure", err)
	}
}

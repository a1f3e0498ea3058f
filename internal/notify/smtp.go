package notify

import (
	"bytes"
	"context"
	"crypto/tls"
	"encoding/base64"
	"fmt"
	"mime"
	"mime/multipart"
	"net"
	"net/smtp"
	"net/textproto"
	"strings"
	"time"
)

// sendSMTP mails msg: STARTTLS when the server offers it, PLAIN authentication
// when SMTP_PASSWORD is set, SMTP_BCC as blind copies, the attachment as a
// MIME part.
func (s *Sender) sendSMTP(ctx context.Context, d secretData, msg Message) error {
	recipients, err := d.required(SMTPRecipientsKey)
	if err != nil {
		return err
	}
	sender, err := d.required(SMTPSenderKey)
	if err != nil {
		return err
	}
	host, err := d.required(SMTPHostKey)
	if err != nil {
		return err
	}
	port := d.optional(SMTPPortKey, "587")
	identity := d.optional(SMTPIdentityKey, "")
	password := d.optional(SMTPPasswordKey, "")
	to := splitAddresses(recipients)
	bcc := splitAddresses(d.optional(SMTPBccKey, ""))
	if len(to) == 0 {
		return fmt.Errorf("%w: %s in Secret %s names no address", ErrMisconfigured, SMTPRecipientsKey, d.name)
	}
	mail, err := composeMail(sender, identity, to, msg)
	if err != nil {
		return err
	}

	server := net.JoinHostPort(host, port)
	conn, err := (&net.Dialer{}).DialContext(ctx, "tcp", server)
	if err != nil {
		return fmt.Errorf("connecting to SMTP server %s: %w", server, err)
	}
	if deadline, ok := ctx.Deadline(); ok {
		_ = conn.SetDeadline(deadline)
	} else {
		_ = conn.SetDeadline(time.Now().Add(DefaultTimeout))
	}
	c, err := smtp.NewClient(conn, host)
	if err != nil {
		conn.Close()
		return fmt.Errorf("SMTP server %s: %w", server, err)
	}
	defer c.Close()
	if ok, _ := c.Extension("STARTTLS"); ok {
		if err := c.StartTLS(&tls.Config{ServerName: host, MinVersion: tls.VersionTLS12}); err != nil {
			return fmt.Errorf("SMTP server %s: STARTTLS: %w", server, err)
		}
	}
	if password != "" {
		// PlainAuth refuses to send the password over an unencrypted connection
		// to anything but localhost.
		if err := c.Auth(smtp.PlainAuth(identity, sender, password, host)); err != nil {
			return fmt.Errorf("SMTP server %s: authentication: %w", server, err)
		}
	}
	if err := c.Mail(sender); err != nil {
		return fmt.Errorf("SMTP server %s: MAIL FROM %s: %w", server, sender, err)
	}
	for _, rcpt := range append(append([]string{}, to...), bcc...) {
		if err := c.Rcpt(rcpt); err != nil {
			return fmt.Errorf("SMTP server %s: RCPT TO %s: %w", server, rcpt, err)
		}
	}
	w, err := c.Data()
	if err != nil {
		return fmt.Errorf("SMTP server %s: DATA: %w", server, err)
	}
	if _, err := w.Write(mail); err != nil {
		return fmt.Errorf("SMTP server %s: writing the mail: %w", server, err)
	}
	if err := w.Close(); err != nil {
		return fmt.Errorf("SMTP server %s: the mail was refused: %w", server, err)
	}
	return c.Quit()
}

func splitAddresses(list string) []string {
	var out []string
	for _, a := range strings.Split(list, ",") {
		if a = strings.TrimSpace(a); a != "" {
			out = append(out, a)
		}
	}
	return out
}

// composeMail builds the RFC 5322 message: text/plain, or multipart/mixed with
// the attachment base64-encoded.
func composeMail(sender, identity string, to []string, msg Message) ([]byte, error) {
	var b bytes.Buffer
	from := sender
	if identity != "" {
		from = fmt.Sprintf("%s <%s>", mime.QEncoding.Encode("utf-8", identity), sender)
	}
	header := func(k, v string) { fmt.Fprintf(&b, "%s: %s\r\n", k, v) }
	header("From", from)
	header("To", strings.Join(to, ", "))
	header("Subject", mime.QEncoding.Encode("utf-8", msg.Title))
	header("Date", time.Now().UTC().Format(time.RFC1123Z))
	header("MIME-Version", "1.0")
	body := strings.ReplaceAll(strings.ReplaceAll(msg.Text, "\r\n", "\n"), "\n", "\r\n")
	if msg.Attachment == nil {
		header("Content-Type", `text/plain; charset="utf-8"`)
		header("Content-Transfer-Encoding", "8bit")
		b.WriteString("\r\n")
		b.WriteString(body)
		b.WriteString("\r\n")
		return b.Bytes(), nil
	}
	mw := multipart.NewWriter(&b)
	header("Content-Type", `multipart/mixed; boundary="`+mw.Boundary()+`"`)
	b.WriteString("\r\n")
	part, err := mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {`text/plain; charset="utf-8"`},
		"Content-Transfer-Encoding": {"8bit"},
	})
	if err != nil {
		return nil, err
	}
	if _, err := part.Write([]byte(body + "\r\n")); err != nil {
		return nil, err
	}
	contentType := msg.Attachment.ContentType
	if contentType == "" {
		contentType = "application/octet-stream"
	}
	part, err = mw.CreatePart(textproto.MIMEHeader{
		"Content-Type":              {contentType},
		"Content-Transfer-Encoding": {"base64"},
		"Content-Disposition":       {mime.FormatMediaType("attachment", map[string]string{"filename": msg.Attachment.Name})},
	})
	if err != nil {
		return nil, err
	}
	encoded := base64.StdEncoding.EncodeToString(msg.Attachment.Data)
	for len(encoded) > 76 {
		if _, err := part.Write([]byte(encoded[:76] + "\r\n")); err != nil {
			return nil, err
		}
		encoded = encoded[76:]
	}
	if _, err := part.Write([]byte(encoded + "\r\n")); err != nil {
		return nil, err
	}
	if err := mw.Close(); err != nil {
		return nil, err
	}
	return b.Bytes(), nil
}

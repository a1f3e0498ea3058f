package events

import (
	"bytes"
	"crypto/tls"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"

	"github.com/nats-io/nats.go"
	"github.com/nats-io/nkeys"

	"github.com/tugboat-dev/tugboat/internal/httpserve"
)

// natsSecret is the JSON held under the key sveltos-nats of the Secret
// projectsveltos/sveltos-nats in a source cluster, in the shape Sveltos
// documents: a NATS (core) and/or a JetStream configuration.
type natsSecret struct {
	NATS      *natsSection `json:"nats,omitempty"`
	JetStream *natsSection `json:"jetstream,omitempty"`
}

type natsSection struct {
	Configuration natsConfiguration `json:"configuration"`
}

// natsConfiguration says where the server is, which subjects to receive and
// how to authenticate.
type natsConfiguration struct {
	URL           string            `json:"url"`
	Subjects      []string          `json:"subjects"`
	Authorization natsAuthorization `json:"authorization,omitempty"`
}

// natsAuthorization holds one way to authenticate (user, token, nkeySeed — a
// Tugboat addition — or a client certificate) and the root CA the server's
// certificate is verified with. PEM fields are PEM text or its base64 encoding.
type natsAuthorization struct {
	User *struct {
		User     string `json:"user"`
		Password string `json:"password"`
	} `json:"user,omitempty"`
	Token      *string `json:"token,omitempty"`
	NKeySeed   *string `json:"nkeySeed,omitempty"`
	ClientCert *struct {
		CertPem pemBytes `json:"certPem"`
		KeyPem  pemBytes `json:"keyPem"`
	} `json:"clientCert,omitempty"`
	RootCA pemBytes `json:"rootCA,omitempty"`
}

// pemBytes accepts PEM text, or PEM encoded in base64 (as Go encodes []byte).
type pemBytes []byte

func (p *pemBytes) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	if strings.Contains(s, "-----BEGIN") {
		*p = []byte(s)
		return nil
	}
	d, err := base64.StdEncoding.DecodeString(strings.TrimSpace(s))
	if err != nil || !bytes.Contains(d, []byte("-----BEGIN")) {
		return fmt.Errorf("neither PEM nor base64-encoded PEM")
	}
	*p = d
	return nil
}

// parseNATSSecret decodes and checks the Secret's JSON; unknown fields are errors.
func parseNATSSecret(data []byte) (*natsSecret, error) {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	s := &natsSecret{}
	if err := dec.Decode(s); err != nil {
		return nil, fmt.Errorf("decoding: %w", err)
	}
	if s.NATS == nil && s.JetStream == nil {
		return nil, fmt.Errorf("neither nats nor jetstream is configured")
	}
	for _, sec := range []struct {
		name string
		s    *natsSection
	}{{"nats", s.NATS}, {"jetstream", s.JetStream}} {
		if sec.s == nil {
			continue
		}
		c := sec.s.Configuration
		if c.URL == "" {
			return nil, fmt.Errorf("%s.configuration.url is empty", sec.name)
		}
		if _, err := url.Parse(c.URL); err != nil {
			return nil, fmt.Errorf("%s.configuration.url: %w", sec.name, err)
		}
		if len(c.Subjects) == 0 {
			return nil, fmt.Errorf("%s.configuration.subjects is empty", sec.name)
		}
		a := c.Authorization
		n := 0
		for _, set := range []bool{a.User != nil, a.Token != nil, a.NKeySeed != nil} {
			if set {
				n++
			}
		}
		if n > 1 {
			return nil, fmt.Errorf("%s.configuration.authorization: set one of user, token and nkeySeed", sec.name)
		}
	}
	return s, nil
}

// options are the nats.go options connecting with this configuration.
func (c natsConfiguration) options() ([]nats.Option, error) {
	var opts []nats.Option
	a := c.Authorization
	switch {
	case a.User != nil:
		opts = append(opts, nats.UserInfo(a.User.User, a.User.Password))
	case a.Token != nil:
		opts = append(opts, nats.Token(*a.Token))
	case a.NKeySeed != nil:
		kp, err := nkeys.FromSeed([]byte(strings.TrimSpace(*a.NKeySeed)))
		if err != nil {
			return nil, fmt.Errorf("authorization.nkeySeed: %w", err)
		}
		pub, err := kp.PublicKey()
		if err != nil {
			return nil, fmt.Errorf("authorization.nkeySeed: %w", err)
		}
		opts = append(opts, nats.Nkey(pub, kp.Sign))
	}
	if a.ClientCert != nil || len(a.RootCA) > 0 {
		cfg, ok := httpserve.ClientTLS(a.RootCA)
		if !ok {
			return nil, fmt.Errorf("authorization.rootCA holds no PEM certificate")
		}
		if a.ClientCert != nil {
			cert, err := tls.X509KeyPair(a.ClientCert.CertPem, a.ClientCert.KeyPem)
			if err != nil {
				return nil, fmt.Errorf("authorization.clientCert: %w", err)
			}
			cfg.Certificates = []tls.Certificate{cert}
		}
		opts = append(opts, nats.Secure(cfg))
	}
	return opts, nil
}

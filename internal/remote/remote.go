// Package remote fetches content a profile names by URL (policyRefs[].remoteURL
// and kustomizationRefs[].remoteURL): one GET over HTTP(S) by the manager, with
// credentials and certificate authorities from a Secret of the management
// cluster. Fetch always asks the server; a Cache answers from the content it
// fetched last until the ref's interval has passed.
package remote

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	"k8s.io/apimachinery/pkg/types"
	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Keys of the Secret a RemoteURL's secretRef names.
const (
	UsernameKey = "username"
	PasswordKey = "password"
	TokenKey    = "token"
	CAKey       = "ca.crt"
)

// DefaultInterval is how often content is fetched again when interval is unset.
const DefaultInterval = 5 * time.Minute

// MaxTimeout bounds one fetch; a shorter interval bounds it further.
const MaxTimeout = 30 * time.Second

// MaxSize bounds the content fetched (larger content is refused).
const MaxSize = 10 << 20

// Interval is the ref's interval, DefaultInterval when unset or not positive.
func Interval(ref libv1beta1.RemoteURL) time.Duration {
	if ref.Interval == nil || ref.Interval.Duration <= 0 {
		return DefaultInterval
	}
	return ref.Interval.Duration
}

// Timeout bounds one fetch of ref: its interval, at most MaxTimeout.
func Timeout(ref libv1beta1.RemoteURL) time.Duration {
	return min(Interval(ref), MaxTimeout)
}

// SecretNotFoundError says the Secret of secretRef does not exist.
type SecretNotFoundError struct{ Key types.NamespacedName }

func (e *SecretNotFoundError) Error() string { return fmt.Sprintf("Secret %s not found", e.Key) }

// Fetch GETs ref's URL and returns the body. secretNamespace is where a
// secretRef without namespace resolves. reader reads that Secret.
func Fetch(ctx context.Context, reader client.Reader, ref libv1beta1.RemoteURL, secretNamespace string) ([]byte, error) {
	creds, err := readCredentials(ctx, reader, ref, secretNamespace)
	if err != nil {
		return nil, err
	}
	return get(ctx, ref, creds)
}

// credentials are what a secretRef's Secret holds for a fetch.
type credentials struct {
	secret                    types.NamespacedName
	username, password, token []byte
	certificateAuthorities    []byte
}

// readCredentials reads the Secret of ref's secretRef (none: empty credentials).
func readCredentials(ctx context.Context, reader client.Reader, ref libv1beta1.RemoteURL, secretNamespace string) (credentials, error) {
	if ref.SecretRef == nil {
		return credentials{}, nil
	}
	key := types.NamespacedName{Namespace: ref.SecretRef.Namespace, Name: ref.SecretRef.Name}
	if key.Namespace == "" {
		key.Namespace = secretNamespace
	}
	secret := &corev1.Secret{}
	if err := reader.Get(ctx, key, secret); err != nil {
		if apierrors.IsNotFound(err) {
			return credentials{}, fmt.Errorf("secretRef: %w", &SecretNotFoundError{Key: key})
		}
		return credentials{}, fmt.Errorf("reading secretRef Secret %s: %w", key, err)
	}
	return credentials{
		secret:                 key,
		username:               secret.Data[UsernameKey],
		password:               secret.Data[PasswordKey],
		token:                  secret.Data[TokenKey],
		certificateAuthorities: secret.Data[CAKey],
	}, nil
}

// get GETs ref's URL with creds.
func get(ctx context.Context, ref libv1beta1.RemoteURL, creds credentials) ([]byte, error) {
	u, err := url.Parse(ref.URL)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", ref.URL, err)
	}
	switch {
	case u.Scheme == "https":
	case u.Scheme == "http" && ref.PlainHTTP:
	case u.Scheme == "http":
		return nil, fmt.Errorf("url %q is plain http: set plainHTTP to allow it", ref.URL)
	default:
		return nil, fmt.Errorf("url %q: scheme %q is not http(s)", ref.URL, u.Scheme)
	}

	tlsConfig := &tls.Config{MinVersion: tls.VersionTLS12, InsecureSkipVerify: ref.InsecureSkipTLSVerify} //nolint:gosec // the user asked for it
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, ref.URL, nil)
	if err != nil {
		return nil, fmt.Errorf("url %q: %w", ref.URL, err)
	}
	if ca := creds.certificateAuthorities; len(ca) > 0 {
		pool, err := x509.SystemCertPool()
		if err != nil || pool == nil {
			pool = x509.NewCertPool()
		}
		if !pool.AppendCertsFromPEM(ca) {
			return nil, fmt.Errorf("secretRef Secret %s: %s holds no PEM certificate", creds.secret, CAKey)
		}
		tlsConfig.RootCAs = pool
	}
	switch {
	case len(creds.token) > 0:
		req.Header.Set("Authorization", "Bearer "+string(creds.token))
	case len(creds.username) > 0:
		req.SetBasicAuth(string(creds.username), string(creds.password))
	}

	transport := http.DefaultTransport.(*http.Transport).Clone()
	transport.TLSClientConfig = tlsConfig
	defer transport.CloseIdleConnections()
	c := &http.Client{Transport: transport, Timeout: Timeout(ref)}
	resp, err := c.Do(req)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) && uerr.Timeout() {
			return nil, fmt.Errorf("GET %s: no answer within %s", ref.URL, Timeout(ref))
		}
		return nil, fmt.Errorf("GET %s: %w", ref.URL, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", ref.URL, resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxSize+1))
	if err != nil {
		return nil, fmt.Errorf("GET %s: reading the body: %w", ref.URL, err)
	}
	if len(body) > MaxSize {
		return nil, fmt.Errorf("GET %s: content larger than %d bytes", ref.URL, MaxSize)
	}
	return body, nil
}

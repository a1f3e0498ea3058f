package remote

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"sync"
	"time"

	"sigs.k8s.io/controller-runtime/pkg/client"

	libv1beta1 "github.com/tugboat-dev/tugboat/api/lib/v1beta1"
)

// Cache keeps the content last fetched for each (URL, credentials, template
// flag) and answers from it until the ref's interval has passed since that
// fetch, so a profile reconciled many times within its interval asks the
// server once. The Secret of a secretRef is read on every call (from the
// manager's cache): a change of its data is a new key, fetched at once.
//
// A failed fetch stores nothing: the caller reports the error (what was
// deployed stays) and the next call fetches again. An entry whose interval
// has passed is dropped on the next call, so content no profile names any
// more does not stay in memory. The zero value is not usable; a nil *Cache
// fetches on every call.
type Cache struct {
	now func() time.Time

	mu      sync.Mutex
	entries map[string]cachedContent
}

type cachedContent struct {
	body    []byte
	fetched time.Time
	every   time.Duration
}

// NewCache returns an empty Cache.
func NewCache() *Cache {
	return &Cache{now: time.Now, entries: map[string]cachedContent{}}
}

// Get returns ref's content: the content fetched last for the same URL,
// credentials and template flag when that fetch is younger than the ref's
// interval, else a new fetch (see Fetch for secretNamespace and reader).
func (c *Cache) Get(ctx context.Context, reader client.Reader, ref libv1beta1.RemoteURL, secretNamespace string) ([]byte, error) {
	if c == nil {
		return Fetch(ctx, reader, ref, secretNamespace)
	}
	creds, err := readCredentials(ctx, reader, ref, secretNamespace)
	if err != nil {
		return nil, err
	}
	key, err := cacheKey(ref, creds)
	if err != nil {
		return nil, err
	}
	every := Interval(ref)

	c.mu.Lock()
	now := c.now()
	for k, e := range c.entries {
		if now.Sub(e.fetched) >= e.every {
			delete(c.entries, k)
		}
	}
	if e, ok := c.entries[key]; ok && now.Sub(e.fetched) < every {
		c.mu.Unlock()
		return e.body, nil
	}
	c.mu.Unlock()

	body, err := get(ctx, ref, creds)
	if err != nil {
		return nil, err
	}
	c.mu.Lock()
	c.entries[key] = cachedContent{body: body, fetched: c.now(), every: every}
	c.mu.Unlock()
	return body, nil
}

// cacheKey identifies what a fetch of ref with creds returns: the URL, how it
// is reached (plainHTTP, insecureSkipTLSVerify), the credentials' content and
// the template flag.
func cacheKey(ref libv1beta1.RemoteURL, creds credentials) (string, error) {
	h := sha256.New()
	err := json.NewEncoder(h).Encode([]any{
		ref.URL, ref.PlainHTTP, ref.InsecureSkipTLSVerify, ref.Template,
		creds.secret.String(), creds.username, creds.password, creds.token, creds.certificateAuthorities,
	})
	if err != nil {
		return "", err
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

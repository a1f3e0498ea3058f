package dashboard

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"sigs.k8s.io/controller-runtime/pkg/log"
)

// DefaultTokenSecretName is the name of the token Secret in the manager's
// namespace unless told otherwise.
const DefaultTokenSecretName = "tugboat-dashboard"

// TokenKey is the key of the login token in the dashboard's token Secret.
const TokenKey = "token"

// SessionCookie is the cookie the login page sets: an expiry and an HMAC of
// it keyed by the token, so rotating the token ends every session.
const SessionCookie = "tugboat-dashboard-session"

// DefaultSessionTTL is how long a browser stays logged in.
const DefaultSessionTTL = 12 * time.Hour

// errNoToken says the token Secret holds no token (yet).
var errNoToken = errors.New("no token")

// token reads the login token from the token Secret.
func (s *Server) token(ctx context.Context) ([]byte, error) {
	secret := &corev1.Secret{}
	if err := s.Client.Get(ctx, s.Options.TokenSecret, secret); err != nil {
		return nil, fmt.Errorf("reading the dashboard's token Secret %s: %w", s.Options.TokenSecret, err)
	}
	token := []byte(strings.TrimSpace(string(secret.Data[TokenKey])))
	if len(token) == 0 {
		return nil, fmt.Errorf("the dashboard's token Secret %s has no key %q: %w", s.Options.TokenSecret, TokenKey, errNoToken)
	}
	return token, nil
}

// ensureToken creates the token Secret with a random token when it does not
// exist, as Argo CD creates its initial admin password; an existing one is
// left as it is.
func (s *Server) ensureToken(ctx context.Context) error {
	random := make([]byte, 24)
	if _, err := rand.Read(random); err != nil {
		return err
	}
	secret := &corev1.Secret{
		ObjectMeta: metav1.ObjectMeta{Namespace: s.Options.TokenSecret.Namespace, Name: s.Options.TokenSecret.Name,
			Labels: map[string]string{"app.kubernetes.io/part-of": "tugboat", "app.kubernetes.io/component": "dashboard"}},
		Data: map[string][]byte{TokenKey: []byte(hex.EncodeToString(random))},
	}
	if err := s.Client.Create(ctx, secret); err != nil && !apierrors.IsAlreadyExists(err) {
		return fmt.Errorf("creating the dashboard's token Secret %s: %w", s.Options.TokenSecret, err)
	}
	return nil
}

// authenticated says whether the request carries the token as a bearer token
// or a session cookie made from it. An error means the token could not be read.
// In the kubernetes mode it also returns the user the request is for.
func (s *Server) authenticated(req *http.Request) (*user, bool, error) {
	bearer, hasBearer := strings.CutPrefix(req.Header.Get("Authorization"), "Bearer ")
	cookie, _ := req.Cookie(SessionCookie)
	switch s.Options.Auth {
	case AuthNone:
		return nil, true, nil
	case AuthKubernetes:
		if hasBearer {
			u, err := s.reviewToken(req.Context(), strings.TrimSpace(bearer))
			return u, u != nil, err
		}
		if cookie != nil {
			u := s.sessions.get(cookie.Value)
			return u, u != nil, nil
		}
		return nil, false, nil
	}
	ok, err := s.sharedTokenAuthenticated(req, bearer, hasBearer, cookie)
	return nil, ok, err
}

// sharedTokenAuthenticated checks the request against the token Secret's token.
func (s *Server) sharedTokenAuthenticated(req *http.Request, bearer string, hasBearer bool, cookie *http.Cookie) (bool, error) {
	if !hasBearer && cookie == nil {
		return false, nil
	}
	token, err := s.token(req.Context())
	if err != nil {
		return false, err
	}
	if hasBearer {
		return subtle.ConstantTimeCompare([]byte(strings.TrimSpace(bearer)), token) == 1, nil
	}
	return validSession(cookie.Value, token, time.Now()), nil
}

// session is the value of the session cookie expiring at expiry.
func session(token []byte, expiry time.Time) string {
	stamp := strconv.FormatInt(expiry.Unix(), 10)
	return stamp + "." + sign(token, stamp)
}

func sign(token []byte, stamp string) string {
	mac := hmac.New(sha256.New, token)
	mac.Write([]byte("tugboat-dashboard-session:" + stamp))
	return hex.EncodeToString(mac.Sum(nil))
}

// validSession says whether value is a session made from token, not expired at now.
func validSession(value string, token []byte, now time.Time) bool {
	stamp, mac, ok := strings.Cut(value, ".")
	if !ok {
		return false
	}
	expiry, err := strconv.ParseInt(stamp, 10, 64)
	if err != nil || now.Unix() >= expiry {
		return false
	}
	return hmac.Equal([]byte(mac), []byte(sign(token, stamp)))
}

// requireLogin serves next only to authenticated requests; others get 401
// and, for pages, the login form.
func (s *Server) requireLogin(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
		u, ok, err := s.authenticated(req)
		if err != nil {
			log.FromContext(req.Context()).Error(err, "dashboard authentication")
		}
		if ok {
			if u != nil {
				req = req.WithContext(context.WithValue(req.Context(), userKey{}, u))
			}
			next.ServeHTTP(w, req)
			return
		}
		if req.URL.Path == "/updates" || req.Header.Get("X-Tugboat-Refresh") != "" {
			http.Error(w, "log in first", http.StatusUnauthorized)
			return
		}
		msg := ""
		if cookie, _ := req.Cookie(SessionCookie); cookie != nil {
			msg = "Your session ended; log in again."
		}
		if s.Options.Auth != AuthKubernetes && (errors.Is(err, errNoToken) || apierrors.IsNotFound(err)) {
			msg = fmt.Sprintf("No token is set yet: the Secret %s needs key %q.", s.Options.TokenSecret, TokenKey)
		}
		s.loginPage(w, req, http.StatusUnauthorized, req.URL.RequestURI(), msg)
	})
}

// loginData is what the login page shows.
type loginData struct {
	Next, Message, Secret, Namespace, Name string
	// Kubernetes asks for the user's own Kubernetes token (AuthKubernetes).
	Kubernetes bool
}

func (s *Server) loginPage(w http.ResponseWriter, req *http.Request, status int, next, msg string) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	if status == http.StatusUnauthorized {
		w.Header().Set("WWW-Authenticate", `Bearer realm="tugboat-dashboard"`)
	}
	w.WriteHeader(status)
	l := layout{Title: "Log in", Data: loginData{Next: next, Message: msg,
		Secret: s.Options.TokenSecret.String(), Namespace: s.Options.TokenSecret.Namespace, Name: s.Options.TokenSecret.Name,
		Kubernetes: s.Options.Auth == AuthKubernetes}}
	if err := s.pages["login"].ExecuteTemplate(w, "layout", l); err != nil {
		log.FromContext(req.Context()).Error(err, "rendering the dashboard's login page")
	}
}

// login checks the token posted by the login form; the right one sets the
// session cookie and goes on to the page asked for.
func (s *Server) login(w http.ResponseWriter, req *http.Request) {
	next := localPath(req.PostFormValue("next"))
	if s.Options.Auth == AuthKubernetes {
		s.kubernetesLogin(w, req, next)
		return
	}
	token, err := s.token(req.Context())
	if err != nil {
		log.FromContext(req.Context()).Error(err, "dashboard login")
		s.loginPage(w, req, http.StatusUnauthorized, next, "The dashboard cannot read its token; see the manager's log.")
		return
	}
	given := strings.TrimSpace(req.PostFormValue("token"))
	if subtle.ConstantTimeCompare([]byte(given), token) != 1 {
		s.loginPage(w, req, http.StatusUnauthorized, next, "Wrong token.")
		return
	}
	ttl := s.sessionTTL()
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: session(token, time.Now().Add(ttl)), Path: "/",
		MaxAge: int(ttl.Seconds()), HttpOnly: true, Secure: req.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, req, next, http.StatusSeeOther)
}

func (s *Server) sessionTTL() time.Duration {
	if s.Options.SessionTTL > 0 {
		return s.Options.SessionTTL
	}
	return DefaultSessionTTL
}

// kubernetesLogin checks the posted Kubernetes token with a TokenReview; a
// valid one starts a session kept on the server (the cookie holds its random
// id, never the token).
func (s *Server) kubernetesLogin(w http.ResponseWriter, req *http.Request, next string) {
	u, err := s.reviewToken(req.Context(), strings.TrimSpace(req.PostFormValue("token")))
	if err != nil {
		log.FromContext(req.Context()).Error(err, "dashboard login")
		s.loginPage(w, req, http.StatusUnauthorized, next, "The dashboard cannot review tokens; see the manager's log.")
		return
	}
	if u == nil {
		s.loginPage(w, req, http.StatusUnauthorized, next, "The management cluster does not accept this token.")
		return
	}
	ttl := s.sessionTTL()
	id, err := s.sessions.add(u, time.Now().Add(ttl))
	if err != nil {
		log.FromContext(req.Context()).Error(err, "dashboard login")
		http.Error(w, "cannot start a session", http.StatusInternalServerError)
		return
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: id, Path: "/",
		MaxAge: int(ttl.Seconds()), HttpOnly: true, Secure: req.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, req, next, http.StatusSeeOther)
}

// logout forgets the session cookie.
func (s *Server) logout(w http.ResponseWriter, req *http.Request) {
	if cookie, _ := req.Cookie(SessionCookie); cookie != nil && s.Options.Auth == AuthKubernetes {
		s.sessions.remove(cookie.Value)
	}
	http.SetCookie(w, &http.Cookie{Name: SessionCookie, Value: "", Path: "/", MaxAge: -1, HttpOnly: true,
		Secure: req.TLS != nil, SameSite: http.SameSiteStrictMode})
	http.Redirect(w, req, "/login", http.StatusSeeOther)
}

// localPath is next when it is a path on this server, else /clusters.
func localPath(next string) string {
	if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") || strings.HasPrefix(next, "/\\") || next == "/login" {
		return "/clusters"
	}
	return next
}

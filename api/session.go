package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"net/http"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gin-gonic/gin"
	"github.com/onemapgis/onemap"
	"github.com/onemapgis/onemap/password"
	"github.com/onemapgis/onemap/postgis"
	"github.com/onemapgis/onemap/ratelimit"
)

// accounts is what sign-in, sessions and the audit trail need of the
// database.
type accounts interface {
	FindAccount(ctx context.Context, name string) (onemap.Account, postgis.AccountSecret, error)
	ListAccounts(ctx context.Context) ([]onemap.Account, error)
	LoginFailed(ctx context.Context, name string, maxFailures int, lockFor time.Duration, reason string) error
	CreateSession(ctx context.Context, a onemap.Account, token, csrf string, ttl time.Duration) (onemap.Session, error)
	FindSession(ctx context.Context, token string, idle time.Duration) (onemap.Session, error)
	EndSession(ctx context.Context, token string, all bool) error
	Audit(ctx context.Context, action, target string, detail any) error
	ListAudit(ctx context.Context, f postgis.AuditFilter) ([]onemap.AuditRecord, error)
	VerifyAudit(ctx context.Context) (postgis.AuditCheck, error)
	ReadHouseholdDetails(ctx context.Context, id int64, purpose string) (postgis.HouseholdDetails, error)
}

// SessionConfig configures sign-in and sessions.
type SessionConfig struct {
	TTL         time.Duration // a session ends this long after sign-in; default 12 h
	Idle        time.Duration // or after this long unused; default 2 h
	SecureOnly  bool          // cookies only over HTTPS, also when TLS ends at a proxy
	MaxFailures int           // failed sign-ins in a row that lock an account; default 5
	LockFor     time.Duration // how long; default 15 min
	// PerClient bounds failed sign-ins per client address: a burst of
	// Burst, then one per Every (a whole office behind one address signs in
	// freely; guessing from it does not). Defaults: 20 and 3 s.
	PerClientBurst int
	PerClientEvery time.Duration
}

func (c *SessionConfig) defaults() {
	if c.TTL == 0 {
		c.TTL = 12 * time.Hour
	}
	if c.Idle == 0 {
		c.Idle = 2 * time.Hour
	}
	if c.MaxFailures == 0 {
		c.MaxFailures = 5
	}
	if c.LockFor == 0 {
		c.LockFor = 15 * time.Minute
	}
	if c.PerClientBurst == 0 {
		c.PerClientBurst = 20
	}
	if c.PerClientEvery == 0 {
		c.PerClientEvery = 3 * time.Second
	}
}

// sessionCookie names the cookie that holds a session's token.
const sessionCookie = "onemap_session"

// csrfHeader is the header in which the page echoes its session's CSRF token
// on every request that changes something.
const csrfHeader = "X-CSRF-Token"

// callerKey and sessionKey are where withCaller keeps the caller and the
// session token.
const (
	callerKey  = "onemap.caller"
	sessionKey = "onemap.session"
)

// sessionCacheTTL is how long a server trusts a session it has looked up:
// a sign-out elsewhere, a disabled account or a changed role takes effect
// on every server within this time.
const sessionCacheTTL = 5 * time.Second

// sessions remembers sessions looked up in the last few seconds, so that a
// page's many tile requests do not each ask the database, and counts failed
// sign-ins per client.
type sessions struct {
	mu      sync.Mutex
	entries map[[32]byte]sessionEntry
	failed  *ratelimit.Limiter // failed sign-ins per client address
	hashing chan struct{}      // bounds concurrent argon2id work (19 MiB each)
}

type sessionEntry struct {
	s     onemap.Session
	until time.Time
}

func newSessions(cfg SessionConfig) *sessions {
	return &sessions{entries: map[[32]byte]sessionEntry{},
		failed:  ratelimit.New(1/cfg.PerClientEvery.Seconds(), cfg.PerClientBurst, 100000),
		hashing: make(chan struct{}, 2)}
}

func (ss *sessions) get(token string) (onemap.Session, bool) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.entries[k]
	if !ok || time.Now().After(e.until) || time.Now().After(e.s.ExpiresAt) {
		return onemap.Session{}, false
	}
	return e.s, true
}

// stale returns a session looked up before, however long ago, while it
// has not expired: what a server goes on trusting while the database is
// away, so that a signed-in commander keeps the map in an outage.
func (ss *sessions) stale(token string) (onemap.Session, bool) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.entries[k]
	if !ok || time.Now().After(e.s.ExpiresAt) {
		return onemap.Session{}, false
	}
	return e.s, true
}

func (ss *sessions) put(token string, s onemap.Session) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.entries) >= 10000 {
		clear(ss.entries) // bounded; the next requests ask the database again
	}
	ss.entries[k] = sessionEntry{s: s, until: time.Now().Add(sessionCacheTTL)}
}

func (ss *sessions) forget(token string) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.entries, k)
}

// randomToken returns 32 random bytes, base64url.
func randomToken() string {
	b := make([]byte, 32)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// withCaller decides who the caller is: the account of a live session
// cookie, or the anonymous role. A request that changes something under a
// session must carry the session's CSRF token and, if the browser says
// where it comes from, come from this site. Every refusal (401, 403) that
// a handler answers is recorded in the audit trail.
func (s *Server) withCaller() gin.HandlerFunc {
	return func(c *gin.Context) {
		caller := onemap.Caller{Role: s.cfg.AnonymousRole, Client: c.ClientIP()}
		var sess *onemap.Session
		if tok, err := c.Cookie(sessionCookie); err == nil && tok != "" && s.accounts != nil {
			got, err := s.lookupSession(c.Request.Context(), tok)
			switch onemap.ErrorCode(err) {
			case "":
				sess = &got
				caller = onemap.Caller{Name: got.Account.Name, Role: got.Account.Role, GridID: got.Account.GridID, Client: caller.Client}
				c.Set(sessionKey, tok)
			case onemap.EUNAUTHORIZED:
				s.clearSessionCookie(c) // expired, ended or forged: the caller is anonymous
				// A change asked under a session that has ended is refused as
				// such, not tried with the anonymous role: the caller meant to
				// act as the account (signing in and out excepted).
				if !safeMethod(c.Request.Method) && c.Request.URL.Path != sessionPath {
					writeError(c, s.log, onemap.Errorf(onemap.EUNAUTHORIZED, "your session has ended: sign in again (nothing was changed)"))
					s.auditDenied(c)
					return
				}
			default:
				writeError(c, s.log, err)
				return
			}
		}
		// What a route answers depends on who asks (its role, a viewer's
		// part): a browser must not reuse an answer cached under another
		// session, after a sign-in or sign-out. The public API answers
		// everyone alike, and proxies may share it.
		if !strings.HasPrefix(c.Request.URL.Path, "/api/public/") {
			c.Writer.Header().Add("Vary", "Cookie")
		}
		c.Set(callerKey, caller)
		c.Request = c.Request.WithContext(onemap.NewContext(c.Request.Context(), caller))
		if !safeMethod(c.Request.Method) {
			if err := s.checkCrossSite(c, sess); err != nil {
				writeError(c, s.log, err)
				s.auditDenied(c)
				return
			}
		}
		c.Next()
		s.auditDenied(c)
	}
}

// sessionPath is the route of signing in and out.
const sessionPath = "/api/session"

// deniedKey marks a request whose refusal is recorded already.
const deniedKey = "onemap.denied"

// auditDenied records a refused request (401 or 403) once.
func (s *Server) auditDenied(c *gin.Context) {
	st := c.Writer.Status()
	if st != http.StatusUnauthorized && st != http.StatusForbidden {
		return
	}
	if _, done := c.Get(deniedKey); done {
		return
	}
	c.Set(deniedKey, true)
	// A caller's first refusal in a period is recorded now; the rest are
	// counted into one record when the period ends (denials.go).
	if !s.denials.note(context.WithoutCancel(c.Request.Context()), callerOf(c), c.Request.Method, c.Request.URL.Path, st) {
		return
	}
	s.audit(c, onemap.AuditDenied, c.Request.URL.Path, map[string]any{"method": c.Request.Method, "status": st})
}

func safeMethod(m string) bool {
	return m == http.MethodGet || m == http.MethodHead || m == http.MethodOptions
}

// checkCrossSite refuses a request that changes something when the browser
// says it comes from another site, and, under a session, when it does not
// echo the session's CSRF token.
func (s *Server) checkCrossSite(c *gin.Context, sess *onemap.Session) error {
	if site := c.GetHeader("Sec-Fetch-Site"); site != "" && site != "same-origin" && site != "none" {
		return onemap.Errorf(onemap.EFORBIDDEN, "cross-site request refused")
	}
	if origin := c.GetHeader("Origin"); origin != "" {
		u, err := url.Parse(origin)
		public, _ := url.Parse(s.cfg.PublicURL) // the address clients use, behind a proxy that changes Host
		if err != nil || u.Host != c.Request.Host && (public == nil || public.Host == "" || u.Host != public.Host) {
			return onemap.Errorf(onemap.EFORBIDDEN, "cross-site request refused")
		}
	}
	if sess == nil {
		return nil
	}
	got := c.GetHeader(csrfHeader)
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(sess.CSRF)) != 1 {
		return onemap.Errorf(onemap.EFORBIDDEN, "missing or wrong %s header: send the csrf value of GET /api/session", csrfHeader)
	}
	return nil
}

func (s *Server) lookupSession(ctx context.Context, token string) (onemap.Session, error) {
	if len(token) > 128 {
		return onemap.Session{}, onemap.Errorf(onemap.EUNAUTHORIZED, "no such session")
	}
	if got, ok := s.sessions.get(token); ok {
		return got, nil
	}
	got, err := s.accounts.FindSession(ctx, token, s.cfg.Session.Idle)
	if err != nil {
		if onemap.ErrorCode(err) == onemap.EUNAVAILABLE {
			if old, ok := s.sessions.stale(token); ok {
				return old, nil // the database is away: the map goes on
			}
		}
		return got, err
	}
	s.sessions.put(token, got)
	return got, nil
}

// callerOf returns who makes the request.
func callerOf(c *gin.Context) onemap.Caller {
	if v, ok := c.Get(callerKey); ok {
		return v.(onemap.Caller)
	}
	return onemap.Caller{Role: onemap.RolePublic, Client: c.ClientIP()}
}

// require refuses the caller unless its role is one of roles: 401 for an
// anonymous caller (signing in may help), 403 for an account.
func require(c *gin.Context, roles ...onemap.Role) error {
	caller := callerOf(c)
	for _, r := range roles {
		if caller.Role == r {
			return nil
		}
	}
	if caller.Name == "" {
		return onemap.Errorf(onemap.EUNAUTHORIZED, "sign in first")
	}
	return onemap.Errorf(onemap.EFORBIDDEN, "not allowed for the %s role", caller.Role)
}

func (s *Server) setSessionCookie(c *gin.Context, token string, maxAge int) {
	http.SetCookie(c.Writer, &http.Cookie{
		Name: sessionCookie, Value: token, Path: "/", MaxAge: maxAge,
		HttpOnly: true, SameSite: http.SameSiteLaxMode,
		Secure: s.cfg.Session.SecureOnly || c.Request.TLS != nil,
	})
}

func (s *Server) clearSessionCookie(c *gin.Context) { s.setSessionCookie(c, "", -1) }

// sessionJSON is the answer of the session routes.
type sessionJSON struct {
	Name        string      `json:"name,omitempty"`
	DisplayName string      `json:"display_name,omitempty"`
	Role        onemap.Role `json:"role"`
	GridID      int64       `json:"grid_id,omitempty"`
	CSRF        string      `json:"csrf,omitempty"`
	ExpiresAt   *time.Time  `json:"expires_at,omitempty"`
}

func (s *Server) addSessionRoutes(r *gin.Engine) {
	r.GET(sessionPath, s.handleSessionGet)
	r.POST(sessionPath, s.handleSignIn)
	r.DELETE(sessionPath, s.handleSignOut)
	r.GET(auditPath, s.handleAuditList)
	r.GET("/api/audit/verify", s.handleAuditVerify)
	r.GET("/api/accounts", s.handleAccountsList)
	r.GET("/api/households/:id/details", s.handleHouseholdDetails)
}

func (s *Server) handleSessionGet(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	caller := callerOf(c)
	out := sessionJSON{Role: caller.Role}
	if tok, ok := c.Get(sessionKey); ok {
		sess, err := s.lookupSession(c.Request.Context(), tok.(string))
		if err == nil {
			a := sess.Account
			out = sessionJSON{Name: a.Name, DisplayName: a.DisplayName, Role: a.Role, GridID: a.GridID, CSRF: sess.CSRF, ExpiresAt: &sess.ExpiresAt}
		}
	}
	c.JSON(http.StatusOK, out)
}

// signInFailed is the one answer to every failed sign-in: it does not say
// whether the name or the password was wrong.
var signInFailed = onemap.Errorf(onemap.EUNAUTHORIZED, "wrong name or password")

func (s *Server) handleSignIn(c *gin.Context) {
	c.Header("Cache-Control", "no-store")
	if s.accounts == nil {
		writeError(c, s.log, onemap.Errorf(onemap.ENOTFOUND, "this server has no accounts"))
		return
	}
	var in struct {
		Name     string `json:"name"`
		Password string `json:"password"`
	}
	c.Request.Body = http.MaxBytesReader(c.Writer, c.Request.Body, 4096)
	if err := c.ShouldBindJSON(&in); err != nil {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, `body: want JSON {"name": "...", "password": "..."}`))
		return
	}
	if in.Name == "" || in.Password == "" {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "body: name and password are both required"))
		return
	}
	ctx := c.Request.Context()
	caller := callerOf(c)
	client, _ := netip.ParseAddr(caller.Client)
	if blocked, wait := s.sessions.failed.Blocked(client); blocked {
		c.Header("Retry-After", strconv.Itoa(int(wait.Seconds())+1))
		s.auditLog(ctx, onemap.AuditLoginFailed, "accounts/"+in.Name, map[string]any{"reason": "too many attempts from this client"})
		writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY, "too many sign-in attempts; try again later"))
		return
	}
	a, secret, err := s.accounts.FindAccount(ctx, in.Name)
	if err != nil && onemap.ErrorCode(err) != onemap.ENOTFOUND {
		writeError(c, s.log, err)
		return
	}
	// Argon2id takes time and memory: at most two at once.
	s.sessions.hashing <- struct{}{}
	hash := secret.PasswordHash
	if err != nil {
		hash = password.Dummy()
	}
	matches := password.Matches(in.Password, hash)
	<-s.sessions.hashing
	reason := ""
	switch {
	case err != nil:
		reason = "no such account"
	case time.Now().Before(secret.LockedUntil):
		s.sessions.failed.Allow(client)
		c.Header("Retry-After", strconv.Itoa(int(time.Until(secret.LockedUntil).Seconds())+1))
		s.auditLog(ctx, onemap.AuditLoginFailed, "accounts/"+in.Name, map[string]any{"reason": "account locked"})
		writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY, "too many failed sign-ins; try again later"))
		return
	case a.Disabled:
		reason = "account disabled"
	case !matches:
		reason = "wrong password"
	}
	if reason != "" {
		s.sessions.failed.Allow(client)
		if err := s.accounts.LoginFailed(ctx, in.Name, s.cfg.Session.MaxFailures, s.cfg.Session.LockFor, reason); err != nil {
			s.log.Error("record a failed sign-in", "error", err)
		}
		c.Set(deniedKey, true) // recorded as login.failed, not again as a refusal
		writeError(c, s.log, signInFailed)
		return
	}
	// A new token at every sign-in: a token planted before it (session
	// fixation) is ended, never promoted.
	if old, err := c.Cookie(sessionCookie); err == nil && old != "" {
		s.sessions.forget(old)
		_ = s.accounts.EndSession(ctx, old, false)
	}
	token := randomToken()
	sess, err := s.accounts.CreateSession(onemap.NewContext(ctx, onemap.Caller{Name: a.Name, Role: a.Role, GridID: a.GridID, Client: caller.Client}),
		a, token, randomToken(), s.cfg.Session.TTL)
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.sessions.put(token, sess)
	s.setSessionCookie(c, token, int(s.cfg.Session.TTL.Seconds()))
	c.JSON(http.StatusOK, sessionJSON{Name: a.Name, DisplayName: a.DisplayName, Role: a.Role, GridID: a.GridID, CSRF: sess.CSRF, ExpiresAt: &sess.ExpiresAt})
}

// handleSignOut ends the caller's session, or with ?all=1 every session of
// its account (sign out everywhere).
func (s *Server) handleSignOut(c *gin.Context) {
	tok, ok := c.Get(sessionKey)
	if ok {
		all := c.Query("all") == "1" || c.Query("all") == "true"
		s.sessions.forget(tok.(string))
		if err := s.accounts.EndSession(c.Request.Context(), tok.(string), all); err != nil {
			writeError(c, s.log, err)
			return
		}
	}
	s.clearSessionCookie(c)
	c.Status(http.StatusNoContent)
}

// auditLog appends to the audit trail, logging a failure (the request has
// been answered or refused already).
func (s *Server) auditLog(ctx context.Context, action, target string, detail map[string]any) {
	if s.accounts == nil {
		s.log.Info("audit", "action", action, "target", target, "detail", detail)
		return
	}
	if err := s.accounts.Audit(ctx, action, target, detail); err != nil {
		s.log.Error("audit trail: append failed", "action", action, "target", target, "error", err)
	}
}

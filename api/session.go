package api

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
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
	"github.com/onemapgis/onemap/ratelimit"
)

// accounts is what sign-in, sessions and the audit trail need of the
// database.
type accounts interface {
	FindAccount(ctx context.Context, name string) (onemap.Account, onemap.AccountSecret, error)
	ListAccounts(ctx context.Context) ([]onemap.Account, error)
	FindSignInThrottle(ctx context.Context, name, client string, forgetBefore time.Time) (onemap.SignInThrottle, error)
	KnownDevice(ctx context.Context, name string, device []byte, since time.Time) (bool, error)
	LoginFailed(ctx context.Context, name, client string, at time.Time, forget time.Duration,
		delay func(failures int) time.Duration, reason string) (onemap.SignInThrottle, error)
	StartSession(ctx context.Context, a onemap.Account, n onemap.NewSession) (onemap.Session, error)
	FindSessionAt(ctx context.Context, token string, at time.Time, idle time.Duration) (onemap.Session, error)
	EndSession(ctx context.Context, token string, all bool) error
	Audit(ctx context.Context, action, target string, detail any) error
	ListAudit(ctx context.Context, f onemap.AuditFilter) ([]onemap.AuditRecord, error)
	VerifyAudit(ctx context.Context) (onemap.AuditCheck, error)
	ReadHouseholdDetails(ctx context.Context, id int64, purpose string) (onemap.HouseholdDetails, error)
}

// SessionConfig configures sign-in and sessions. The rules they follow are
// onemap.SignInRules (TTL, Idle, MaxFailures, Delay and MaxDelay set them;
// zero takes onemap.DefaultSignInRules): failed sign-ins are throttled per
// name tried and per client, never per account alone, so that no outsider
// can lock anyone out, and a browser that has signed in to the account
// before (its known-device cookie) is counted apart from its address.
// Failures are forgotten a day after the last one, at a sign-in, or by
// `onemap user unlock`.
type SessionConfig struct {
	TTL         time.Duration // a session ends this long after sign-in; default 12 h
	Idle        time.Duration // or after this long unused; default 2 h
	SecureOnly  bool          // cookies only over HTTPS, also when TLS ends at a proxy
	MaxFailures int           // failed sign-ins in a row under a name from a client that make it wait; default 5
	Delay       time.Duration // its first wait; default 30 s
	MaxDelay    time.Duration // its longest; default 15 min
	// PerClient bounds failed sign-ins per client address whatever the
	// names: a burst of Burst, then one per Every (a whole office behind
	// one address signs in freely; guessing from it does not). Defaults: 20
	// and 3 s.
	PerClientBurst int
	PerClientEvery time.Duration
	// Now is the server's clock for sessions, sign-in throttling and the
	// event streams' checks of their sessions; nil is time.Now. Tests move
	// it by hand.
	Now func() time.Time
}

func (c *SessionConfig) defaults() {
	r := c.rules()
	c.TTL, c.Idle, c.MaxFailures, c.Delay, c.MaxDelay = r.TTL, r.Idle, r.MaxFailures, r.Delay, r.MaxDelay
	if c.PerClientBurst == 0 {
		c.PerClientBurst = 20
	}
	if c.PerClientEvery == 0 {
		c.PerClientEvery = 3 * time.Second
	}
	if c.Now == nil {
		c.Now = time.Now
	}
}

// rules returns the sign-in rules the configuration sets.
func (c *SessionConfig) rules() onemap.SignInRules {
	return onemap.SignInRules{TTL: c.TTL, Idle: c.Idle, MaxFailures: c.MaxFailures, Delay: c.Delay, MaxDelay: c.MaxDelay}.WithDefaults()
}

// sessionCookie names the cookie that holds a session's token.
const sessionCookie = "onemap_session"

// deviceCookie names the cookie that marks a browser as one that has signed
// in before: a random token, sent only to sessionPath, whose SHA-256 the
// database keeps per account it signed in to (known_devices).
const deviceCookie = "onemap_device"

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
// page's many tile requests do not each ask the database, counts failed
// sign-ins per client, and knows the open event streams of each session,
// so that a sign-out here ends them at once.
type sessions struct {
	now      func() time.Time
	rules    onemap.SignInRules
	mu       sync.Mutex
	entries  map[[32]byte]sessionEntry
	streams  map[[32]byte]map[*streamWatch]struct{} // by the SHA-256 of the session's token
	failed   *ratelimit.Limiter                     // failed sign-ins per client address
	refusals *ratelimit.Limiter                     // audit records of refused sign-ins per client address
	hashing  chan struct{}                          // bounds concurrent argon2id work (19 MiB each)
	gate     onemap.SignInGate                      // the sign-ins being checked
}

type sessionEntry struct {
	s     onemap.Session
	until time.Time
}

// streamWatch is an open event stream's hold on its session: ended is
// closed when the session ends on this server.
type streamWatch struct {
	account string
	ended   chan struct{}
}

func newSessions(cfg SessionConfig) *sessions {
	return &sessions{now: cfg.Now, rules: cfg.rules(), entries: map[[32]byte]sessionEntry{},
		streams:  map[[32]byte]map[*streamWatch]struct{}{},
		failed:   ratelimit.New(1/cfg.PerClientEvery.Seconds(), cfg.PerClientBurst, 100000).WithClock(cfg.Now),
		refusals: ratelimit.New(1.0/60, 1, 100000).WithClock(cfg.Now),
		hashing:  make(chan struct{}, 2)}
}

func (ss *sessions) get(token string) (onemap.Session, bool) {
	k := sha256.Sum256([]byte(token))
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.entries[k]
	if !ok || now.After(e.until) || now.After(e.s.ExpiresAt) {
		return onemap.Session{}, false
	}
	return e.s, true
}

// stale returns a session looked up before, however long ago, while it
// has not expired: what a server goes on trusting while the database is
// away, so that a signed-in commander keeps the map in an outage.
func (ss *sessions) stale(token string) (onemap.Session, bool) {
	k := sha256.Sum256([]byte(token))
	now := ss.now()
	ss.mu.Lock()
	defer ss.mu.Unlock()
	e, ok := ss.entries[k]
	if !ok || now.After(e.s.ExpiresAt) {
		return onemap.Session{}, false
	}
	return e.s, true
}

func (ss *sessions) put(token string, s onemap.Session) {
	k := sha256.Sum256([]byte(token))
	until := ss.now().Add(sessionCacheTTL)
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if len(ss.entries) >= 10000 {
		clear(ss.entries) // bounded; the next requests ask the database again
	}
	ss.entries[k] = sessionEntry{s: s, until: until}
}

// forget drops a session that has ended and ends its event streams.
func (ss *sessions) forget(token string) {
	k := sha256.Sum256([]byte(token))
	ss.mu.Lock()
	defer ss.mu.Unlock()
	delete(ss.entries, k)
	for w := range ss.streams[k] {
		close(w.ended)
	}
	delete(ss.streams, k)
}

// forgetAccount drops every session of the account this server knows of
// and ends their event streams (a sign-out everywhere).
func (ss *sessions) forgetAccount(name string) {
	ss.mu.Lock()
	defer ss.mu.Unlock()
	for k, e := range ss.entries {
		if e.s.Account.Name == name {
			delete(ss.entries, k)
		}
	}
	for k, ws := range ss.streams {
		for w := range ws {
			if w.account == name {
				close(w.ended)
				delete(ws, w)
			}
		}
		if len(ws) == 0 {
			delete(ss.streams, k)
		}
	}
}

// watch registers an event stream of the session of token (of the account
// named account); the stream ends when ended is closed, and calls stop
// when it ends for any reason.
func (ss *sessions) watch(token, account string) (ended <-chan struct{}, stop func()) {
	k := sha256.Sum256([]byte(token))
	w := &streamWatch{account: account, ended: make(chan struct{})}
	ss.mu.Lock()
	defer ss.mu.Unlock()
	if ss.streams[k] == nil {
		ss.streams[k] = map[*streamWatch]struct{}{}
	}
	ss.streams[k][w] = struct{}{}
	return w.ended, func() {
		ss.mu.Lock()
		defer ss.mu.Unlock()
		if ws := ss.streams[k]; ws != nil {
			if _, ok := ws[w]; ok {
				delete(ws, w)
				if len(ws) == 0 {
					delete(ss.streams, k)
				}
			}
		}
	}
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
		caller := onemap.Caller{Role: s.cfg.AnonymousRole, Client: clientOf(c)}
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
		c.Set(viewKey, s.viewFor(caller))
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
	// counted into one record when the period ends (denials.go). A path is
	// kept to its first maxDeniedPath bytes: a refusal answers before any
	// part of it is read, however long it is.
	path := c.Request.URL.Path
	if len(path) > maxDeniedPath {
		path = strings.ToValidUTF8(path[:maxDeniedPath], "") + "…"
	}
	if !s.denials.note(context.WithoutCancel(c.Request.Context()), callerOf(c), c.Request.Method, path, st) {
		return
	}
	s.audit(c, onemap.AuditDenied, path, map[string]any{"method": c.Request.Method, "status": st})
}

// maxDeniedPath bounds the path a refusal's record keeps, in bytes.
const maxDeniedPath = 256

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
	got, err := s.accounts.FindSessionAt(ctx, token, s.sessions.now(), s.sessions.rules.Idle)
	if err != nil {
		switch onemap.ErrorCode(err) {
		case onemap.EUNAVAILABLE, onemap.EREADONLY:
			if got, err := s.standbySession(ctx, token); err == nil {
				return got, nil // no primary: the standby knows the session (standby.go)
			}
			if old, ok := s.sessions.stale(token); ok {
				return old, nil // the database is away: the map goes on
			}
		case onemap.EUNAUTHORIZED:
			s.sessions.forget(token) // ended elsewhere: so are its streams here
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
	return onemap.Caller{Role: onemap.RolePublic, Client: clientOf(c)}
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

// signInThrottled is the answer to a client that must wait before it tries
// a name again: the same for every name, an account's or not.
var signInThrottled = onemap.Errorf(onemap.ETOOMANY, "too many failed sign-ins; try again later")

// retryAfter sets the Retry-After header to wait, in whole seconds rounded up.
func retryAfter(c *gin.Context, wait time.Duration) {
	c.Header("Retry-After", strconv.FormatInt(int64((wait+time.Second-1)/time.Second), 10))
}

// handleSignIn signs a caller in. Every name, an account's or not, gets
// the same answers in the same order and about the same time: 401 for a
// failure, 429 with Retry-After while its client waits (SessionConfig).
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
	if err := decodeJSON(c, &in, jsonBody{Limit: 4096, Want: `{"name": "...", "password": "..."}`}); err != nil {
		writeError(c, s.log, err)
		return
	}
	if in.Name == "" || in.Password == "" {
		writeError(c, s.log, onemap.Errorf(onemap.EINVALID, "body: name and password are both required"))
		return
	}
	if !onemap.ValidAccountName(in.Name) {
		writeError(c, s.log, onemap.FieldErrorf("name", onemap.EINVALID,
			"name: an account name is 1 to 64 letters (A–Z, a–z), digits or _ . @ -"))
		return
	}
	ctx := c.Request.Context()
	caller := callerOf(c)
	client, _ := netip.ParseAddr(caller.Client)
	now := s.sessions.now()
	rules := s.sessions.rules
	// The client is its address, or, for a browser that has signed in to
	// this account before, its known-device cookie (onemap.SignInClient).
	who := onemap.SignInClient{Addr: ratelimit.Key(client).String()}
	var device []byte
	if tok, err := c.Cookie(deviceCookie); err == nil && tok != "" && len(tok) <= 128 {
		h := sha256.Sum256([]byte(tok))
		device = h[:]
		known, err := s.accounts.KnownDevice(ctx, in.Name, device, now.Add(-onemap.KnownDeviceTTL))
		if err != nil {
			writeError(c, s.log, err)
			return
		}
		if known {
			who.Device = hex.EncodeToString(h[:16])
		}
	}
	if !s.sessions.gate.Enter(in.Name, who) {
		retryAfter(c, time.Second)
		s.auditRefusal(ctx, client, in.Name, map[string]any{"reason": "a sign-in from this client is under way"})
		writeError(c, s.log, signInThrottled)
		return
	}
	defer s.sessions.gate.Leave(in.Name, who)
	if blocked, wait := s.sessions.failed.Blocked(client); blocked && !who.Known() {
		retryAfter(c, wait)
		s.auditRefusal(ctx, client, in.Name, map[string]any{"reason": "too many attempts from this client"})
		writeError(c, s.log, onemap.Errorf(onemap.ETOOMANY, "too many sign-in attempts; try again later"))
		return
	}
	th, err := s.accounts.FindSignInThrottle(ctx, in.Name, who.Key(), rules.ForgetBefore(now))
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	if wait := rules.Wait(th.BlockedUntil, now); wait > 0 {
		retryAfter(c, wait)
		s.auditRefusal(ctx, client, in.Name, map[string]any{"reason": "client waits", "failures": th.Failures})
		writeError(c, s.log, signInThrottled)
		return
	}
	a, secret, err := s.accounts.FindAccount(ctx, in.Name)
	if err != nil && onemap.ErrorCode(err) != onemap.ENOTFOUND {
		writeError(c, s.log, err)
		return
	}
	// Argon2id takes time and memory: at most two at once. A name that no
	// account has is checked against a dummy hash, so it takes as long.
	select {
	case s.sessions.hashing <- struct{}{}:
	case <-ctx.Done():
		writeError(c, s.log, onemap.Errorf(onemap.EUNAVAILABLE, "the server is busy: try again"))
		return
	}
	hash := secret.PasswordHash
	if err != nil {
		hash = password.Dummy()
	}
	matches := password.Matches(in.Password, hash)
	<-s.sessions.hashing
	if reason := onemap.SignInFailure(err == nil, a, matches); reason != "" {
		s.sessions.failed.Allow(client)
		now = s.sessions.now() // after the wait for the hashing: the delay runs from the failure
		if _, err := s.accounts.LoginFailed(ctx, in.Name, who.Key(), now, rules.Memory, rules.DelayAfter, reason); err != nil {
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
	// The browser is known to this account from now on: it keeps its
	// device token, or gets one.
	deviceToken := ""
	if device == nil {
		deviceToken = randomToken()
		h := sha256.Sum256([]byte(deviceToken))
		device = h[:]
	}
	token := randomToken()
	sess, err := s.accounts.StartSession(onemap.NewContext(ctx, onemap.Caller{Name: a.Name, Role: a.Role, GridID: a.GridID, Client: caller.Client}),
		a, onemap.NewSession{Token: token, CSRF: randomToken(), At: now, TTL: rules.TTL,
			Client: who.Key(), Device: device})
	if err != nil {
		writeError(c, s.log, err)
		return
	}
	s.sessions.put(token, sess)
	s.setSessionCookie(c, token, int(rules.TTL.Seconds()))
	if deviceToken != "" {
		http.SetCookie(c.Writer, &http.Cookie{
			Name: deviceCookie, Value: deviceToken, Path: sessionPath, MaxAge: int(onemap.KnownDeviceTTL.Seconds()),
			HttpOnly: true, SameSite: http.SameSiteStrictMode,
			Secure: s.cfg.Session.SecureOnly || c.Request.TLS != nil,
		})
	}
	c.JSON(http.StatusOK, sessionJSON{Name: a.Name, DisplayName: a.DisplayName, Role: a.Role, GridID: a.GridID, CSRF: sess.CSRF, ExpiresAt: &sess.ExpiresAt})
}

// auditRefusal records a sign-in refused without trying it (429) as
// login.failed, at most once a minute per client: the failures that made
// the client wait are each recorded already, and a client hammering on must
// not flood the trail.
func (s *Server) auditRefusal(ctx context.Context, client netip.Addr, name string, detail map[string]any) {
	if ok, _ := s.sessions.refusals.Allow(client); ok {
		detail["unrecorded"] = "further refusals of this client within a minute"
		s.auditLog(ctx, onemap.AuditLoginFailed, "accounts/"+name, detail)
	}
}

// handleSignOut ends the caller's session, or with ?all=1 every session of
// its account (sign out everywhere).
func (s *Server) handleSignOut(c *gin.Context) {
	tok, ok := c.Get(sessionKey)
	if ok {
		all := c.Query("all") == "1" || c.Query("all") == "true"
		s.sessions.forget(tok.(string)) // and its event streams, at once
		if all {
			s.sessions.forgetAccount(callerOf(c).Name)
		}
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

package main

import (
	"context"
	"crypto/rand"
	"crypto/subtle"
	"embed"
	"encoding/base64"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/mail"
	"strings"
	"sync"
	"time"

	"github.com/emailflow/emailflow"
	"github.com/emailflow/emailflow/interaction"
	"github.com/emailflow/emailflow/label"
	"github.com/emailflow/emailflow/qa"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// contentSecurityPolicy allows the desk's own script and style only: no
// inline script runs, whatever a page holds. The sandboxed frames that
// show mail inherit it.
const contentSecurityPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; " +
	"frame-src 'self'; object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

// Errors of the desk itself (the Workspace's come from the SDK).
var (
	errCSRF   = errors.New("the form's CSRF token is missing or wrong")
	errUpload = errors.New("the uploaded file could not be read")
)

// server is the desk's HTTP layer: it calls the Workspace through ops.
type server struct {
	ops   ops
	pages map[string]*template.Template
	log   *slog.Logger
	// done ends the event streams when the desk stops.
	done <-chan struct{}

	mu       sync.Mutex
	sessions map[string]*session
}

// session is one browser: its CSRF token, who logged in, the language and
// a message to show on the next page.
type session struct {
	csrf  string
	agent string
	lang  lang
	flash string
	// flashDetail is the SDK's own words about a refusal, shown small.
	flashDetail string
}

// newServer returns the desk's handler on d.
func newServer(ctx context.Context, d *demo, log *slog.Logger) (*server, error) {
	s := &server{ops: ops{ws: d.ws}, log: log, done: ctx.Done(), sessions: map[string]*session{}, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{
		"addrs":   formatAddresses,
		"one":     func(a mail.Address) []mail.Address { return []mail.Address{a} },
		"when":    func(t time.Time) string { return t.Local().Format("02/01/2006 15:04") },
		"join":    strings.Join,
		"kb":      func(n int64) int64 { return (n + 1023) / 1024 },
		"safeDoc": sanitize,
		"isOpen":  func(s interaction.State) bool { return s.Open() },
	}
	names, err := fs.Glob(templateFiles, "templates/*.html")
	if err != nil {
		return nil, err
	}
	for _, name := range names {
		if strings.HasSuffix(name, "/layout.html") {
			continue
		}
		t, err := template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html", name)
		if err != nil {
			return nil, err
		}
		s.pages[strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")] = t
	}
	return s, nil
}

// formatAddresses writes addresses as a user types them, names unencoded.
func formatAddresses(as []mail.Address) string {
	out := make([]string, len(as))
	for i, a := range as {
		if a.Name == "" {
			out[i] = a.Address
			continue
		}
		out[i] = `"` + strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(a.Name) + `" <` + a.Address + ">"
	}
	return strings.Join(out, ", ")
}

// parseAddresses reads what formatAddresses writes (and what users type).
func parseAddresses(field, s string) ([]mail.Address, error) {
	if strings.TrimSpace(s) == "" {
		return nil, nil
	}
	list, err := mail.ParseAddressList(s)
	if err != nil {
		return nil, fmt.Errorf("%w: %s: %q is not a list of addresses", emailflow.ErrInvalidInput, field, s)
	}
	out := make([]mail.Address, len(list))
	for i, a := range list {
		out[i] = *a
	}
	return out, nil
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:])
	return base64.RawURLEncoding.EncodeToString(b[:])
}

const cookieName = "desk"

// session returns the browser's session, starting one (with its cookie)
// for a new browser.
func (s *server) session(w http.ResponseWriter, r *http.Request) *session {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c, err := r.Cookie(cookieName); err == nil {
		if ss, ok := s.sessions[c.Value]; ok {
			return ss
		}
	}
	id := randomToken()
	ss := &session{csrf: randomToken(), lang: french}
	s.sessions[id] = ss
	http.SetCookie(w, &http.Cookie{Name: cookieName, Value: id, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	return ss
}

// snapshot reads a session's fields under the lock.
func (s *server) snapshot(ss *session) session {
	s.mu.Lock()
	defer s.mu.Unlock()
	return *ss
}

func (s *server) setFlash(ss *session, err error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := catalogues[ss.lang]
	ss.flash, ss.flashDetail = c.T(errKey(err)), errDetail(err)
}

func (s *server) takeFlash(ss *session) (string, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	f, d := ss.flash, ss.flashDetail
	ss.flash, ss.flashDetail = "", ""
	return f, d
}

// checkCSRF compares the form's token with the session's.
func (s *server) checkCSRF(r *http.Request, ss *session) error {
	got := r.PostFormValue("csrf")
	want := s.snapshot(ss).csrf
	if got == "" || subtle.ConstantTimeCompare([]byte(got), []byte(want)) != 1 {
		return errCSRF
	}
	return nil
}

// page is what every template gets.
type page struct {
	L           catalogue
	Labels      *label.Catalogue
	Lang        lang
	CSRF        string
	Me          *emailflow.Agent
	Flash       string
	FlashDetail string
	Title       string
	Data        any
}

// T returns the word for key in the page's language.
func (p *page) T(key string) string { return p.L.T(key) }

// State returns the label of an interaction state.
func (p *page) State(st interaction.State) string { return p.Labels.State(st) }

// Reason returns the label of a reject reason code.
func (p *page) Reason(code string) string { return p.Labels.Reason(code) }

// QAStatus returns the label of a value of the case data key CaseQAStatus:
// the email is in review, or the review's decision.
func (p *page) QAStatus(status string) string {
	if status == qa.StatusInReview {
		return p.Labels.State(interaction.StateInReview)
	}
	return p.Labels.Decision(interaction.Decision(status))
}

// Workbin returns the name of workbin bin: a personal workbin's label, a
// team workbin's own name.
func (p *page) Workbin(bin string) string {
	if s, ok := p.L["workbin."+bin]; ok {
		return s
	}
	return bin
}

// Kind returns the label of an interaction kind.
func (p *page) Kind(k interaction.Kind) string { return p.L.T("kind." + string(k)) }

// row is one interaction in a list.
type row struct {
	P  *page
	It *interaction.Interaction
}

// Row returns what the "row" template shows of it.
func (p *page) Row(it *interaction.Interaction) row { return row{P: p, It: it} }

// act is one button of the interaction window: a form posting action.
type act struct {
	ID, Action, Label, CSRF string
}

// Act returns the button for action on the window's interaction.
func (p *page) Act(action, labelKey string) act {
	d, _ := p.Data.(*windowData)
	a := act{Action: action, Label: p.T(labelKey), CSRF: p.CSRF}
	if d != nil {
		a.ID = d.It.ID
	}
	return a
}

// securityHeaders are set on every answer.
func securityHeaders(h http.Header) {
	h.Set("Content-Security-Policy", contentSecurityPolicy)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Referrer-Policy", "no-referrer")
	h.Set("X-Frame-Options", "DENY")
}

// render writes page name with status.
func (s *server) render(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent, status int, name, title string, data any) {
	snap := s.snapshot(ss)
	flash, detail := s.takeFlash(ss)
	p := &page{L: catalogues[snap.lang], Labels: labelsFor[snap.lang], Lang: snap.lang, CSRF: snap.csrf, Me: me, Flash: flash, FlashDetail: detail, Data: data}
	p.Title = p.T(title)
	t, ok := s.pages[name]
	if !ok {
		http.Error(w, "no such page", http.StatusInternalServerError)
		return
	}
	var b strings.Builder
	if err := t.Execute(&b, p); err != nil {
		s.log.Error("rendering", "page", name, "err", err)
		http.Error(w, p.T("err.other"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write([]byte(b.String()))
}

// fail shows err as a sentence on page "error", with the status its kind
// deserves: what a page cannot show when its own read fails.
func (s *server) fail(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent, err error) {
	s.setFlash(ss, err)
	s.render(w, r, ss, me, statusOf(err), "error", "desk", nil)
}

// statusOf maps an error to an HTTP status.
func statusOf(err error) int {
	switch {
	case errors.Is(err, errCSRF), errors.Is(err, emailflow.ErrForbidden):
		return http.StatusForbidden
	case errors.Is(err, emailflow.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, emailflow.ErrInvalidTransition), errors.Is(err, emailflow.ErrConflict), errors.Is(err, emailflow.ErrUnavailable):
		return http.StatusConflict
	case errors.Is(err, emailflow.ErrTooLarge):
		return http.StatusRequestEntityTooLarge
	case errors.Is(err, emailflow.ErrInvalidInput), errors.Is(err, errUpload):
		return http.StatusUnprocessableEntity
	}
	return http.StatusInternalServerError
}

// Handler returns the desk's routes.
func (s *server) Handler() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(staticFiles, "static")
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", s.home)
	mux.HandleFunc("GET /login", s.loginPage)
	mux.HandleFunc("POST /login", s.login)
	mux.HandleFunc("POST /logout", s.form(s.logout))
	mux.HandleFunc("POST /lang", s.form(s.setLang))
	mux.HandleFunc("GET /inbox", s.agentPage(s.inboxPage))
	mux.HandleFunc("GET /inbox/live", s.agentPage(s.inboxLive))
	mux.HandleFunc("POST /status", s.action(s.setStatus))
	mux.HandleFunc("GET /events", s.agentPage(s.events))
	mux.HandleFunc("GET /i/{id}", s.agentPage(s.windowPage))
	mux.HandleFunc("GET /i/{id}/transfer", s.agentPage(s.dialogPage("transfer")))
	mux.HandleFunc("GET /i/{id}/consult", s.agentPage(s.dialogPage("consult")))
	mux.HandleFunc("GET /i/{id}/forward", s.agentPage(s.dialogPage("forward")))
	mux.HandleFunc("GET /i/{id}/att/{email}/{att}", s.agentPage(s.download))
	mux.HandleFunc("POST /i/{id}/{action}", s.action(s.interactionAction))
	mux.HandleFunc("GET /contacts", s.agentPage(s.contactsPage))
	mux.HandleFunc("POST /contacts/{contact}/email", s.action(s.newEmail))
	mux.HandleFunc("GET /queues", s.agentPage(s.queuesPage))
	mux.HandleFunc("GET /quarantine", s.agentPage(s.quarantinePage))
	mux.HandleFunc("POST /quarantine/{id}/release", s.action(s.releaseAction))
	mux.HandleFunc("GET /review", s.agentPage(s.reviewsPage))
	mux.HandleFunc("GET /review/{id}", s.agentPage(s.reviewPage))
	mux.HandleFunc("POST /review/pull", s.action(s.pullReview))
	mux.HandleFunc("POST /review/{id}/{action}", s.action(s.reviewAction))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		securityHeaders(w.Header())
		mux.ServeHTTP(w, r)
	})
}

// form wraps a POST handler of the session (logged in or not): it checks
// the CSRF token first.
func (s *server) form(h func(w http.ResponseWriter, r *http.Request, ss *session)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.session(w, r)
		if err := s.checkCSRF(r, ss); err != nil {
			s.fail(w, r, ss, nil, err)
			return
		}
		h(w, r, ss)
	}
}

// me returns the logged-in agent, or nil.
func (s *server) me(r *http.Request, ss *session) *emailflow.Agent {
	id := s.snapshot(ss).agent
	if id == "" {
		return nil
	}
	a, err := s.ops.agent(r.Context(), id)
	if err != nil {
		return nil
	}
	return a
}

// agentPage wraps a GET handler for a logged-in agent; others go to the
// login page.
func (s *server) agentPage(h func(w http.ResponseWriter, r *http.Request, ss *session, me *emailflow.Agent)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.session(w, r)
		me := s.me(r, ss)
		if me == nil {
			http.Redirect(w, r, "/login", http.StatusSeeOther)
			return
		}
		h(w, r, ss, me)
	}
}

// action wraps a POST action of a logged-in agent: CSRF first, then the
// action, then a redirect to the page it names (Post/Redirect/Get). A
// refusal is shown as a sentence on the page the form came from.
func (s *server) action(h func(r *http.Request, me *emailflow.Agent) (string, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		ss := s.session(w, r)
		me := s.me(r, ss)
		if me == nil {
			s.fail(w, r, ss, nil, fmt.Errorf("%w: not logged in", emailflow.ErrForbidden))
			return
		}
		if err := parseForm(w, r); err != nil {
			s.fail(w, r, ss, me, err)
			return
		}
		if err := s.checkCSRF(r, ss); err != nil {
			s.fail(w, r, ss, me, err)
			return
		}
		next, err := h(r, me)
		if err != nil {
			s.setFlash(ss, err)
			next = r.PostFormValue("back")
			if !strings.HasPrefix(next, "/") || strings.HasPrefix(next, "//") {
				next = "/inbox"
			}
		}
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

// parseForm reads a posted form, an upload included, within maxUpload.
func parseForm(w http.ResponseWriter, r *http.Request) error {
	r.Body = http.MaxBytesReader(w, r.Body, maxUpload)
	var err error
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		err = r.ParseMultipartForm(1 << 20)
	} else {
		err = r.ParseForm()
	}
	var tooLarge *http.MaxBytesError
	switch {
	case errors.As(err, &tooLarge):
		return fmt.Errorf("%w: the form is over %d MiB", emailflow.ErrTooLarge, maxUpload>>20)
	case err != nil:
		return fmt.Errorf("%w: %v", errUpload, err)
	}
	return nil
}

func (s *server) home(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if s.me(r, ss) == nil {
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, "/inbox", http.StatusSeeOther)
}

func (s *server) loginPage(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	s.render(w, r, ss, nil, http.StatusOK, "login", "desk", demoAgents)
}

func (s *server) login(w http.ResponseWriter, r *http.Request) {
	ss := s.session(w, r)
	if err := s.checkCSRF(r, ss); err != nil {
		s.fail(w, r, ss, nil, err)
		return
	}
	id := r.PostFormValue("agent")
	if _, err := s.ops.agent(r.Context(), id); err != nil {
		s.setFlash(ss, err)
		http.Redirect(w, r, "/login", http.StatusSeeOther)
		return
	}
	s.mu.Lock()
	ss.agent = id
	s.mu.Unlock()
	next := "/inbox"
	switch id {
	case "rita":
		next = "/review"
	case "sophie":
		next = "/queues"
	}
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (s *server) logout(w http.ResponseWriter, r *http.Request, ss *session) {
	s.mu.Lock()
	ss.agent = ""
	s.mu.Unlock()
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *server) setLang(w http.ResponseWriter, r *http.Request, ss *session) {
	s.mu.Lock()
	ss.lang = parseLang(r.PostFormValue("lang"))
	s.mu.Unlock()
	back := r.PostFormValue("back")
	if !strings.HasPrefix(back, "/") || strings.HasPrefix(back, "//") {
		back = "/"
	}
	http.Redirect(w, r, back, http.StatusSeeOther)
}
